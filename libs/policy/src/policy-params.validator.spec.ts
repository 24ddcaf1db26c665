import { DEFAULT_POLICY_PARAMS } from './policy-defaults';
import { validateParams, validatePolicyOverrides, validateRigSpec } from './policy-params.validator';
import { POOLS, rigSpec } from './testing/policy-fixtures';

describe('policy-params-validator', () => {
  it('policy-params-validator: the defaults are valid', () => {
    expect(validateParams(DEFAULT_POLICY_PARAMS)).toEqual([]);
  });

  it('policy-params-validator: the test rig spec is valid', () => {
    expect(validateRigSpec(rigSpec())).toEqual([]);
  });

  it.each([
    ['a non-mapping', 'fast', 'policy', 'must be a mapping of sections'],
    ['an unknown section', { thermals: {} }, 'policy.thermals', 'unknown section'],
    ['an unknown key (a typo)', { failover: { silentAfterMS: 20_000 } }, 'policy.failover.silentAfterMS', 'unknown parameter'],
    ['a wrong type', { thermal: { highC: '80' } }, 'policy.thermal.highC', 'must be a number'],
    ['a boolean as a number', { watchdog: { enabled: 1 } }, 'policy.watchdog.enabled', 'must be a boolean'],
    ['a negative duration', { freshness: { maxGapMs: -1 } }, 'policy.freshness.maxGapMs', 'must not be negative'],
    ['lowC not below highC', { thermal: { lowC: 85 } }, 'policy.thermal.lowC', '(85) must be below thermal.highC (80)'],
    ['highC not below criticalC', { thermal: { highC: 96 } }, 'policy.thermal.highC', 'must be below thermal.criticalC'],
    ['a hashrate ratio above 1', { watchdog: { minHashrateRatio: 80 } }, 'policy.watchdog.minHashrateRatio', 'at most 1'],
    ['a reject ratio above 1', { failover: { maxRejectRatio: 10 } }, 'policy.failover.maxRejectRatio', 'between 0 and 1'],
    ['an unknown ladder action', { watchdog: { ladder: [{ action: 'kick', graceMs: 1 }] } }, 'policy.watchdog.ladder[0].action', 'must be one of'],
    ['a repeated ladder action', { watchdog: { ladder: [{ action: 'reboot-host', graceMs: 1 }, { action: 'reboot-host', graceMs: 1 }] } }, 'policy.watchdog.ladder[1].action', 'already on the ladder'],
    ['a ladder step without grace', { watchdog: { ladder: [{ action: 'reboot-host' }] } }, 'policy.watchdog.ladder[0].graceMs', 'duration in ms'],
  ])('policy-params-validator: %s is named by its path', (_what, overrides, path, message) => {
    const errors = validatePolicyOverrides(overrides);
    expect(errors).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('policy-params-validator: overrides are checked against the base they sit on', () => {
    const fleet = { thermal: { highC: 85, criticalC: 100 } };
    expect(validateRigSpec(rigSpec({ policy: { thermal: { lowC: 82 } } }), 'groups[0].rigs[3]', fleet)).toEqual([]);
    expect(validateRigSpec(rigSpec({ policy: { thermal: { lowC: 82 } } }), 'groups[0].rigs[3]')).toEqual([
      { path: 'groups[0].rigs[3].policy.thermal.lowC', message: '(82) must be below thermal.highC (80)' },
    ]);
  });

  it('policy-params-validator: spec problems are named by their path', () => {
    const spec = rigSpec({
      rigId: ' ',
      pools: [POOLS[0]!, { ...POOLS[0]!, url: POOLS[0]!.url.toUpperCase() }, { url: '', user: 'x' }],
      profiles: [{ name: 'eco' }, { name: 'eco' }],
      desiredProfile: 'turbo',
      expectedBoards: 2.5,
    });
    expect(validateRigSpec(spec).map((e) => e.path)).toEqual([
      'rig.rigId',
      'rig.pools[1]',
      'rig.pools[2].url',
      'rig.profiles[1].name',
      'rig.desiredProfile',
      'rig.expectedBoards',
    ]);
  });
});
