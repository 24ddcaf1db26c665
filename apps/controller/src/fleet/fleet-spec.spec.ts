import { join } from 'node:path';
import { FleetError } from './fleet-error';
import { groupForRig, loadFleetSpec, parseFleetSpec, parseFleetYaml, specForRig } from './fleet-spec';

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
    ['a group without a match', { groups: [{ name: 'g', pools }] }, /groups\[0\]\.match: needs rigIds, rigIdPrefix or labels/],
    ['an empty label value', { groups: [{ name: 'g', match: { labels: { row: '' } } }] }, /groups\[0\]\.match\.labels\.row: must be a non-empty string/],
    ['an unknown match key', { groups: [{ name: 'g', match: { model: 'S19' } }] }, /groups\[0\]\.match\.model: unknown key/],
    ['two groups with one name', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' } }, { name: 'g', match: { rigIdPrefix: 'b' } }] }, /groups\[1\]\.name: "g" repeats groups\[0\]\.name/],
    ['an unknown kind', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, kind: 'fpga' }] }, /groups\[0\]\.kind: must be asic or gpu/],
    ['a profile without a name', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, profiles: [{ asic: { workMode: 1 } }] }] }, /groups\[0\]\.profiles\[0\]\.name: is required/],
    ['a misspelt asic setting', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, profiles: [{ name: 'eco', asic: { workmode: 1 } }] }] }, /groups\[0\]\.profiles\[0\]\.asic\.workmode: unknown key/],
    ['a desired profile the group lacks', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, profiles: [{ name: 'eco' }], desiredProfile: 'turbo' }] }, /groups\[0\]\.desiredProfile: "turbo" is not one of the profiles \(eco\)/],
    ['a model desired profile its profiles lack', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, models: { 'S19j Pro': { profiles: [{ name: 'low' }], desiredProfile: 'high' } } }] }, /groups\[0\]\.models\[S19j Pro\]\.desiredProfile: "high" is not one of the profiles \(low\)/],
    ['a repeated model profile', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, models: { S19: { profiles: [{ name: 'x' }, { name: 'x' }] } } }] }, /groups\[0\]\.models\[S19\]\.profiles\[1\]\.name: repeats profiles\[0\]/],
    ['an unknown model key', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, models: { S19: { pools: [] } } }] }, /groups\[0\]\.models\[S19\]\.pools: unknown key/],
    ['an expected hashrate as text', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, expectedHashrateHs: '110T' }] }, /groups\[0\]\.expectedHashrateHs: must be a number/],
    ['a misspelt pool key', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pools: [{ url: 'stratum+tcp://a:1', usr: 'w' }] }] }, /groups\[0\]\.pools\[0\]\.usr: unknown key/],
    ['a group policy with a wrong type', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, policy: { thermal: { highC: 'hot' } } }] }, /groups\[0\]\.policy\.thermal\.highC: must be a number/],
    ['a pool without a url', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pools: [{ user: 'w' }] }] }, /groups\[0\]\.pools\[0\]\.url: is required/],
    ['a repeated pool', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pools: [pools[0], pools[0]] }] }, /groups\[0\]\.pools\[1\]/],
    ['an unknown policy section', { policy: { failovr: {} } }, /policy\.failovr/],
    ['a misspelt group key', { groups: [{ name: 'g', match: { rigIdPrefix: 'a' }, pool: pools }] }, /groups\[0\]\.pool: unknown key/],
  ])('refuses %s, naming the key path', (_label, raw, message) => {
    expect(problem(raw).message).toMatch(message);
  });

  it('accepts the committed sample', () => {
    const fleet = loadFleetSpec(join(__dirname, '../../../../fleet.sample.yaml'));
    expect(fleet.groups.map((g) => g.name)).toEqual(['s19-row1', 'gpu-labelled', 'demo']);
    expect(specForRig(fleet, { rigId: 'sim-001' })!.group).toBe('demo');
  });

  it('reports YAML syntax errors with the source', () => {
    expect(() => parseFleetYaml('groups: [\n', 'fleet_yaml')).toThrow(/^fleet_yaml: \(top level\): not valid YAML/);
  });

  describe('selecting rigs by labels', () => {
    const fleet = parseFleetSpec({ groups: [
      { name: 'row1-s19', match: { labels: { row: 1, model: 'S19' } }, pools },
      { name: 'ids-and-site', match: { rigIdPrefix: 'r-', labels: { site: 'b' } }, pools },
      { name: 'ids', match: { rigIdPrefix: 'r-' }, pools },
    ] }, 'fleet.yaml');
    it.each([
      ['every label equal', { rigId: 'x', labels: { row: '1', model: 'S19', site: 'a' } }, 'row1-s19'],
      ['one label different', { rigId: 'x', labels: { row: '2', model: 'S19' } }, undefined],
      ['a label missing', { rigId: 'x', labels: { row: '1' } }, undefined],
      ['id prefix and label both fit', { rigId: 'r-1', labels: { site: 'b' } }, 'ids-and-site'],
      ['id prefix fits, label does not: the next group', { rigId: 'r-1', labels: { site: 'a' } }, 'ids'],
      ['no labels at all', { rigId: 'r-2' }, 'ids'],
    ])('%s', (_label, rig, group) => {
      expect(groupForRig(fleet, rig)?.name).toBe(group);
      expect(specForRig(fleet, rig)?.group).toBe(group);
    });
  });

  describe('per-model profiles', () => {
    const fleet = parseFleetSpec({ groups: [{
      name: 'g', match: { rigIdPrefix: 'r-' }, pools, expectedHashrateHs: 100,
      profiles: [{ name: 'eco' }, { name: 'normal' }], desiredProfile: 'normal',
      models: {
        'S19': { expectedHashrateHs: 95e12 },
        'S19j Pro': { profiles: [{ name: 'low', asic: { workMode: 0 } }, { name: 'high', asic: { frequencyMhz: 600 } }], desiredProfile: 'low', expectedHashrateHs: 104e12 },
      },
    }] }, 'fleet.yaml');
    it.each([
      ['the model label picks the longest matching key', { rigId: 'r-1', labels: { model: 'Antminer S19j Pro' } }, ['low', 'high'], 'low', 104e12],
      ['the reported model when there is no label', { rigId: 'r-1', model: 'antminer s19j pro' }, ['low', 'high'], 'low', 104e12],
      ['the label wins over the reported model', { rigId: 'r-1', labels: { model: 'S19' }, model: 'S19j Pro' }, ['eco', 'normal'], 'normal', 95e12],
      ['an unknown model keeps the group settings', { rigId: 'r-1', model: 'M30S' }, ['eco', 'normal'], 'normal', 100],
      ['no model keeps the group settings', { rigId: 'r-1' }, ['eco', 'normal'], 'normal', 100],
    ])('%s', (_label, rig, profiles, desired, expected) => {
      const spec = specForRig(fleet, rig)!;
      expect(spec.profiles.map((p) => p.name)).toEqual(profiles);
      expect(spec.desiredProfile).toBe(desired);
      expect(spec.expectedHashrateHs).toBe(expected);
    });
    it('keeps ASIC settings typed (work mode as text)', () => {
      expect(specForRig(fleet, { rigId: 'r-1', model: 'S19j Pro' })!.profiles[0]).toEqual({ name: 'low', asic: { workMode: '0' } });
    });
  });

  it.each<[string, string]>([
    ['a billion-laughs document', ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n')],
    ['one anchor expanded 200 times', `x: &x [a, b, c]\ngroups: [${Array(200).fill('*x').join(', ')}]`],
  ])('refuses %s as invalid_argument, not an internal error', (_name, yaml) => {
    let caught: unknown;
    try {
      parseFleetYaml(yaml, 'fleet_yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FleetError);
    expect(caught).toMatchObject({ kind: 'invalid_argument', field: '(top level)', message: expect.stringMatching(/^fleet_yaml: \(top level\): refused: Excessive alias count/) });
  });
});
