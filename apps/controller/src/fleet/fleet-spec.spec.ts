import { join } from 'node:path';
import { FleetError } from './fleet-error';
import { loadFleetSpec, parseFleetSpec, specForRig } from './fleet-spec';

function problem(raw: unknown): FleetError {
  try {
    parseFleetSpec(raw, 'fleet.yaml');
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error('expected a FleetError');
}

describe('fleet spec', () => {
  const pools = [{ url: 'stratum+tcp://a:3333', user: 'w' }, { url: 'stratum+tcp://b:3333', user: 'w' }];

  it('gives a rig the spec of the first group that matches it', () => {
    const fleet = parseFleetSpec({ groups: [
      { name: 'exact', match: { rigIds: ['r-1'] }, pools },
      { name: 'prefix', match: { rigIdPrefix: 'r-' }, pools: [pools[1]], expectedHashrateHs: 5 },
    ] }, 'fleet.yaml');
    expect(specForRig(fleet, 'r-1')!.group).toBe('exact');
    expect(specForRig(fleet, 'r-2')).toMatchObject({ rigId: 'r-2', group: 'prefix', kind: 'asic', expectedHashrateHs: 5 });
    expect(specForRig(fleet, 'x-1')).toBeUndefined();
  });

  it.each([
    ['an unknown top-level key', { grups: [] }, /grups: unknown key/],
    ['a group without a match', { groups: [{ name: 'g', pools }] }, /groups\[0\]\.match: needs rigIds or rigIdPrefix/],
    ['a pool without a url', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pools: [{ user: 'w' }] }] }, /groups\[0\]\.pools\[0\]\.url: is required/],
    ['a repeated pool', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pools: [pools[0], pools[0]] }] }, /groups\[0\]\.pools\[1\]/],
    ['an unknown policy section', { policy: { failovr: {} } }, /policy\.failovr/],
    ['a misspelt group key', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pool: pools }] }, /groups\[0\]\.pool: unknown key/],
  ])('refuses %s, naming the key path', (_label, raw, message) => {
    expect(problem(raw).message).toMatch(message);
  });

  it('accepts the committed sample', () => {
    const fleet = loadFleetSpec(join(__dirname, '../../../../fleet.sample.yaml'));
    expect(fleet.groups.map((g) => g.name)).toEqual(['s19-row1', 'demo']);
  });
});
