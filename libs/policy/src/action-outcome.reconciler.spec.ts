import { capabilityMissing, reconcileActionOutcome, type ReconcileOptions, type ReconciledOutcome } from './action-outcome.reconciler';
import type { ActionRecord, RigObservation } from './policy-types';
import { MIN, SEC, T0, action, obs, series } from './testing/policy-fixtures';

const DAY_OLD = T0 - 24 * 60 * MIN;
const restart = (extra: Partial<ActionRecord> = {}) => action(T0, 'restart-miner', 'watchdog', { trigger: 'hashrate-low' }, { reason: 'hashrate-low', ...extra });
const reboot = (extra: Partial<ActionRecord> = {}) => action(T0, 'reboot-host', 'watchdog', { trigger: 'miner-unreachable' }, { reason: 'miner-unreachable', ...extra });
const before = series(T0 - 5 * MIN, T0 - 10 * SEC, () => ({ startedAt: DAY_OLD }));
/** The miner process restarted `afterMs` after the command: its uptime counts from then. */
const restartedAfter = (afterMs: number) => series(T0 + afterMs + 10 * SEC, T0 + afterMs + 3 * MIN, () => ({ startedAt: T0 + afterMs }));
const keptRunning = series(T0 + 10 * SEC, T0 + 2 * MIN, () => ({ startedAt: DAY_OLD }));
const withoutUptime = (o: RigObservation): RigObservation => {
  const { uptimeS: _uptime, ...rest } = o;
  return rest;
};

interface Case {
  readonly name: string;
  readonly action: ActionRecord;
  readonly observations: readonly RigObservation[];
  readonly options?: ReconcileOptions;
  readonly expected: Partial<ReconciledOutcome>;
}

const cases: Case[] = [
  {
    name: 'a restart reported failed (no reply within 10000 ms) but followed by a miner start is succeeded (observed)',
    action: restart({ outcome: 'failed', cause: 'no reply within 10000 ms' }),
    observations: [...before, ...restartedAfter(3 * MIN)],
    expected: { outcome: 'succeeded', reported: 'failed', observed: true, effect: 'happened', ran: true, minerStartedAt: T0 + 3 * MIN },
  },
  {
    name: 'a restart that timed out and ran when the stopped process resumed 9 min later is succeeded (observed)',
    action: restart({ outcome: 'timed-out' }),
    observations: [...before, ...series(T0 + 10 * SEC, T0 + 9 * MIN - 10 * SEC, () => ({ reachable: false })), ...restartedAfter(9 * MIN)],
    expected: { outcome: 'succeeded', observed: true, effect: 'happened', ran: true },
  },
  {
    name: 'a restart reported failed while the miner kept its uptime did not act (no effect)',
    action: restart({ outcome: 'failed', cause: 'no reply within 10000 ms' }),
    observations: [...before, ...keptRunning],
    expected: { outcome: 'failed', observed: false, effect: 'not-happened', ran: false, notRun: 'no-effect' },
  },
  {
    name: 'a restart reported failed with no reading since is unknown and may have run',
    action: restart({ outcome: 'failed' }),
    observations: before,
    expected: { outcome: 'failed', effect: 'unknown', ran: true },
  },
  {
    name: 'a restart reported failed and unreachable since is unknown and may have run',
    action: restart({ outcome: 'timed-out' }),
    observations: [...before, ...series(T0 + 10 * SEC, T0 + 2 * MIN, () => ({ reachable: false }))],
    expected: { outcome: 'timed-out', effect: 'unknown', ran: true },
  },
  {
    name: 'a miner start 20 min after the command is outside the window and not put down to it',
    action: restart({ outcome: 'failed' }),
    observations: [...before, ...series(T0 + 10 * SEC, T0 + 20 * MIN, () => ({ reachable: false })), ...series(T0 + 20 * MIN + 10 * SEC, T0 + 21 * MIN, () => ({ startedAt: T0 + 20 * MIN }))],
    expected: { outcome: 'failed', observed: false },
  },
  {
    name: 'a miner start after the next remedy belongs to that one',
    action: restart({ outcome: 'failed' }),
    observations: [...before, ...series(T0 + 10 * SEC, T0 + MIN, () => ({ reachable: false })), ...restartedAfter(2 * MIN)],
    options: { until: T0 + 90 * SEC },
    expected: { outcome: 'failed', observed: false },
  },
  {
    name: 'a power-cycle reported failed because the rig has no PDU outlet did not run',
    action: action(T0, 'power-cycle', 'watchdog', {}, { outcome: 'failed', cause: 'rig rig-7 has no PDU outlet configured (rigs.rig-7.pdu in the agent config)' }),
    observations: [...before, ...keptRunning],
    expected: { outcome: 'failed', ran: false, notRun: 'not-configured' },
  },
  {
    name: 'a reboot reported failed because the rig has no reboot command did not run',
    action: reboot({ outcome: 'failed', cause: 'rig rig-7 has no reboot command configured (rigs.rig-7.rebootCommand in the agent config)' }),
    observations: before,
    expected: { ran: false, notRun: 'not-configured' },
  },
  {
    name: 'a command that never reached the agent did not run',
    action: restart({ outcome: 'failed', delivered: false, cause: 'no active key for the rig' }),
    observations: [...before, ...restartedAfter(MIN)],
    expected: { outcome: 'failed', ran: false, notRun: 'not-delivered', observed: false },
  },
  {
    name: 'a command refused before execution did not run, even if the miner restarted by itself',
    action: restart({ outcome: 'rejected', cause: 'signature does not verify' }),
    observations: [...before, ...restartedAfter(MIN)],
    expected: { outcome: 'rejected', ran: false, notRun: 'rejected', observed: false },
  },
  {
    name: 'a reboot reported timed-out followed by the agent\'s sequence starting over is succeeded (observed)',
    action: reboot({ outcome: 'timed-out' }),
    observations: [
      ...before.map(withoutUptime),
      ...series(T0 + 2 * MIN, T0 + 3 * MIN).map((o, i) => ({ ...withoutUptime(o), seq: i + 1 })),
    ],
    expected: { outcome: 'succeeded', observed: true, effect: 'happened' },
  },
  {
    name: 'a reboot reported failed on a miner without uptime that answered again after a gap is succeeded (observed)',
    action: reboot({ outcome: 'failed' }),
    observations: [...before, ...series(T0 + 10 * SEC, T0 + MIN, () => ({ reachable: false })), ...series(T0 + 70 * SEC, T0 + 3 * MIN)].map(withoutUptime),
    expected: { outcome: 'succeeded', observed: true, effect: 'happened' },
  },
  {
    name: 'a restart reported succeeded stays succeeded, with the miner start as evidence',
    action: restart({ outcome: 'succeeded' }),
    observations: [...before, ...restartedAfter(5 * SEC)],
    expected: { outcome: 'succeeded', observed: false, effect: 'happened', ran: true },
  },
  {
    name: 'a pending restart seen to happen is succeeded (observed)',
    action: restart({ outcome: 'pending' }),
    observations: [...before, ...restartedAfter(5 * SEC)],
    expected: { outcome: 'succeeded', observed: true },
  },
  {
    name: 'an action that is not a remedy comes back as reported',
    action: action(T0, 'switch-pool', 'failover', { poolIndex: 1 }, { outcome: 'failed' }),
    observations: [...before, ...restartedAfter(MIN)],
    expected: { outcome: 'failed', observed: false, ran: true },
  },
];

describe('action-outcome-reconciler', () => {
  it.each(cases.map((c) => [c.name, c] as const))('action-outcome-reconciler: %s', (_name, c) => {
    expect(reconcileActionOutcome(c.action, c.observations, c.options)).toMatchObject(c.expected);
  });

  it('action-outcome-reconciler: the evidence says what was reported and what the miner showed', () => {
    const r = reconcileActionOutcome(restart({ outcome: 'failed', cause: 'no reply within 10000 ms' }), [...before, ...restartedAfter(3 * MIN)]);
    expect(r.evidence).toBe(
      'restart-miner reported failed: no reply within 10000 ms, but the miner started 3 min after the command (uptime 10 s in the reading 3 min after it)',
    );
  });

  it.each([
    ['rig rig-7 has no PDU outlet configured (rigs.rig-7.pdu in the agent config)', true],
    ['rig rig-7 has no reboot command configured (rigs.rig-7.rebootCommand in the agent config)', true],
    ['unsupported: driver gpu at 10.0.0.9:4067 cannot do restarting the miner', true],
    ["Access denied to 'restart' command (Code 45)", true],
    ['no reply within 10000 ms', false],
    ['reboot command ssh failed: Connection refused', false],
  ])('action-outcome-reconciler: cause "%s" means the capability is missing: %s', (cause, missing) => {
    expect(capabilityMissing(cause)).toBe(missing);
  });

  it('action-outcome-reconciler: a single reading right after the command is no verdict that it did not act', () => {
    const r = reconcileActionOutcome(restart({ outcome: 'failed' }), [...before, obs(T0 + 10 * SEC, { startedAt: DAY_OLD })]);
    expect(r).toMatchObject({ effect: 'unknown', ran: true });
  });
});
