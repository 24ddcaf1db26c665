/**
 * The watchdog replayed through what the real programs of issue 15 showed (cgminer 4.11.1 without devices,
 * cgminer 2.11.4 with its uninitialised second CPU; replies in testdata/cgminer-real, see SOURCE.md there), driven
 * the way the controller does: every 5 s a snapshot, observeSnapshot, evaluateRig, every decision in `act` recorded,
 * commands answered by the simulated rig. The failover policy is left out: pools are another policy's matter.
 */
import { Board, BoardStatus, MinerSnapshot, PoolStatus } from '@rigwarden/protocol';
import devs211 from '../testdata/cgminer-real/cgminer-2.11.4/05-devs.json';
import summary211 from '../testdata/cgminer-real/cgminer-2.11.4/03-summary.json';
import devs411 from '../testdata/cgminer-real/cgminer-4.11.1/05-devs.json';
import summary411 from '../testdata/cgminer-real/cgminer-4.11.1/03-summary.json';
import { reconcileActionOutcome } from './action-outcome.reconciler';
import { evaluateRig } from './evaluate-rig';
import type { ActionOutcome, ActionRecord, Decision, EpochMs, RigHistory, RigSpec } from './policy-types';
import { actionFromDecision, appendAction, appendObservation, EMPTY_HISTORY, setActionOutcome } from './rig-history';
import { observeSnapshot } from './snapshot-observation.mapper';
import { MIN, SEC, T0, seededRandom } from './testing/policy-fixtures';
import { ThermalPolicy } from './thermal.policy';
import { WatchdogPolicy } from './watchdog.policy';

const POLL = 5 * SEC;
/** A fleet spec as a new user writes it: pools A then B, nothing else. */
const newUserSpec: RigSpec = {
  rigId: 'cpu-1',
  kind: 'asic',
  pools: [{ url: 'stratum+tcp://127.0.0.1:3333', user: 'a' }, { url: 'stratum+tcp://127.0.0.1:3334', user: 'b' }],
  profiles: [],
};
const policies = [new ThermalPolicy(), new WatchdogPolicy()];

interface CommandAnswer {
  readonly outcome: ActionOutcome;
  readonly cause?: string;
  /** When the result comes back, after the command. */
  readonly afterMs: number;
}

interface SimulatedRig {
  snapshot(at: EpochMs, seq: number): MinerSnapshot;
  /** A command from the watchdog: what the agent will answer (and what the rig does meanwhile). */
  command(decision: Decision, at: EpochMs): CommandAnswer | undefined;
}

interface Replay {
  readonly decisions: { at: EpochMs; decision: Decision }[];
  readonly history: RigHistory;
}

function replay(rig: SimulatedRig, spec: RigSpec, from: EpochMs, to: EpochMs, operator: (at: EpochMs, h: RigHistory) => RigHistory = (_at, h) => h): Replay {
  let history = EMPTY_HISTORY;
  const decisions: Replay['decisions'] = [];
  const answers: { id: string; due: EpochMs; answer: CommandAnswer }[] = [];
  let seq = 0;
  for (let at = from; at <= to; at += POLL) {
    for (const a of answers.filter((x) => x.due <= at)) {
      history = setActionOutcome(history, a.id, a.answer.outcome, a.answer.cause ? { cause: a.answer.cause } : {});
      answers.splice(answers.indexOf(a), 1);
    }
    history = operator(at, history);
    const latest = observeSnapshot(rig.snapshot(at, ++seq), at);
    history = appendObservation(history, latest);
    const { act } = evaluateRig({ spec, status: { rigId: spec.rigId, latest }, history }, at, { policies });
    for (const decision of act) {
      decisions.push({ at, decision });
      const answer = rig.command(decision, at);
      const id = `cmd-${decisions.length}`;
      history = appendAction(history, actionFromDecision(decision, answer ? { id, outcome: 'pending' } : {}));
      if (answer) answers.push({ id, due: at + answer.afterMs, answer });
    }
  }
  return { decisions, history };
}

const kinds = (r: Replay) => r.decisions.map((d) => `${d.decision.kind}/${d.decision.reason}`);
const REMEDIES = new Set(['restart-miner', 'reboot-host', 'power-cycle', 'quarantine']);

/** The agent's answers on a rig set up as a new user does: no reboot command, no PDU outlet. */
function newUserAgent(decision: Decision): CommandAnswer | undefined {
  switch (decision.kind) {
    case 'restart-miner':
      return { outcome: 'succeeded', afterMs: 4 * SEC };
    case 'reboot-host':
      return { outcome: 'failed', cause: 'rig cpu-1 has no reboot command configured (rigs.cpu-1.rebootCommand in the agent config)', afterMs: 50 };
    case 'power-cycle':
      return { outcome: 'failed', cause: 'rig cpu-1 has no PDU outlet configured (rigs.cpu-1.pdu in the agent config)', afterMs: 50 };
    default:
      return undefined;
  }
}

/** cgminer 4.11.1 as recorded: no device (devs: Code 10 "No ASCs"), 0.00 MH/s in every summary window. */
function cgminer411(startedAt: EpochMs): SimulatedRig {
  const s = summary411.SUMMARY[0]!;
  expect(devs411.STATUS[0]).toMatchObject({ STATUS: 'E', Code: 10, Msg: 'No ASCs' });
  return {
    snapshot: (at, seq) => MinerSnapshot.fromPartial({
      rigId: 'cpu-1', minerId: '127.0.0.1:4028', software: 'cgminer', softwareVersion: '4.11.1', seq,
      uptimeS: Math.floor((at - startedAt) / SEC),
      hashrate5sHs: s['MHS 5s'] * 1e6,
      hashrateAvgHs: s['MHS av'] * 1e6,
      boards: [], // the devs reply is an error: no device at all
      pools: [
        { index: 0, url: 'stratum+tcp://127.0.0.1:3333', user: 'a', status: PoolStatus.POOL_STATUS_ALIVE, active: true, accepted: s.Accepted },
        { index: 1, url: 'stratum+tcp://127.0.0.1:3334', user: 'b', status: PoolStatus.POOL_STATUS_ALIVE, active: false, accepted: 0 },
      ],
    }),
    command: (d) => newUserAgent(d),
  };
}

/**
 * cgminer 2.11.4 as recorded ("2 CPU(s)" with -t 1): CPU 0 hashes (0.5-1 MH/s, seeded; the recorded reply was taken
 * 26 s in, when its 5 s rate still read 0.00), CPU 1 is the uninitialised one, exactly as recorded. The generic
 * dialect's rule makes a 0 H/s device DEAD; `driverFlags` says whether the driver set phantom_reason.
 */
function cgminer211(startedAt: EpochMs, driverFlags: boolean): SimulatedRig {
  const random = seededRandom(211);
  const [cpu0, cpu1] = devs211.DEVS;
  expect(cpu1).toMatchObject({ CPU: 1, Accepted: 1701146671, Rejected: 1969368434 });
  const board = (d: typeof cpu0, hs: number, phantom: string) => Board.fromPartial({
    index: d!.CPU, hashrateHs: hs, accepted: d!.Accepted, rejected: d!.Rejected,
    status: hs === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK, phantomReason: phantom,
  });
  return {
    snapshot: (at, seq) => {
      const hs = (0.5 + random() * 0.5) * 1e6;
      return MinerSnapshot.fromPartial({
        rigId: 'cpu-1', minerId: '127.0.0.1:4030', software: 'cgminer', softwareVersion: '2.11.4', seq,
        uptimeS: Math.floor((at - startedAt) / SEC) + summary211.SUMMARY[0]!.Elapsed,
        hashrate5sHs: hs,
        boards: [board(cpu0, hs, ''), board(cpu1, cpu1!['MHS 5s'] * 1e6, driverFlags ? 'Accepted 1701146671 after 26 s' : '')],
        pools: [{ index: 0, url: 'stratum+tcp://127.0.0.1:3333', user: 'a', status: PoolStatus.POOL_STATUS_ALIVE, active: true, accepted: 0 }],
      });
    },
    command: (d) => newUserAgent(d),
  };
}

describe('watchdog on the real miners of issue 15', () => {
  it('watchdog-real-miners: cgminer 4.11.1 without devices for 7 min gets one idle alert and no remedy', () => {
    const r = replay(cgminer411(T0), newUserSpec, T0, T0 + 7 * MIN);
    expect(kinds(r)).toEqual(['alert/miner-idle-no-devices']);
    expect(r.decisions[0]!.at).toBe(T0 + 3 * MIN);
  });

  it('watchdog-real-miners: cgminer 4.11.1 without devices for an hour is still not restarted, and told once', () => {
    const r = replay(cgminer411(T0), newUserSpec, T0, T0 + 60 * MIN);
    expect(r.decisions.filter((d) => REMEDIES.has(d.decision.kind))).toEqual([]);
    expect(kinds(r)).toEqual(['alert/miner-idle-no-devices']);
  });

  it.each([
    ['with the driver\'s phantom_reason', true],
    ['on the policy lib\'s own check (Accepted 1701146671 at 0 H/s)', false],
  ])('watchdog-real-miners: cgminer 2.11.4 with its phantom CPU for 30 min gets no remedy, %s', (_how, driverFlags) => {
    const r = replay(cgminer211(T0, driverFlags), newUserSpec, T0, T0 + 30 * MIN);
    expect(kinds(r)).toEqual([]);
    const last = r.history.observations[r.history.observations.length - 1]!;
    expect(last.boards.map((b) => b.index)).toEqual([0]);
    expect(last.phantomBoards).toEqual([{ index: 1, reason: driverFlags ? 'Accepted 1701146671 after 26 s' : 'accepted 1701146671 at 0 H/s: beyond any real device (uninitialised values)' }]);
  });

  it('watchdog-real-miners: a restart reported failed while the process was stopped, that ran when it resumed, counts as succeeded', () => {
    // A hash board dies; the miner process is stopped (SIGSTOP) when the restart comes: no reply within 10 s, then it
    // resumes 40 s later, runs the restart and is back 5 s after.
    let startedAt = T0 - 60 * MIN;
    let stoppedUntil: EpochMs | undefined;
    const boards = (alive: boolean) => [0, 1, 2].map((index) => Board.fromPartial({
      index, hashrateHs: index === 2 && !alive ? 0 : 1e12, status: index === 2 && !alive ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
    }));
    const rig: SimulatedRig = {
      snapshot: (at, seq) => {
        if (stoppedUntil !== undefined && at < stoppedUntil + 5 * SEC) {
          return MinerSnapshot.fromPartial({ rigId: 'cpu-1', minerId: 'm', seq, errors: [{ kind: 'timeout', message: 'no reply within 10000 ms' }] });
        }
        return MinerSnapshot.fromPartial({ rigId: 'cpu-1', minerId: 'm', seq, uptimeS: Math.floor((at - startedAt) / SEC), hashrate5sHs: 2e12, boards: boards(at < T0 + MIN) });
      },
      command: (d, at) => {
        if (d.kind !== 'restart-miner') return newUserAgent(d);
        stoppedUntil = at + 40 * SEC;
        startedAt = stoppedUntil;
        return { outcome: 'failed', cause: 'no reply within 10000 ms', afterMs: 10 * SEC };
      },
    };
    const r = replay(rig, newUserSpec, T0, T0 + 15 * MIN);
    const restart = r.decisions.find((d) => d.decision.kind === 'restart-miner')!;
    const reboot = r.decisions.find((d) => d.decision.kind === 'reboot-host')!;
    expect(restart.at).toBe(T0 + 3 * MIN);
    // Not at once on the failure (as before): the restart was seen to happen, so it got its 5 min grace period.
    expect(reboot.at - restart.at).toBeGreaterThanOrEqual(5 * MIN);
    const recorded = r.history.actions.find((a) => a.kind === 'restart-miner')!;
    expect(recorded).toMatchObject({ outcome: 'failed', cause: 'no reply within 10000 ms' });
    expect(reconcileActionOutcome(recorded, r.history.observations)).toMatchObject({
      outcome: 'succeeded', observed: true, ran: true, minerStartedAt: restart.at + 40 * SEC,
    });
  });

  it('watchdog-real-miners: steps that cannot run are said once and not counted; a release resets the ladder and the cap', () => {
    // A dead board a restart does not fix, on a rig with neither a reboot command nor a PDU outlet.
    const rig: SimulatedRig = {
      snapshot: (at, seq) => MinerSnapshot.fromPartial({
        rigId: 'cpu-1', minerId: 'm', seq, uptimeS: Math.floor((at - (T0 - 60 * MIN)) / SEC), hashrate5sHs: 2e12,
        boards: [0, 1, 2].map((index) => Board.fromPartial({ index, hashrateHs: index === 2 ? 0 : 1e12, status: index === 2 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK })),
      }),
      command: (d) => newUserAgent(d),
    };
    const releaseAt = T0 + 20 * MIN;
    const release: ActionRecord = { at: releaseAt, kind: 'release', reason: 'operator checked the board', by: 'operator', params: {} };
    const r = replay(rig, newUserSpec, T0, T0 + 40 * MIN, (at, h) => (at === releaseAt ? appendAction(h, release) : h));
    const before = r.decisions.filter((d) => d.at < releaseAt).map((d) => `${d.decision.kind}/${d.decision.reason}`);
    expect(before).toEqual([
      'restart-miner/board-dead',
      'reboot-host/board-dead',
      'power-cycle/board-dead',
      'alert/remedy-not-configured',
      'quarantine/ladder-exhausted',
      'alert/remedy-not-configured',
    ]);
    const quarantine = r.decisions.find((d) => d.decision.kind === 'quarantine')!.decision;
    expect(quarantine.params).toMatchObject({ actionsLastHour: 1 }); // only the restart ran
    const after = r.decisions.filter((d) => d.at >= releaseAt);
    expect(after[0]).toMatchObject({ at: releaseAt, decision: { kind: 'restart-miner', params: { step: 1 } } });
    expect(after.some((d) => d.decision.reason === 'action-cap-reached')).toBe(false);
  });
});
