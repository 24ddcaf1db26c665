import { EMPTY_HISTORY, resolveParams, type ActionRecord, type PoolObservation, type RigHistory, type RigObservation } from '@rigwarden/policy';
import { ManualClock } from '@rigwarden/shared';
import { ChangePoints, nextReconcileAt } from './next-reconcile';
import { ReconcileSchedule } from './reconcile-schedule';

const T = Date.parse('2026-12-03T12:00:00Z');
const S = 1000;

const pool = (index: number, over: Partial<PoolObservation>): PoolObservation => ({ index, url: `stratum+tcp://pool-${index}:3333`, user: 'w', state: 'alive', active: false, ...over });
const reading = (at: number, pools: PoolObservation[]): RigObservation => ({
  at, rigId: 'r1', minerId: 'm1', reachable: true, errorKinds: [], uptimeS: 86_400 + (at - T) / 1000, hashrateHs: 1e12, boards: [], fans: [], pools,
});

/** Each time the reconciler would wake up from `now` on, if nothing new arrived, until `until`. */
function wakes(params: ReturnType<typeof resolveParams>, history: RigHistory, now: number, until: number): number[] {
  const changes = new ChangePoints();
  changes.update(history.observations, params);
  const out: number[] = [];
  for (let at = nextReconcileAt(params, history, changes, now); at !== undefined && at <= until; at = nextReconcileAt(params, history, changes, at)) out.push(at);
  return out;
}

describe('nextReconcileAt (fixed clock)', () => {
  // A 60 s poll: the agent reads the miner once a minute; the policies accept readings up to 2 min old.
  const params = resolveParams({ freshness: { staleAfterMs: 120 * S }, failover: { silentAfterMs: 30 * S, switchCooldownMs: 60 * S, failbackStableMs: 300 * S } });

  it('failover: a fail-back due in 40 s (5 min after the switch away) gets a reconcile at that time, with no new telemetry', () => {
    const switchedAt = T - 260 * S;
    const observations = [-320, -260, -200, -140, -80, -20].map((ago, i) => reading(T + ago * S, ago < -260
      ? [pool(0, { state: 'dead', active: true }), pool(1, { accepted: 0 })]
      : [pool(0, {}), pool(1, { active: true, accepted: 10 * i })]));
    const switched: ActionRecord = { at: switchedAt, kind: 'switch-pool', reason: 'active-pool-dead', by: 'failover', params: { poolIndex: 1 }, id: 'c1', outcome: 'succeeded' };
    const history: RigHistory = { observations, actions: [switched] };
    const times = wakes(params, history, T, T + 100 * S);
    expect(times).toContain(T + 40 * S);
    // Early wakes are allowed (a reconcile that decides nothing: e.g. the share-silence check 30 s after the last
    // share, at +10 s) but few.
    expect(times).toContain(T + 10 * S);
    expect(times.filter((t) => t < T + 40 * S).length).toBeLessThanOrEqual(4);
  });

  it('engine: a pending command that blocks the next action is looked at again when its timeout ends', () => {
    const observations = [reading(T - 5 * S, [pool(0, { active: true, accepted: 5 })])];
    const pending: ActionRecord = { at: T - 100 * S, kind: 'restart-miner', reason: 'hashrate-low', by: 'watchdog', params: {}, id: 'c2', outcome: 'pending' };
    // Whatever else wakes it earlier, the end of the 2 min pending timeout is one of the wakes.
    expect(wakes(params, { observations, actions: [pending] }, T, T + 60 * S)).toContain(T + 20 * S);
  });

  it('freshness: nothing is due once the newest reading is stale (no policy acts on it)', () => {
    const defaults = resolveParams();
    const observations = [reading(T - 200 * S, [pool(0, { active: true })])];
    const changes = new ChangePoints();
    changes.update(observations, defaults);
    expect(nextReconcileAt(defaults, { ...EMPTY_HISTORY, observations }, changes, T)).toBeUndefined();
  });

  it('never sooner than 250 ms after the reconcile that asked', () => {
    const observations = [reading(T - 29_900, [pool(0, { active: true, accepted: 1 })])];
    const changes = new ChangePoints();
    changes.update(observations, params);
    expect(nextReconcileAt(params, { ...EMPTY_HISTORY, observations }, changes, T)).toBe(T + 250);
  });
});

describe('ReconcileSchedule (fake timers, fixed clock)', () => {
  beforeEach(() => jest.useFakeTimers({ now: T }));
  afterEach(() => jest.useRealTimers());

  it('one timer for every rig: runs each rig at its time, a later request replaces an earlier one, undefined cancels', () => {
    const clock = new ManualClock(T);
    const ran: Array<[string, number]> = [];
    const schedule = new ReconcileSchedule(() => clock, (rigId) => ran.push([rigId, (clock.now() - T) / S]));
    schedule.set('r1', T + 40 * S);
    schedule.set('r2', T + 10 * S);
    schedule.set('r3', T + 20 * S);
    schedule.set('r2', T + 50 * S); // r2's reconcile ran meanwhile and asked for later
    schedule.set('r3', undefined);
    expect(jest.getTimerCount()).toBe(1);
    for (let s = 0; s < 60; s++) {
      clock.advance(S);
      jest.advanceTimersByTime(S);
    }
    expect(ran).toEqual([['r1', 40], ['r2', 50]]);
    expect(schedule.size).toBe(0);
    schedule.stop();
  });

  it('keeps its heap bounded when rigs are rescheduled on every reconcile', () => {
    const clock = new ManualClock(T);
    const schedule = new ReconcileSchedule(() => clock, () => undefined);
    for (let i = 0; i < 100_000; i++) schedule.set(`r${i % 10}`, T + 60 * S + i);
    expect(schedule.size).toBe(10);
    expect((schedule as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(2 * 10 + 1025);
    schedule.stop();
  });
});
