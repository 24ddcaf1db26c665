import type { ActionRecord, BoardObservation, PolicyInput } from './policy-types';
import { MIN, SEC, T0, TH, action, boards, input, obs, rigSpec, series } from './testing/policy-fixtures';
import { WatchdogPolicy, formatHashrate } from './watchdog.policy';

const policy = new WatchdogPolicy();
const spec = rigSpec();

const healthy = (from: number, to: number) => series(from, to);
const unreachable = (from: number, to: number) => series(from, to, () => ({ reachable: false }));
const deadBoard = (from: number, to: number) => series(from, to, () => ({ boards: boards(3, 65, { 2: { state: 'dead', hashrateHs: 0 } }), hashrateHs: 67 * TH }));
const step = (at: number, kind: 'restart-miner' | 'reboot-host' | 'power-cycle', extra: Partial<ActionRecord> = {}) =>
  action(at, kind, 'watchdog', { trigger: 'miner-unreachable' }, { reason: 'miner-unreachable', ...extra });

function gpus(count: number): BoardObservation[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    state: 'ok' as const,
    hashrateHs: 60e6,
    tempC: 60,
    name: 'NVIDIA GeForce RTX 3070',
    pciBusId: `0000:0${index + 1}:00.0`,
  }));
}

interface Scenario {
  readonly name: string;
  readonly input: () => PolicyInput;
  /** The first decision; `alerts`: the reasons of the alerts that come with it (e.g. a step skipped, said once). */
  readonly expected: null | { kind: string; reason: string; params?: Record<string, unknown>; alerts?: readonly string[] };
}

const scenarios: Scenario[] = [
  { name: 'a healthy rig makes no decision', input: () => input(spec, healthy(T0 - 30 * MIN, T0)), expected: null },
  {
    name: 'miner API unreachable for 60 s restarts the miner',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...unreachable(T0 - 60 * SEC, T0)]),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable', params: { trigger: 'miner-unreachable', step: 1 } },
  },
  {
    name: 'miner API unreachable for 50 s is not sustained yet',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 60 * SEC), ...unreachable(T0 - 50 * SEC, T0)]),
    expected: null,
  },
  {
    name: 'still unreachable 3 min after a restart waits for the 5 min grace',
    input: () => input(spec, [...healthy(T0 - 20 * MIN, T0 - 5 * MIN), ...unreachable(T0 - 4 * MIN, T0)], [step(T0 - 3 * MIN, 'restart-miner')]),
    expected: null,
  },
  {
    name: 'still unreachable 5 min after a restart reboots the host',
    input: () => input(spec, [...healthy(T0 - 20 * MIN, T0 - 7 * MIN), ...unreachable(T0 - 6 * MIN, T0)], [step(T0 - 5 * MIN, 'restart-miner')]),
    expected: { kind: 'reboot-host', reason: 'miner-unreachable', params: { step: 2 } },
  },
  {
    name: 'still unreachable 10 min after a reboot power-cycles the outlet',
    input: () => input(spec, [...healthy(T0 - 30 * MIN, T0 - 17 * MIN), ...unreachable(T0 - 16 * MIN, T0)],
      [step(T0 - 15 * MIN, 'restart-miner'), step(T0 - 10 * MIN, 'reboot-host')]),
    expected: { kind: 'power-cycle', reason: 'miner-unreachable', params: { step: 3 } },
  },
  {
    name: 'still unreachable 15 min after a power-cycle quarantines the rig',
    input: () => input(spec, [...healthy(T0 - 45 * MIN, T0 - 32 * MIN), ...unreachable(T0 - 31 * MIN, T0)],
      [step(T0 - 30 * MIN, 'restart-miner'), step(T0 - 25 * MIN, 'reboot-host'), step(T0 - 15 * MIN, 'power-cycle')]),
    expected: { kind: 'quarantine', reason: 'ladder-exhausted', params: { trigger: 'miner-unreachable', step: 4 } },
  },
  {
    name: 'without a switchable outlet the ladder ends after the reboot',
    input: () => input(rigSpec({ capabilities: { powerCycle: false } }), [...healthy(T0 - 30 * MIN, T0 - 17 * MIN), ...unreachable(T0 - 16 * MIN, T0)],
      [step(T0 - 15 * MIN, 'restart-miner'), step(T0 - 10 * MIN, 'reboot-host')]),
    expected: { kind: 'quarantine', reason: 'ladder-exhausted', params: { step: 3 }, alerts: ['remedy-not-configured'] },
  },
  {
    name: 'a rig that cannot restart its miner alone starts the ladder with a reboot',
    input: () => input(rigSpec({ capabilities: { restartMiner: false } }), [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...unreachable(T0 - 60 * SEC, T0)]),
    expected: { kind: 'reboot-host', reason: 'miner-unreachable', params: { step: 1 }, alerts: ['remedy-not-configured'] },
  },
  {
    name: 'a custom ladder is followed with its own grace periods',
    input: () => input(rigSpec({ policy: { watchdog: { ladder: [{ action: 'power-cycle', graceMs: 2 * MIN }] } } }),
      [...healthy(T0 - 10 * MIN, T0 - 5 * MIN), ...unreachable(T0 - 4 * MIN, T0)], [step(T0 - 2 * MIN, 'power-cycle')]),
    expected: { kind: 'quarantine', reason: 'ladder-exhausted', params: { step: 2 } },
  },
  {
    name: 'a restart that failed is followed by a reboot at once',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 3 * MIN), ...unreachable(T0 - 2 * MIN, T0)],
      [step(T0 - 30 * SEC, 'restart-miner', { outcome: 'failed' })]),
    expected: { kind: 'reboot-host', reason: 'miner-unreachable', params: { step: 2 } },
  },
  {
    name: 'a dead board for 2 min restarts the miner',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 130 * SEC), ...deadBoard(T0 - 2 * MIN, T0)]),
    expected: { kind: 'restart-miner', reason: 'board-dead', params: { trigger: 'board-dead', step: 1 } },
  },
  {
    name: 'a dead board for 1 min is not sustained yet',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...deadBoard(T0 - 60 * SEC, T0)]),
    expected: null,
  },
  {
    name: 'a GPU lost for 2 min restarts the miner and names its PCI bus id',
    input: () => input(rigSpec({ kind: 'gpu', expectedHashrateHs: undefined, profiles: [] }), [
      ...series(T0 - 10 * MIN, T0 - 130 * SEC, () => ({ boards: gpus(6), hashrateHs: 360e6 })),
      ...series(T0 - 2 * MIN, T0, () => ({ boards: gpus(5), hashrateHs: 300e6 })),
    ]),
    expected: { kind: 'restart-miner', reason: 'gpu-lost', params: { detail: '5 of 6 GPUs reported for 2 min (missing 0000:06:00.0)' } },
  },
  {
    name: 'readings whose board query failed are no verdict on missing boards',
    input: () => input(rigSpec({ kind: 'gpu', expectedHashrateHs: undefined, profiles: [] }), [
      ...series(T0 - 10 * MIN, T0 - 190 * SEC, () => ({ boards: gpus(6), hashrateHs: 360e6 })),
      ...series(T0 - 3 * MIN, T0, () => ({ boards: [], errorKinds: ['parse'], hashrateHs: 360e6 })),
    ]),
    expected: null,
  },
  {
    name: 'a GPU pulled during a quarantine is not missed after the release',
    input: () => input(rigSpec({ kind: 'gpu', expectedHashrateHs: undefined, profiles: [] }), [
      ...series(T0 - 30 * MIN, T0 - 20 * MIN, () => ({ boards: gpus(6), hashrateHs: 360e6 })),
      ...series(T0 - 15 * MIN, T0, () => ({ boards: gpus(5), hashrateHs: 300e6 })),
    ], [action(T0 - 25 * MIN, 'quarantine', 'watchdog'), action(T0 - 16 * MIN, 'release', 'operator')]),
    expected: null,
  },
  {
    name: 'a hash board missing against expectedBoards for 2 min restarts the miner',
    input: () => input(rigSpec({ expectedBoards: 3 }), series(T0 - 10 * MIN, T0, () => ({ boards: boards(2, 65), hashrateHs: 67 * TH }))),
    expected: { kind: 'restart-miner', reason: 'board-missing' },
  },
  {
    name: '100 hardware errors per minute over 10 min restarts the miner',
    input: () => input(spec, series(T0 - 12 * MIN, T0, (_at, i) => ({ hwErrors: i * 1000 / 60 * 10 }))),
    expected: { kind: 'restart-miner', reason: 'hw-error-rate' },
  },
  {
    name: '30 hardware errors per minute is under the limit',
    input: () => input(spec, series(T0 - 12 * MIN, T0, (_at, i) => ({ hwErrors: i * 5 }))),
    expected: null,
  },
  {
    name: 'a hardware error counter reset by a restart is not a negative rate',
    input: () => input(spec, series(T0 - 12 * MIN, T0, (at, i) => ({ hwErrors: at < T0 - 6 * MIN ? 50_000 + i : i }))),
    expected: null,
  },
  {
    name: 'hashrate at 60 % of expected for 10 min restarts the miner',
    input: () => input(spec, series(T0 - 12 * MIN, T0, () => ({ hashrateHs: 60 * TH }))),
    expected: { kind: 'restart-miner', reason: 'hashrate-low', params: { trigger: 'hashrate-low', step: 1 } },
  },
  {
    name: 'no hashrate at all for 3 min restarts the miner, even without an expected hashrate',
    input: () => input(rigSpec({ expectedHashrateHs: undefined, profiles: [] }), [...healthy(T0 - 10 * MIN, T0 - 190 * SEC), ...series(T0 - 3 * MIN, T0, () => ({ hashrateHs: 0 }))]),
    expected: { kind: 'restart-miner', reason: 'hashrate-low', params: { detail: 'no hashrate at all for 3 min (19 readings) while the miner API answers' } },
  },
  {
    name: 'no hashrate for 2 min is not sustained yet',
    input: () => input(rigSpec({ expectedHashrateHs: undefined, profiles: [] }), [...healthy(T0 - 10 * MIN, T0 - 130 * SEC), ...series(T0 - 2 * MIN, T0, () => ({ hashrateHs: 0 }))]),
    expected: null,
  },
  {
    name: '6 min after a restart, a 10 min hashrate window is judged only on readings taken after it',
    input: () => input(spec, series(T0 - 30 * MIN, T0, () => ({ hashrateHs: 40 * TH })), [step(T0 - 6 * MIN, 'restart-miner', { reason: 'hashrate-low' })]),
    expected: null,
  },
  {
    name: '10 min after a restart, still low hashrate reboots the host',
    input: () => input(spec, series(T0 - 30 * MIN, T0, () => ({ hashrateHs: 40 * TH })), [step(T0 - 10 * MIN - 10 * SEC, 'restart-miner', { reason: 'hashrate-low' })]),
    expected: { kind: 'reboot-host', reason: 'hashrate-low', params: { step: 2 } },
  },
  {
    name: 'only 8 min of low readings is no verdict on a 10 min window',
    input: () => input(spec, series(T0 - 8 * MIN, T0, () => ({ hashrateHs: 60 * TH }))),
    expected: null,
  },
  {
    name: 'a 2 min dip to zero inside 10 min at full speed is not a low hashrate',
    input: () => input(spec, series(T0 - 12 * MIN, T0, (at) => ({ hashrateHs: at > T0 - 5 * MIN && at <= T0 - 3 * MIN ? 0 : 100 * TH }))),
    expected: null,
  },
  {
    name: 'low hashrate while the miner warms up after a start is not judged',
    input: () => input(spec, series(T0 - 12 * MIN, T0, () => ({ hashrateHs: 40 * TH, startedAt: T0 - 9 * MIN }))),
    expected: null,
  },
  {
    name: 'after a thermal step-down the hashrate is judged against the lower profile',
    input: () => input(spec, series(T0 - 20 * MIN, T0, () => ({ hashrateHs: 72 * TH })),
      [action(T0 - 25 * MIN, 'apply-profile', 'thermal', { profile: 'eco', direction: 'down' })]),
    expected: null,
  },
  {
    name: 'healthy for 15 min after a restart resets the ladder to a restart',
    input: () => input(spec, [...healthy(T0 - 28 * MIN, T0 - 11 * MIN), ...unreachable(T0 - 70 * SEC, T0)], [step(T0 - 30 * MIN, 'restart-miner')]),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable', params: { step: 1 } },
  },
  {
    name: 'healthy for only 8 min after a restart climbs to a reboot',
    input: () => input(spec, [...healthy(T0 - 28 * MIN, T0 - 20 * MIN), ...deadBoard(T0 - 19 * MIN, T0)], [step(T0 - 30 * MIN, 'restart-miner')]),
    expected: { kind: 'reboot-host', reason: 'board-dead', params: { step: 2 } },
  },
  {
    name: 'a fifth remedy within the hour quarantines the rig instead',
    input: () => input(spec, [...healthy(T0 - 30 * MIN, T0 - 2 * MIN), ...unreachable(T0 - 70 * SEC, T0)],
      [step(T0 - 58 * MIN, 'restart-miner'), step(T0 - 50 * MIN, 'restart-miner'), step(T0 - 42 * MIN, 'restart-miner'), step(T0 - 34 * MIN, 'restart-miner')]),
    expected: { kind: 'quarantine', reason: 'action-cap-reached', params: { actionsLastHour: 4 } },
  },
  {
    name: 'unreachable with 6 of the 8 rigs of its agent raises an alert instead of a restart',
    input: () => ({ ...input(spec, [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...unreachable(T0 - 60 * SEC, T0)]), neighbourhood: { rigs: 8, unreachable: 6 } }),
    expected: { kind: 'alert', reason: 'neighbourhood-outage', params: { subject: 'miner-unreachable' } },
  },
  {
    name: 'the neighbourhood-outage alert is not repeated within 15 min',
    input: () => ({
      ...input(spec, [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...unreachable(T0 - 60 * SEC, T0)], [action(T0 - 10 * MIN, 'alert', 'watchdog', {}, { reason: 'neighbourhood-outage' })]),
      neighbourhood: { rigs: 8, unreachable: 6 },
    }),
    expected: null,
  },
  {
    name: 'unreachable with 2 of the 8 rigs of its agent climbs the ladder',
    input: () => ({ ...input(spec, [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...unreachable(T0 - 60 * SEC, T0)]), neighbourhood: { rigs: 8, unreachable: 2 } }),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable' },
  },
  {
    name: 'a small neighbourhood (3 rigs, all unreachable) does not hold the ladder',
    input: () => ({ ...input(spec, [...healthy(T0 - 10 * MIN, T0 - 70 * SEC), ...unreachable(T0 - 60 * SEC, T0)]), neighbourhood: { rigs: 3, unreachable: 3 } }),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable' },
  },
  {
    name: 'a dead board is the rig\'s own fault whatever the neighbours do',
    input: () => ({ ...input(spec, [...healthy(T0 - 10 * MIN, T0 - 130 * SEC), ...deadBoard(T0 - 2 * MIN, T0)]), neighbourhood: { rigs: 8, unreachable: 7 } }),
    expected: { kind: 'restart-miner', reason: 'board-dead' },
  },
  {
    name: 'a quarantined rig makes no decision',
    input: () => input(spec, unreachable(T0 - 10 * MIN, T0), [action(T0 - 5 * MIN, 'quarantine', 'watchdog')]),
    expected: null,
  },
  {
    name: 'after an operator releases a quarantine the ladder starts again with a restart',
    input: () => input(spec, [...healthy(T0 - 50 * MIN, T0 - 41 * MIN), ...unreachable(T0 - 40 * MIN, T0)], [
      step(T0 - 40 * MIN, 'restart-miner'), step(T0 - 35 * MIN, 'reboot-host'), step(T0 - 25 * MIN, 'power-cycle'),
      action(T0 - 10 * MIN, 'quarantine', 'watchdog'), action(T0 - 2 * MIN, 'release', 'operator'),
    ]),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable', params: { step: 1 } },
  },
  {
    name: 'a restart decided in the same millisecond as the release counts as the new first step: its grace holds, then reboot',
    input: () => input(spec, [...healthy(T0 - 50 * MIN, T0 - 41 * MIN), ...unreachable(T0 - 40 * MIN, T0)], [
      step(T0 - 40 * MIN, 'restart-miner'), step(T0 - 35 * MIN, 'reboot-host'), step(T0 - 25 * MIN, 'power-cycle'),
      action(T0 - 10 * MIN, 'quarantine', 'watchdog'), action(T0 - 6 * MIN, 'release', 'operator'), step(T0 - 6 * MIN, 'restart-miner'),
    ]),
    expected: { kind: 'reboot-host', reason: 'miner-unreachable', params: { step: 2 } },
  },
  {
    name: 'stale data (latest reading 40 s old) makes no decision',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 5 * MIN), ...unreachable(T0 - 4 * MIN, T0 - 40 * SEC)]),
    expected: null,
  },
  {
    name: 'an offline agent makes no decision',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 5 * MIN), ...unreachable(T0 - 4 * MIN, T0)], [], false),
    expected: null,
  },
  {
    name: 'a gap in the readings breaks an unreachable run',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 5 * MIN), ...unreachable(T0 - 4 * MIN, T0 - 3 * MIN), ...unreachable(T0 - 30 * SEC, T0)]),
    expected: null,
  },
  {
    name: 'a rig stopped for temperature makes no decision',
    input: () => input(spec, series(T0 - 15 * MIN, T0, () => ({ hashrateHs: 0 })), [action(T0 - 16 * MIN, 'stop-mining', 'thermal')]),
    expected: null,
  },
  {
    name: 'disabled by its parameters, the watchdog makes no decision',
    input: () => input(rigSpec({ policy: { watchdog: { enabled: false } } }), unreachable(T0 - 10 * MIN, T0)),
    expected: null,
  },
];

describe('watchdog-policy', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('watchdog-policy: %s', (_name, s) => {
    const decisions = policy.evaluate(s.input(), T0);
    if (s.expected === null) {
      expect(decisions).toEqual([]);
      return;
    }
    expect(decisions.slice(1).map((d) => d.reason)).toEqual(s.expected.alerts ?? []);
    expect(decisions[0]).toMatchObject({ policy: 'watchdog', kind: s.expected.kind, reason: s.expected.reason });
    if (s.expected.params) expect(decisions[0]!.params).toMatchObject(s.expected.params);
  });

  it('watchdog-policy: the message names the rig, the fault, the step and what did not help', () => {
    const [d] = policy.evaluate(
      input(spec, [...healthy(T0 - 20 * MIN, T0 - 7 * MIN), ...unreachable(T0 - 6 * MIN, T0)], [step(T0 - 5 * MIN, 'restart-miner')]),
      T0,
    );
    expect(d!.message).toBe(
      'rig rig-7: the miner API has been unreachable for 5 min (timeout); rebooting the host (step 2 of 3, 5 min after restart-miner did not help)',
    );
    expect(d!.severity).toBe('critical');
  });

  it('watchdog-policy: the message says when the previous step failed', () => {
    const [d] = policy.evaluate(
      input(spec, [...healthy(T0 - 10 * MIN, T0 - 3 * MIN), ...unreachable(T0 - 2 * MIN, T0)], [step(T0 - 30 * SEC, 'restart-miner', { outcome: 'failed' })]),
      T0,
    );
    expect(d!.message).toBe('rig rig-7: the miner API has been unreachable for 2 min (timeout); rebooting the host (step 2 of 3, restart-miner failed)');
  });

  it('watchdog-policy: the hashrate-low message gives the average and the floor', () => {
    const [d] = policy.evaluate(input(spec, series(T0 - 12 * MIN, T0, () => ({ hashrateHs: 60 * TH }))), T0);
    expect(d!.message).toBe(
      'rig rig-7: hashrate averaged 60 TH/s over 10 min (61 readings), 60 % of the expected 100 TH/s (floor 80 %); restarting the miner (step 1 of 3)',
    );
  });

  it.each([
    [0, '0 H/s'],
    [950, '950 H/s'],
    [61.25e6, '61.3 MH/s'],
    [110e12, '110 TH/s'],
  ])('watchdog-policy: formats %d H/s as %s', (hs, text) => {
    expect(formatHashrate(hs)).toBe(text);
  });

  it('watchdog-policy: a single reading is no verdict', () => {
    expect(policy.evaluate(input(spec, [obs(T0, { reachable: false })]), T0)).toEqual([]);
  });
});

// --- issue 15: sustained evidence, idle miners, steps not configured, remedies that ran, release, outcomes ---------

const noExpected = rigSpec({ expectedHashrateHs: undefined, profiles: [] });
const zeroBoards = (from: number, to: number, startedAt: number) => series(from, to, () => ({ boards: [], hashrateHs: 0, startedAt }));
const zeroHashing = (from: number, to: number, startedAt: number) =>
  series(from, to, () => ({ boards: boards(3, 65, { 0: { hashrateHs: 0 }, 1: { hashrateHs: 0 }, 2: { hashrateHs: 0 } }), hashrateHs: 0, startedAt }));
const noReboot = 'rig rig-7 has no reboot command configured (rigs.rig-7.rebootCommand in the agent config)';
const noPdu = 'rig rig-7 has no PDU outlet configured (rigs.rig-7.pdu in the agent config)';
const told = (at: number, subject: string, reason: string) => action(at, 'alert', 'watchdog', { subject }, { reason });
const healthyAgain = (from: number, to: number) => series(from, to, () => ({ startedAt: from }));

const issue15: Scenario[] = [
  {
    name: 'zero hashrate seen for only 90 s after the warm-up is no verdict on a 3 min window',
    input: () => input(noExpected, zeroHashing(T0 - 270 * SEC, T0, T0 - 270 * SEC)),
    expected: null,
  },
  {
    name: 'zero hashrate over the whole 3 min after the warm-up restarts the miner, with the covered span as evidence',
    input: () => input(noExpected, zeroHashing(T0 - 6 * MIN, T0, T0 - 6 * MIN)),
    expected: { kind: 'restart-miner', reason: 'hashrate-low', params: { evidence: { fromAt: T0 - 3 * MIN, toAt: T0, spanMs: 3 * MIN, samples: 19 } } },
  },
  {
    name: 'an unreachable run of 60 s seen in only 2 readings is not enough samples',
    input: () => input(spec, [...healthy(T0 - 10 * MIN, T0 - 2 * MIN), obs(T0 - 60 * SEC, { reachable: false }), obs(T0, { reachable: false })]),
    expected: null,
  },
  {
    name: 'a miner that never had a device (0 boards, 0 H/s since it started) gets one idle alert, no remedy',
    input: () => input(noExpected, zeroBoards(T0 - 7 * MIN, T0, T0 - 7 * MIN)),
    expected: { kind: 'alert', reason: 'miner-idle-no-devices', params: { subject: 'no-devices' } },
  },
  {
    name: 'a miner that never had a device is not restarted even with an expected hashrate',
    input: () => input(spec, zeroBoards(T0 - 15 * MIN, T0, T0 - 15 * MIN)),
    expected: { kind: 'alert', reason: 'miner-idle-no-devices' },
  },
  {
    name: 'the idle alert is said once',
    input: () => input(noExpected, zeroBoards(T0 - 7 * MIN, T0, T0 - 7 * MIN), [told(T0 - 3 * MIN, 'no-devices', 'miner-idle-no-devices')]),
    expected: null,
  },
  {
    name: 'a miner without a device for only 2 min is not reported yet',
    input: () => input(noExpected, zeroBoards(T0 - 2 * MIN, T0, T0 - 2 * MIN)),
    expected: null,
  },
  {
    name: 'a miner that had boards earlier and now reports none has missing boards',
    input: () => input(noExpected, [...healthy(T0 - 10 * MIN, T0 - 190 * SEC), ...zeroBoards(T0 - 3 * MIN, T0, T0 - 60 * MIN)]),
    expected: { kind: 'restart-miner', reason: 'board-missing' },
  },
  {
    name: 'a board dead for 2 min but still within the warm-up after a miner start is not judged yet',
    input: () => input(spec, series(T0 - 150 * SEC, T0, () => ({ startedAt: T0 - 150 * SEC, boards: boards(3, 65, { 2: { state: 'dead', hashrateHs: 0 } }), hashrateHs: 67 * TH }))),
    expected: null,
  },
  {
    name: 'a board dead for 2 min after the warm-up restarts the miner',
    input: () => input(spec, series(T0 - 5 * MIN, T0, () => ({ startedAt: T0 - 5 * MIN, boards: boards(3, 65, { 2: { state: 'dead', hashrateHs: 0 } }), hashrateHs: 67 * TH }))),
    expected: { kind: 'restart-miner', reason: 'board-dead', params: { evidence: { fromAt: T0 - 2 * MIN, spanMs: 2 * MIN } } },
  },
  {
    name: 'with expectedBoards in the spec, a miner without a device has missing boards',
    input: () => input(rigSpec({ expectedBoards: 2, expectedHashrateHs: undefined, profiles: [] }), zeroBoards(T0 - 7 * MIN, T0, T0 - 7 * MIN)),
    expected: { kind: 'restart-miner', reason: 'board-missing' },
  },
  {
    name: 'a reboot that failed for want of a reboot command is followed by the power-cycle at once, and said once',
    input: () => input(spec, [...healthy(T0 - 20 * MIN, T0 - 7 * MIN), ...unreachable(T0 - 6 * MIN, T0)],
      [step(T0 - 6 * MIN, 'restart-miner', { outcome: 'succeeded' }), step(T0 - 30 * SEC, 'reboot-host', { outcome: 'failed', cause: noReboot })]),
    expected: { kind: 'power-cycle', reason: 'miner-unreachable', params: { step: 2 }, alerts: ['remedy-not-configured'] },
  },
  {
    name: 'a step the agent said it lacks is skipped the next time the ladder climbs, without a second notice',
    input: () => input(spec, [...healthy(T0 - 60 * MIN, T0 - 30 * MIN), ...unreachable(T0 - 29 * MIN, T0)], [
      step(T0 - 40 * MIN, 'reboot-host', { outcome: 'failed', cause: noReboot }),
      told(T0 - 40 * MIN, 'reboot-host', 'remedy-not-configured'),
      step(T0 - 6 * MIN, 'restart-miner', { outcome: 'succeeded' }),
    ]),
    expected: { kind: 'power-cycle', reason: 'miner-unreachable', params: { step: 2, skipped: [expect.stringContaining('reboot-host: not available on the rig')] } },
  },
  {
    name: 'after a step that could not run, the evidence is still only what was seen after the last step that did',
    input: () => input(spec, deadBoard(T0 - 20 * MIN, T0), [
      step(T0 - 10 * MIN, 'restart-miner', { outcome: 'succeeded', reason: 'board-dead' }),
      step(T0 - 30 * SEC, 'reboot-host', { outcome: 'failed', cause: noReboot, reason: 'board-dead' }),
      told(T0 - 30 * SEC, 'reboot-host', 'remedy-not-configured'),
    ]),
    expected: { kind: 'power-cycle', reason: 'board-dead', params: { step: 2, detail: 'board 2 has been dead for 10 min', evidence: { fromAt: T0 - 590 * SEC } } },
  },
  {
    name: 'with neither reboot nor power-cycle configured, the ladder goes from the restart to the quarantine',
    input: () => input(rigSpec({ capabilities: { rebootHost: false, powerCycle: false } }), [...healthy(T0 - 20 * MIN, T0 - 7 * MIN), ...unreachable(T0 - 6 * MIN, T0)],
      [step(T0 - 5 * MIN, 'restart-miner', { outcome: 'succeeded' }), told(T0 - 5 * MIN, 'reboot-host', 'remedy-not-configured'), told(T0 - 5 * MIN, 'power-cycle', 'remedy-not-configured')]),
    expected: { kind: 'quarantine', reason: 'ladder-exhausted', params: { step: 2, actionsLastHour: 1 } },
  },
  {
    name: 'remedies that could not run (not delivered, refused, not configured) do not count toward the hourly cap',
    input: () => input(spec, [...healthy(T0 - 30 * MIN, T0 - 2 * MIN), ...unreachable(T0 - 70 * SEC, T0)], [
      step(T0 - 58 * MIN, 'restart-miner', { outcome: 'failed', delivered: false }),
      step(T0 - 50 * MIN, 'restart-miner', { outcome: 'rejected', cause: 'signature does not verify' }),
      step(T0 - 49 * MIN, 'reboot-host', { outcome: 'failed', cause: noReboot }),
      step(T0 - 48 * MIN, 'power-cycle', { outcome: 'failed', cause: noPdu }),
      step(T0 - 34 * MIN, 'restart-miner', { outcome: 'succeeded' }),
      told(T0 - 49 * MIN, 'reboot-host', 'remedy-not-configured'),
      told(T0 - 48 * MIN, 'power-cycle', 'remedy-not-configured'),
    ]),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable', params: { step: 1 } },
  },
  {
    name: 'an operator release resets the hourly cap: remedies before it do not count',
    input: () => input(spec, [...healthy(T0 - 30 * MIN, T0 - 2 * MIN), ...unreachable(T0 - 70 * SEC, T0)], [
      step(T0 - 58 * MIN, 'restart-miner'), step(T0 - 50 * MIN, 'restart-miner'), step(T0 - 42 * MIN, 'restart-miner'), step(T0 - 34 * MIN, 'restart-miner'),
      action(T0 - 33 * MIN, 'quarantine', 'watchdog'), action(T0 - 20 * MIN, 'release', 'operator'),
    ]),
    expected: { kind: 'restart-miner', reason: 'miner-unreachable', params: { step: 1 } },
  },
  {
    name: 'a restart reported failed but seen to happen (the miner started after it) gets its grace period',
    input: () => input(spec, [...deadBoard(T0 - 10 * MIN, T0 - 2 * MIN), ...series(T0 - 100 * SEC, T0, () => ({ startedAt: T0 - 110 * SEC, boards: boards(3, 65, { 2: { state: 'dead', hashrateHs: 0 } }), hashrateHs: 67 * TH }))],
      [step(T0 - 2 * MIN, 'restart-miner', { outcome: 'failed', cause: 'no reply within 10000 ms', reason: 'board-dead' })]),
    expected: null,
  },
  {
    name: 'a restart reported failed and seen not to happen (uptime went on) is followed by the reboot at once',
    input: () => input(spec, deadBoard(T0 - 10 * MIN, T0), [step(T0 - 2 * MIN, 'restart-miner', { outcome: 'failed', cause: 'no reply within 10000 ms', reason: 'board-dead' })]),
    expected: { kind: 'reboot-host', reason: 'board-dead', params: { step: 2 } },
  },
  {
    name: 'a quarantined rig healthy and hashing for 15 min is reported once as healthy-while-quarantined',
    input: () => input(spec, [...unreachable(T0 - 30 * MIN, T0 - 16 * MIN - 10 * SEC), ...healthyAgain(T0 - 15 * MIN, T0)], [action(T0 - 20 * MIN, 'quarantine', 'watchdog', {}, { reason: 'ladder-exhausted' })]),
    expected: { kind: 'alert', reason: 'healthy-while-quarantined', params: { subject: 'quarantine' } },
  },
  {
    name: 'the healthy-while-quarantined alert is said once per quarantine',
    input: () => input(spec, [...unreachable(T0 - 30 * MIN, T0 - 16 * MIN - 10 * SEC), ...healthyAgain(T0 - 15 * MIN, T0)], [
      action(T0 - 20 * MIN, 'quarantine', 'watchdog'), told(T0 - MIN, 'quarantine', 'healthy-while-quarantined'),
    ]),
    expected: null,
  },
  {
    name: 'a quarantined rig healthy for only 10 min is not reported yet',
    input: () => input(spec, [...unreachable(T0 - 30 * MIN, T0 - 11 * MIN), ...healthyAgain(T0 - 10 * MIN, T0)], [action(T0 - 20 * MIN, 'quarantine', 'watchdog')]),
    expected: null,
  },
  {
    name: 'with autoReleaseAfterMs, a quarantined rig healthy that long is released by the watchdog',
    input: () => input(rigSpec({ policy: { watchdog: { autoReleaseAfterMs: 10 * MIN } } }), [...unreachable(T0 - 30 * MIN, T0 - 11 * MIN), ...healthyAgain(T0 - 10 * MIN, T0)],
      [action(T0 - 20 * MIN, 'quarantine', 'watchdog')]),
    expected: { kind: 'release', reason: 'healthy-while-quarantined', params: { quarantinedAt: T0 - 20 * MIN, healthyForMs: 10 * MIN } },
  },
];

describe('watchdog-policy (issue 15)', () => {
  it.each(issue15.map((s) => [s.name, s] as const))('watchdog-policy: %s', (_name, s) => {
    const decisions = policy.evaluate(s.input(), T0);
    if (s.expected === null) {
      expect(decisions).toEqual([]);
      return;
    }
    expect(decisions[0]).toMatchObject({ policy: 'watchdog', kind: s.expected.kind, reason: s.expected.reason });
    expect(decisions.slice(1).map((d) => d.reason)).toEqual(s.expected.alerts ?? []);
    if (s.expected.params) expect(decisions[0]!.params).toMatchObject(s.expected.params);
  });

  it('watchdog-policy: the idle alert says what was seen and that nothing is restarted', () => {
    const [d] = policy.evaluate(input(noExpected, zeroBoards(T0 - 7 * MIN, T0, T0 - 7 * MIN)), T0);
    expect(d!.message).toBe(
      'rig rig-7: the miner reports no device and 0 H/s since it started 7 min ago (seen over 3 min, 19 readings); idle, not restarted: check its device options or hardware',
    );
    expect(d!.severity).toBe('warning');
  });

  it('watchdog-policy: the not-configured notice names the step, why, and where the ladder goes instead', () => {
    const decisions = policy.evaluate(input(rigSpec({ capabilities: { rebootHost: false } }), [...healthy(T0 - 20 * MIN, T0 - 7 * MIN), ...unreachable(T0 - 6 * MIN, T0)],
      [step(T0 - 5 * MIN, 'restart-miner')]), T0);
    expect(decisions.map((d) => d.kind)).toEqual(['power-cycle', 'alert']);
    expect(decisions[0]!.message).toBe(
      'rig rig-7: the miner API has been unreachable for 5 min (timeout); power-cycling the outlet (step 2 of 2, 5 min after restart-miner did not help); skipped reboot-host (not available)',
    );
    expect(decisions[1]).toMatchObject({
      severity: 'info',
      message: 'rig rig-7: reboot-host not configured (spec capabilities.rebootHost: false); skipped, the ladder goes on to power-cycle',
    });
  });
});

// --- issue 17: a command's settle time on the miner's control path ---------------------------------------------

describe('watchdog-policy: command settle times (issue 17)', () => {
  const on = (driver: string, list: ReturnType<typeof series>) => list.map((o) => ({ ...o, driver }));
  const poolChange = (at: number, outcome: ActionRecord['outcome'] = 'succeeded') =>
    action(at, 'switch-pool', 'failover', { poolIndex: 1 }, { reason: 'pool-dead', outcome });
  const zeroSince = (from: number) => series(from, T0, () => ({ boards: boards(3, 65, { 0: { hashrateHs: 0 }, 1: { hashrateHs: 0 }, 2: { hashrateHs: 0 } }), hashrateHs: 0 }));
  const history = (from: number) => [...healthy(T0 - 30 * MIN, from - 5 * SEC), ...zeroSince(from)];

  it('watchdog-policy: over the cgminer API a pool switch settles at once: 3 min of zero hashrate after it restarts the miner', () => {
    const [d] = policy.evaluate(input(noExpected, on('cgminer', history(T0 - 6 * MIN)), [poolChange(T0 - 6 * MIN)]), T0);
    expect(d).toMatchObject({ kind: 'restart-miner', reason: 'hashrate-low' });
  });

  it('watchdog-policy: a pool change through the stock Antminer web API restarts mining: no fault until it has settled (4 min) and 3 min after', () => {
    expect(policy.evaluate(input(noExpected, on('antminer-web', history(T0 - 3 * MIN)), [poolChange(T0 - 3 * MIN)]), T0)).toEqual([]); // still settling
    expect(policy.evaluate(input(noExpected, on('antminer-web', history(T0 - 6 * MIN)), [poolChange(T0 - 6 * MIN)]), T0)).toEqual([]); // 2 min after: no verdict yet
    const [d] = policy.evaluate(input(noExpected, on('antminer-web', history(T0 - 8 * MIN)), [poolChange(T0 - 8 * MIN)]), T0);
    expect(d).toMatchObject({ kind: 'restart-miner', reason: 'hashrate-low' });
    expect((d!.params as { evidence: { fromAt: number } }).evidence.fromAt).toBeGreaterThanOrEqual(T0 - 4 * MIN); // only readings after it settled
  });

  it('watchdog-policy: a pool change the miner refused changed nothing and has no settle time', () => {
    const [d] = policy.evaluate(input(noExpected, on('antminer-web', history(T0 - 6 * MIN)), [poolChange(T0 - 6 * MIN, 'rejected')]), T0);
    expect(d).toMatchObject({ kind: 'restart-miner', reason: 'hashrate-low' });
  });

  it('watchdog-policy: a fleet override of one driver keeps the others, and a "*" entry covers every driver', () => {
    const slowEverywhere = rigSpec({ expectedHashrateHs: undefined, profiles: [], policy: { watchdog: { commandSettleMs: { '*': { 'switch-pool': 10 * MIN } } } } });
    expect(policy.evaluate(input(slowEverywhere, on('cgminer', history(T0 - 8 * MIN)), [poolChange(T0 - 8 * MIN)]), T0)).toEqual([]);
  });
});
