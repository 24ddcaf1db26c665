/**
 * Seeded property tests of the watchdog's evidence rules (issue 15): random faults, readings that go missing
 * (single polls and minutes-long gaps), miner restarts, commands that fail, time out, never arrive or lack the
 * capability, driven the way the controller does. Whatever happens, a remedy rests on a window observed whole,
 * and the hourly cap counts only remedies that ran.
 */
import { DEFAULT_POLICY_PARAMS } from './policy-defaults';
import type { ActionOutcome, ActionRecord, Decision, EpochMs, RigHistory, RigObservation } from './policy-types';
import { actionFromDecision, appendAction, appendObservation, EMPTY_HISTORY } from './rig-history';
import { MIN, SEC, T0, TH, boards, obs, rigSpec, seededRandom } from './testing/policy-fixtures';
import { WatchdogPolicy } from './watchdog.policy';

const SEEDS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
const P = DEFAULT_POLICY_PARAMS.watchdog;
const GAP = DEFAULT_POLICY_PARAMS.freshness.maxGapMs;
const REMEDIES = new Set(['restart-miner', 'reboot-host', 'power-cycle']);
const WINDOW: Record<string, number> = {
  'miner-unreachable': P.unreachableForMs,
  'board-dead': P.deadBoardForMs,
  'board-missing': P.missingBoardForMs,
  'hw-error-rate': P.hwErrorWindowMs,
  'hashrate-low': Math.min(P.zeroHashrateForMs, P.lowHashrateForMs),
};

interface Run {
  readonly decisions: { at: EpochMs; decision: Decision }[];
  readonly history: RigHistory;
  /** Every reading taken, not only those the bounded history kept. */
  readonly readings: RigObservation[];
}

type Fault = 'none' | 'zero' | 'dead' | 'unreachable' | 'slow';

function run(seed: number): Run {
  const random = seededRandom(seed);
  const spec = rigSpec();
  const policy = new WatchdogPolicy();
  let history = EMPTY_HISTORY;
  const decisions: Run['decisions'] = [];
  const readings: RigObservation[] = [];
  let fault: Fault = 'none';
  let faultUntil = T0;
  let startedAt = T0 - 60 * MIN;
  let gapUntil = Number.NEGATIVE_INFINITY;
  const pending: { id: string; due: EpochMs; outcome: ActionOutcome; cause?: string; delivered?: boolean }[] = [];
  let n = 0;
  for (let at = T0; at <= T0 + 4 * 60 * MIN; at += 10 * SEC) {
    if (at >= faultUntil) {
      const r = random();
      fault = r < 0.35 ? 'none' : r < 0.5 ? 'zero' : r < 0.65 ? 'dead' : r < 0.8 ? 'unreachable' : 'slow';
      faultUntil = at + (30 + Math.floor(random() * 600)) * SEC;
    }
    for (const p of pending.filter((x) => x.due <= at)) {
      history = { ...history, actions: history.actions.map((a) => (a.id === p.id ? { ...a, outcome: p.outcome, ...(p.cause ? { cause: p.cause } : {}), ...(p.delivered === false ? { delivered: false } : {}) } : a)) };
      pending.splice(pending.indexOf(p), 1);
    }
    // Readings go missing: single polls, and now and then a gap of minutes.
    if (at < gapUntil) continue;
    if (random() < 0.01) {
      gapUntil = at + (60 + Math.floor(random() * 240)) * SEC;
      continue;
    }
    if (random() < 0.15) continue;
    const o = fault === 'unreachable'
      ? obs(at, { reachable: false })
      : obs(at, {
        startedAt,
        hashrateHs: fault === 'zero' ? 0 : fault === 'slow' ? 40 * TH : fault === 'dead' ? 67 * TH : 100 * TH,
        ...(fault === 'dead' ? { boards: boards(3, 65, { 2: { state: 'dead', hashrateHs: 0 } }) } : {}),
      });
    readings.push(o);
    history = appendObservation(history, o);
    for (const decision of policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, at)) {
      decisions.push({ at, decision });
      const id = `c${++n}`;
      history = appendAction(history, actionFromDecision(decision, REMEDIES.has(decision.kind) ? { id, outcome: 'pending' } : {}));
      if (!REMEDIES.has(decision.kind)) continue;
      const r = random();
      if (r < 0.4) {
        pending.push({ id, due: at + 5 * SEC, outcome: 'succeeded' });
        startedAt = at + 5 * SEC;
      } else if (r < 0.55) {
        pending.push({ id, due: at + 10 * SEC, outcome: 'failed', cause: 'no reply within 10000 ms' });
        if (random() < 0.5) startedAt = at + 40 * SEC; // it ran after all
      } else if (r < 0.7) {
        pending.push({ id, due: at + 60 * SEC, outcome: 'timed-out' });
      } else if (r < 0.85) {
        pending.push({ id, due: at + SEC, outcome: 'failed', cause: `rig rig-7 has no ${decision.kind === 'power-cycle' ? 'PDU outlet' : 'reboot command'} configured` });
      } else {
        pending.push({ id, due: at + SEC, outcome: 'failed', delivered: false, cause: 'no active key for the rig' });
      }
      if (random() < 0.3) fault = 'none';
    }
    // An operator releases a quarantine after a while.
    const q = [...history.actions].reverse().find((a) => a.kind === 'quarantine' || a.kind === 'release');
    if (q?.kind === 'quarantine' && at - q.at > 20 * MIN) {
      history = appendAction(history, { at, kind: 'release', reason: 'checked', by: 'operator', params: {} });
    }
  }
  return { decisions, history, readings };
}

describe('watchdog properties', () => {
  let runs: Map<number, Run>;
  beforeAll(() => {
    runs = new Map(SEEDS.map((seed) => [seed, run(seed)]));
  });

  it('watchdog-properties: the random sequences do exercise the ladder, the skips and the quarantine', () => {
    const all = [...runs.values()].flatMap((r) => r.decisions.map((d) => d.decision));
    expect(all.filter((d) => REMEDIES.has(d.kind)).length).toBeGreaterThan(SEEDS.length * 3);
    expect(all.some((d) => d.reason === 'remedy-not-configured')).toBe(true);
    expect(all.some((d) => d.kind === 'quarantine')).toBe(true);
  });

  it.each(SEEDS)('watchdog-properties: seed %d: every remedy rests on its whole window, with enough readings and no gap', (seed) => {
    const r = runs.get(seed)!;
    for (const { decision } of r.decisions) {
      if (!REMEDIES.has(decision.kind) && decision.kind !== 'quarantine') continue;
      const params = decision.params as { trigger: string; evidence: { fromAt: number; toAt: number; spanMs: number; samples: number } };
      const e = params.evidence;
      expect(e.spanMs).toBeGreaterThanOrEqual(WINDOW[params.trigger]!);
      expect(e.samples).toBeGreaterThanOrEqual(P.minSamples);
      const inside = r.readings.filter((o) => o.at >= e.fromAt && o.at <= e.toAt);
      for (let i = 1; i < inside.length; i++) expect(inside[i]!.at - inside[i - 1]!.at).toBeLessThanOrEqual(GAP);
    }
  });

  it.each(SEEDS)('watchdog-properties: seed %d: never more remedies that ran in an hour (since a release) than the cap', (seed) => {
    const { history } = runs.get(seed)!;
    const actions = history.actions;
    const ladder = actions.filter((a) => a.by === 'watchdog' && REMEDIES.has(a.kind));
    for (const a of ladder) {
      const release = [...actions].reverse().find((x) => x.kind === 'release' && x.at <= a.at)?.at ?? Number.NEGATIVE_INFINITY;
      // Reported succeeded: ran, whatever the readings show (the bounded history no longer holds all of them).
      const ran = ladder.filter((b: ActionRecord) => b.at < a.at && b.at > release && a.at - b.at < 60 * MIN && b.outcome === 'succeeded');
      expect(ran.length).toBeLessThan(P.maxActionsPerHour);
    }
  });
});
