import type { ActionRecord, PolicyInput } from './policy-types';
import { ThermalPolicy } from './thermal.policy';
import { FANS, MIN, SEC, T0, action, boards, input, obs, rigSpec, series } from './testing/policy-fixtures';

const policy = new ThermalPolicy();
const spec = rigSpec();

/** Hottest board temperature over time: `segments` are [from, tempC] pairs in order, up to T0. */
function temps(segments: readonly (readonly [number, number])[], to = T0, fans = FANS) {
  return series(segments[0]![0], to, (at) => {
    let tempC = segments[0]![1];
    for (const [from, t] of segments) if (at >= from) tempC = t;
    return { boards: boards(3, 60, { 1: { tempC } }), fans };
  });
}

function profile(at: number, name: string, direction: 'down' | 'up', by: ActionRecord['by'] = 'thermal'): ActionRecord {
  return action(at, 'apply-profile', by, { profile: name, direction }, { reason: direction === 'down' ? 'temperature-high' : 'temperature-recovered' });
}

const stopped = (at: number) => action(at, 'stop-mining', 'thermal', {}, { reason: 'temperature-critical' });

interface Scenario {
  readonly name: string;
  readonly input: () => PolicyInput;
  readonly expected: null | { kind: string; reason: string; params?: Record<string, unknown> };
}

const scenarios: Scenario[] = [
  { name: 'steady 75 °C makes no decision', input: () => input(spec, temps([[T0 - 30 * MIN, 75]])), expected: null },
  {
    name: 'above 80 °C for 60 s steps down one profile',
    input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 60 * SEC, 84]])),
    expected: {
      kind: 'apply-profile',
      reason: 'temperature-high',
      params: { profile: 'normal', settings: { asic: { frequencyMhz: 600 } }, fromProfile: 'turbo', direction: 'down', tempC: 84 },
    },
  },
  { name: 'above 80 °C for 50 s is not sustained yet', input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 50 * SEC, 84]])), expected: null },
  {
    name: 'a single spike to 90 °C makes no decision',
    input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 30 * SEC, 90], [T0 - 20 * SEC, 75]])),
    expected: null,
  },
  {
    name: 'still hot 60 s after a step down waits for the 2 min step cooldown',
    input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 3 * MIN, 84]]), [profile(T0 - 60 * SEC, 'normal', 'down')]),
    expected: null,
  },
  {
    name: 'still hot 2 min after a step down steps down again',
    input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 3 * MIN, 84]]), [profile(T0 - 2 * MIN, 'normal', 'down')]),
    expected: { kind: 'apply-profile', reason: 'temperature-high', params: { profile: 'eco', fromProfile: 'normal' } },
  },
  {
    name: 'a step-down that failed leaves the profile as it was and is tried again',
    input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 3 * MIN, 84]]),
      [action(T0 - 90 * SEC, 'apply-profile', 'thermal', { profile: 'normal', direction: 'down' }, { outcome: 'failed' })]),
    expected: { kind: 'apply-profile', reason: 'temperature-high', params: { profile: 'normal', fromProfile: 'turbo' } },
  },
  {
    name: 'hot on the lowest profile makes no decision below critical',
    input: () => input(spec, temps([[T0 - 10 * MIN, 88]]), [profile(T0 - 30 * MIN, 'eco', 'down')]),
    expected: null,
  },
  {
    name: 'below 70 °C for 5 min after a step down steps back up',
    input: () => input(spec, temps([[T0 - 10 * MIN, 75], [T0 - 5 * MIN, 65]]), [profile(T0 - 10 * MIN, 'normal', 'down')]),
    expected: { kind: 'apply-profile', reason: 'temperature-recovered', params: { profile: 'turbo', fromProfile: 'normal', direction: 'up' } },
  },
  {
    name: 'below 70 °C for 4 min is not sustained yet',
    input: () => input(spec, temps([[T0 - 10 * MIN, 75], [T0 - 4 * MIN, 65]]), [profile(T0 - 10 * MIN, 'normal', 'down')]),
    expected: null,
  },
  {
    name: 'inside the hysteresis band (75 °C) for 30 min never steps up',
    input: () => input(spec, temps([[T0 - 30 * MIN, 75]]), [profile(T0 - 31 * MIN, 'normal', 'down')]),
    expected: null,
  },
  {
    name: 'after a second step-down within the hour, stepping up needs 10 min of cool',
    input: () => input(spec, temps([[T0 - 15 * MIN, 75], [T0 - 8 * MIN, 65]]),
      [profile(T0 - 50 * MIN, 'normal', 'down'), profile(T0 - 40 * MIN, 'turbo', 'up'), profile(T0 - 20 * MIN, 'normal', 'down')]),
    expected: null,
  },
  {
    name: 'after a second step-down within the hour, 10 min of cool steps up',
    input: () => input(spec, temps([[T0 - 15 * MIN, 75], [T0 - 10 * MIN, 65]]),
      [profile(T0 - 50 * MIN, 'normal', 'down'), profile(T0 - 40 * MIN, 'turbo', 'up'), profile(T0 - 20 * MIN, 'normal', 'down')]),
    expected: { kind: 'apply-profile', reason: 'temperature-recovered', params: { profile: 'turbo' } },
  },
  {
    name: 'never steps above the desired profile',
    input: () => input(rigSpec({ desiredProfile: 'normal' }), temps([[T0 - 30 * MIN, 60]])),
    expected: null,
  },
  {
    name: 'steps up only as far as the desired profile',
    input: () => input(rigSpec({ desiredProfile: 'normal' }), temps([[T0 - 30 * MIN, 60]]), [profile(T0 - 30 * MIN, 'eco', 'down')]),
    expected: { kind: 'apply-profile', reason: 'temperature-recovered', params: { profile: 'normal', fromProfile: 'eco' } },
  },
  {
    name: 'a desired profile lowered in the spec is applied at once',
    input: () => input(rigSpec({ desiredProfile: 'eco' }), temps([[T0 - 10 * MIN, 65]]), [profile(T0 - 30 * MIN, 'turbo', 'up', 'operator')]),
    expected: { kind: 'apply-profile', reason: 'profile-above-desired', params: { profile: 'eco', fromProfile: 'turbo', direction: 'down' } },
  },
  {
    name: 'a profile an operator applied is the one stepped down from',
    input: () => input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 2 * MIN, 84]]), [profile(T0 - 20 * MIN, 'normal', 'up', 'operator')]),
    expected: { kind: 'apply-profile', reason: 'temperature-high', params: { profile: 'eco', fromProfile: 'normal' } },
  },
  {
    name: 'critical 95 °C on one board stops mining on the first reading',
    input: () => input(spec, temps([[T0 - 10 * MIN, 70], [T0, 95]])),
    expected: { kind: 'stop-mining', reason: 'temperature-critical', params: { tempC: 95, criticalC: 95, boardIndex: 1 } },
  },
  {
    name: 'critical for one reading does not stop with criticalForMs 20 s',
    input: () => input(rigSpec({ policy: { thermal: { criticalForMs: 20 * SEC } } }), temps([[T0 - 10 * MIN, 70], [T0, 97]])),
    expected: null,
  },
  {
    name: 'a quarantined rig is still stopped when critical',
    input: () => input(spec, temps([[T0 - 10 * MIN, 70], [T0, 99]]), [action(T0 - 5 * MIN, 'quarantine', 'watchdog')]),
    expected: { kind: 'stop-mining', reason: 'temperature-critical' },
  },
  {
    name: 'a rig without profiles is still stopped when critical',
    input: () => input(rigSpec({ profiles: [] }), temps([[T0 - 10 * MIN, 70], [T0, 99]])),
    expected: { kind: 'stop-mining', reason: 'temperature-critical' },
  },
  {
    name: 'a rig without profiles is left alone when merely hot',
    input: () => input(rigSpec({ profiles: [] }), temps([[T0 - 10 * MIN, 88]])),
    expected: null,
  },
  {
    name: 'still critical after a stop does not stop again',
    input: () => input(spec, temps([[T0 - 10 * MIN, 96]]), [stopped(T0 - 2 * MIN)]),
    expected: null,
  },
  {
    name: 'cooled below 70 °C for 10 min after a critical stop resumes on the lowest profile',
    input: () => input(spec, temps([[T0 - 20 * MIN, 96], [T0 - 10 * MIN, 50]]), [stopped(T0 - 12 * MIN)]),
    expected: { kind: 'resume-mining', reason: 'cooled-after-critical', params: { profile: 'eco', tempC: 60 } },
  },
  {
    name: 'cooled for only 5 min after a critical stop stays stopped',
    input: () => input(spec, temps([[T0 - 20 * MIN, 96], [T0 - 5 * MIN, 50]]), [stopped(T0 - 12 * MIN)]),
    expected: null,
  },
  {
    name: 'a stop an operator ordered is never lifted by the policy',
    input: () => input(spec, temps([[T0 - 30 * MIN, 50]]), [action(T0 - 31 * MIN, 'stop-mining', 'operator')]),
    expected: null,
  },
  {
    name: 'a failed fan keeps a stopped rig stopped',
    input: () => input(rigSpec({ expectedFans: 2 }), temps([[T0 - 20 * MIN, 96], [T0 - 15 * MIN, 50]], T0, [{ index: 0, rpm: 4800 }, { index: 1, rpm: 0 }]), [stopped(T0 - 16 * MIN)]),
    expected: null,
  },
  {
    name: 'a fan at 0 rpm for 20 s drops to the lowest profile',
    input: () => input(spec, [
      ...series(T0 - 5 * MIN, T0 - 30 * SEC),
      ...series(T0 - 20 * SEC, T0, () => ({ fans: [{ index: 0, rpm: 4800 }, { index: 1, rpm: 0 }] })),
    ]),
    expected: { kind: 'apply-profile', reason: 'fan-failed', params: { profile: 'eco', fromProfile: 'turbo', direction: 'down' } },
  },
  {
    name: 'a fan at 0 rpm for 10 s is not sustained yet',
    input: () => input(spec, [
      ...series(T0 - 5 * MIN, T0 - 20 * SEC),
      ...series(T0 - 10 * SEC, T0, () => ({ fans: [{ index: 0, rpm: 4800 }, { index: 1, rpm: 0 }] })),
    ]),
    expected: null,
  },
  {
    name: 'a fan that disappeared drops to the lowest profile',
    input: () => input(spec, [...series(T0 - 5 * MIN, T0 - 30 * SEC), ...series(T0 - 20 * SEC, T0, () => ({ fans: [{ index: 0, rpm: 4800 }] }))]),
    expected: { kind: 'apply-profile', reason: 'fan-failed', params: { profile: 'eco' } },
  },
  {
    name: 'a fan removed during a quarantine is not missed after the release',
    input: () => input(spec, [...series(T0 - 20 * MIN, T0 - 12 * MIN), ...series(T0 - 10 * MIN, T0, () => ({ fans: [{ index: 0, rpm: 4800 }] }))],
      [action(T0 - 15 * MIN, 'quarantine', 'operator'), action(T0 - 11 * MIN, 'release', 'operator')]),
    expected: null,
  },
  {
    name: 'fewer spinning fans than expected drops to the lowest profile',
    input: () => input(rigSpec({ expectedFans: 2 }), series(T0 - 5 * MIN, T0, () => ({ fans: [{ index: 0, rpm: 4800 }] }))),
    expected: { kind: 'apply-profile', reason: 'fan-failed', params: { profile: 'eco' } },
  },
  {
    name: 'an unpopulated fan slot at 0 rpm never seen spinning is not a failure',
    input: () => input(spec, series(T0 - 5 * MIN, T0, () => ({ fans: [...FANS, { index: 2, rpm: 0 }] }))),
    expected: null,
  },
  {
    name: 'a reading with errors and no fans is no fan verdict',
    input: () => input(spec, [...series(T0 - 5 * MIN, T0 - 30 * SEC), ...series(T0 - 20 * SEC, T0, () => ({ fans: [], errorKinds: ['parse'] }))]),
    expected: null,
  },
  {
    name: 'a failed fan on the lowest profile never steps up, however cool',
    input: () => input(rigSpec({ expectedFans: 2 }), series(T0 - 30 * MIN, T0, () => ({ tempC: 50, fans: [{ index: 0, rpm: 4800 }, { index: 1, rpm: 0 }] })),
      [profile(T0 - 31 * MIN, 'eco', 'down')]),
    expected: null,
  },
  {
    name: 'a GPU rig steps its power profile down the same way',
    input: () => input(rigSpec({
      kind: 'gpu',
      profiles: [{ name: 'pl-150', gpu: { powerLimitW: 150 } }, { name: 'pl-200', gpu: { powerLimitW: 200, coreClockMhz: 1500 } }],
    }), temps([[T0 - 10 * MIN, 65], [T0 - 90 * SEC, 83]])),
    expected: { kind: 'apply-profile', reason: 'temperature-high', params: { profile: 'pl-150', settings: { gpu: { powerLimitW: 150 } }, fromProfile: 'pl-200' } },
  },
  {
    name: 'stale data (latest reading 40 s old) makes no decision',
    input: () => input(spec, temps([[T0 - 10 * MIN, 70], [T0 - 40 * SEC, 99]], T0 - 40 * SEC)),
    expected: null,
  },
  {
    name: 'an unreachable miner makes no decision',
    input: () => input(spec, [...temps([[T0 - 10 * MIN, 99]], T0 - 10 * SEC), obs(T0, { reachable: false })]),
    expected: null,
  },
  {
    name: 'disabled by its parameters, thermal makes no decision',
    input: () => input(rigSpec({ policy: { thermal: { enabled: false } } }), temps([[T0 - 10 * MIN, 99]])),
    expected: null,
  },
];

describe('thermal-policy', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('thermal-policy: %s', (_name, s) => {
    const decisions = policy.evaluate(s.input(), T0);
    if (s.expected === null) {
      expect(decisions).toEqual([]);
      return;
    }
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ policy: 'thermal', kind: s.expected.kind, reason: s.expected.reason });
    if (s.expected.params) expect(decisions[0]!.params).toMatchObject(s.expected.params);
  });

  it('thermal-policy: the step-down message names the rig, the board, the threshold and the profiles', () => {
    const [d] = policy.evaluate(input(spec, temps([[T0 - 10 * MIN, 65], [T0 - 60 * SEC, 84]])), T0);
    expect(d!.message).toBe('rig rig-7: board 1 above 80 °C (now 84 °C) for 60 s or more; stepping down from profile "turbo" to "normal"');
  });

  it('thermal-policy: a stop is critical and names the temperature', () => {
    const [d] = policy.evaluate(input(spec, temps([[T0 - 10 * MIN, 70], [T0, 96]])), T0);
    expect(d).toMatchObject({ severity: 'critical', message: 'rig rig-7: board 1 at 96 °C, at or above the critical 95 °C; stopping mining' });
  });
});
