import { diffFleetSpecs } from './fleet-spec-diff';
import { parseFleetSpec, type FleetSpec } from './fleet-spec';

const pools = [{ url: 'stratum+tcp://a:3333', user: 'w', password: 'secret-a' }, { url: 'stratum+tcp://b:3333', user: 'w', password: 'x' }];
const base = {
  policy: { thermal: { highC: 80 } },
  groups: [
    { name: 's19-row1', match: { rigIdPrefix: 's19-' }, pools, profiles: [{ name: 'eco' }, { name: 'normal' }], desiredProfile: 'normal' },
    { name: 'demo', match: { rigIdPrefix: 'sim-' }, pools },
  ],
};
const spec = (raw: unknown): FleetSpec => parseFleetSpec(raw, 'test');
const clone = (): typeof base => JSON.parse(JSON.stringify(base)) as typeof base;

describe('fleet spec diff', () => {
  it('finds nothing between equal specs', () => {
    expect(diffFleetSpecs(spec(base), spec(clone()))).toEqual([]);
  });

  it.each<[string, (b: ReturnType<typeof clone>) => void, Array<{ path: string; change: string; before: string; after: string }>]>([
    ['a pool url, named by group and index', (b) => { b.groups[0]!.pools = [{ ...pools[0]!, url: 'stratum+tcp://c:3333' }, pools[1]!]; },
      [{ path: 'groups[s19-row1].pools[0].url', change: 'changed', before: '"stratum+tcp://a:3333"', after: '"stratum+tcp://c:3333"' }]],
    ['a password, masked on both sides', (b) => { b.groups[1]!.pools = [pools[0]!, { ...pools[1]!, password: 'new-secret' }]; },
      [{ path: 'groups[demo].pools[1].password', change: 'changed', before: '"***"', after: '"***"' }]],
    ['a pool added, its password masked', (b) => { b.groups[1]!.pools = [...pools, { url: 'stratum+tcp://d:1', user: 'w', password: 'p' }]; },
      [{ path: 'groups[demo].pools[2]', change: 'added', before: '', after: '{"url":"stratum+tcp://d:1","user":"w","password":"***"}' }]],
    ['a group removed as one change', (b) => { b.groups = [b.groups[0]!]; },
      [{ path: 'groups[demo]', change: 'removed', before: expect.stringContaining('"password":"***"') as unknown as string, after: '' }]],
    ['a fleet-wide policy parameter', (b) => { b.policy.thermal.highC = 85; },
      [{ path: 'policy.thermal.highC', change: 'changed', before: '80', after: '85' }]],
    ['a desired profile removed', (b) => { delete (b.groups[0] as { desiredProfile?: string }).desiredProfile; },
      [{ path: 'groups[s19-row1].desiredProfile', change: 'removed', before: '"normal"', after: '' }]],
    ['groups reordered (the first match wins)', (b) => { b.groups.reverse(); },
      [{ path: 'groups', change: 'changed', before: '["s19-row1","demo"]', after: '["demo","s19-row1"]' }]],
  ])('reports %s', (_label, edit, expected) => {
    const next = clone();
    edit(next);
    expect(diffFleetSpecs(spec(base), spec(next))).toEqual(expected);
  });

  it('names model entries by their key', () => {
    const next = clone();
    Object.assign(next.groups[0]!, { models: { 'S19j Pro': { expectedHashrateHs: 104e12 } } });
    const withModel = spec(next);
    const changed = JSON.parse(JSON.stringify(next)) as typeof next;
    Object.assign(changed.groups[0]!, { models: { 'S19j Pro': { expectedHashrateHs: 100e12 } } });
    expect(diffFleetSpecs(withModel, spec(changed))).toEqual([
      { path: 'groups[s19-row1].models[S19j Pro].expectedHashrateHs', change: 'changed', before: '104000000000000', after: '100000000000000' },
    ]);
  });

  it('never prints a password anywhere', () => {
    const diff = diffFleetSpecs({ groups: [] }, spec(base));
    expect(diff.map((c) => c.path)).toEqual(['policy', 'groups[s19-row1]', 'groups[demo]']);
    expect(JSON.stringify(diff)).not.toMatch(/secret-a|"x"/);
  });
});
