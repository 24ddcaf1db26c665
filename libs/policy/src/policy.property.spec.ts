/**
 * Property-style tests: seeded random but reproducible sequences of observations, driven through the policies
 * the way the controller does (bounded history, every decision recorded), checking what must always hold.
 */
import { evaluateRig } from './evaluate-rig';
import { FailoverPolicy } from './failover.policy';
import { DEFAULT_POLICY_PARAMS } from './policy-defaults';
import { REASON_CODES, type Decision, type DecisionOf, type PoolState, type RigObservation } from './policy-types';
import { actionFromDecision, appendAction, appendObservation, EMPTY_HISTORY } from './rig-history';
import { MIN, SEC, T0, action, boards, input, obs, poolsOf, rigSpec, seededRandom } from './testing/policy-fixtures';
import { ThermalPolicy } from './thermal.policy';
import { WatchdogPolicy } from './watchdog.policy';

const SEEDS = [1, 2, 3, 5, 8, 13, 21, 34];
const STEP = 5 * SEC;
const HOURS = 2;

interface FailoverRun {
  readonly switches: { at: number; decision: DecisionOf<'switch-pool'>; truthActive: number | null; truthStates: PoolState[]; truthSilent: boolean[] }[];
  readonly activeChanges: number[];
}

/** Three pools that die, come back and go silent at random; a miner that sometimes fails over by itself. */
function runFailover(seed: number): FailoverRun {
  const random = seededRandom(seed);
  const spec = rigSpec();
  const policy = new FailoverPolicy();
  const states: PoolState[] = ['alive', 'alive', 'alive'];
  const silent = [false, false, false];
  const accepted = [0, 0, 0];
  let active: number | null = 0;
  let requested: number | undefined;
  let history = EMPTY_HISTORY;
  const run: FailoverRun = { switches: [], activeChanges: [] };
  let lastActive: number | null = 0;

  for (let at = T0; at <= T0 + HOURS * 60 * MIN; at += STEP) {
    for (let i = 0; i < 3; i++) {
      if (random() < 0.01) states[i] = states[i] === 'alive' ? 'dead' : 'alive';
      if (random() < 0.006) silent[i] = !silent[i];
    }
    if (requested !== undefined) {
      active = requested;
      requested = undefined;
    }
    // The miner's own failover: off a dead pool to the first alive one, and back to a better one at times.
    if (active !== null && states[active] === 'dead' && random() < 0.5) active = states.findIndex((s) => s === 'alive');
    else if (active !== null && random() < 0.01) {
      const better = states.findIndex((s, i) => s === 'alive' && i < active!);
      if (better !== -1) active = better;
    }
    if (active === -1) active = null;
    if (active !== null && states[active] === 'alive' && !silent[active]) accepted[active]! += 1 + Math.floor(random() * 3);
    if (active !== lastActive && active !== null && lastActive !== null) run.activeChanges.push(at);
    if (active !== null) lastActive = active;

    const base = poolsOf({ active, states: { 0: states[0]!, 1: states[1]!, 2: states[2]! } });
    const o = obs(at, { pools: base.map((p, i) => ({ ...p, accepted: accepted[i]! })) });
    history = appendObservation(history, o);
    for (const d of policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, at)) {
      history = appendAction(history, actionFromDecision(d));
      if (d.kind === 'switch-pool') {
        run.switches.push({ at, decision: d, truthActive: active, truthStates: [...states], truthSilent: [...silent] });
        requested = d.params.poolIndex;
      }
    }
  }
  return run;
}

describe('policy properties', () => {
  const cooldown = DEFAULT_POLICY_PARAMS.failover.switchCooldownMs;
  let runs: Map<number, FailoverRun>;
  beforeAll(() => {
    runs = new Map(SEEDS.map((seed) => [seed, runFailover(seed)]));
  });

  it('policy-properties: the random pool sequences do exercise failover', () => {
    // At least one switch per seed on average (was three: since issue 15 a budget of 3 switches per 30 min and a
    // doubling cooldown damp a rig whose pools keep failing).
    const total = [...runs.values()].reduce((n, r) => n + r.switches.length, 0);
    expect(total).toBeGreaterThan(SEEDS.length);
  });

  it.each(SEEDS)('policy-properties: seed %d never switches more than the budget within its window', (seed) => {
    const { switches } = runs.get(seed)!;
    const { switchBudget, switchBudgetWindowMs } = DEFAULT_POLICY_PARAMS.failover;
    for (const s of switches) expect(switches.filter((x) => x.at <= s.at && s.at - x.at < switchBudgetWindowMs).length).toBeLessThanOrEqual(switchBudget);
  });

  it.each(SEEDS)('policy-properties: seed %d never yields two switches within the cooldown', (seed) => {
    const { switches } = runs.get(seed)!;
    for (let i = 1; i < switches.length; i++) expect(switches[i]!.at - switches[i - 1]!.at).toBeGreaterThanOrEqual(cooldown);
  });

  it.each(SEEDS)('policy-properties: seed %d never switches within the cooldown of a switch the miner made', (seed) => {
    const { switches, activeChanges } = runs.get(seed)!;
    for (const s of switches) expect(activeChanges.filter((c) => c <= s.at && s.at - c < cooldown)).toEqual([]);
  });

  it.each(SEEDS)('policy-properties: seed %d never switches to a dead pool', (seed) => {
    for (const s of runs.get(seed)!.switches) expect(s.truthStates[s.decision.params.poolIndex]).toBe('alive');
  });

  it.each(SEEDS)('policy-properties: seed %d only leaves a working pool to fail back to a preferred one', (seed) => {
    for (const s of runs.get(seed)!.switches) {
      const a = s.truthActive;
      const working = a !== null && s.truthStates[a] === 'alive' && !s.truthSilent[a];
      if (working) {
        expect(s.decision.reason).toBe('preferred-pool-stable');
        expect(s.decision.params.poolIndex).toBeLessThan(a);
      }
    }
  });

  it.each(SEEDS)('policy-properties: seed %d thermal changes respect cooldown, bounds and hysteresis', (seed) => {
    const random = seededRandom(seed);
    const spec = rigSpec({ desiredProfile: 'normal' });
    const p = DEFAULT_POLICY_PARAMS.thermal;
    const policy = new ThermalPolicy();
    const heat = [-8, 0, 8];
    let profile = 1;
    let stopped = false;
    // The room drifts towards a target that changes at random every few minutes.
    let ambient = 72;
    let target = 72;
    let history = EMPTY_HISTORY;
    const changes: { at: number; d: Decision; temp: number }[] = [];
    for (let at = T0; at <= T0 + 4 * 60 * MIN; at += STEP) {
      if (random() < 0.01) target = 55 + random() * 40;
      ambient += Math.sign(target - ambient) * Math.min(Math.abs(target - ambient), 0.3);
      const tempC = Math.round(stopped ? ambient - 20 : ambient + heat[profile]! + (random() - 0.5) * 2);
      const o = obs(at, { boards: boards(3, tempC) });
      history = appendObservation(history, o);
      for (const d of policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, at)) {
        history = appendAction(history, actionFromDecision(d));
        changes.push({ at, d, temp: tempC });
        if (d.kind === 'apply-profile') profile = spec.profiles.findIndex((x) => x.name === d.params.profile);
        if (d.kind === 'stop-mining') stopped = true;
        if (d.kind === 'resume-mining') {
          stopped = false;
          profile = 0;
        }
      }
      expect(profile).toBeGreaterThanOrEqual(0);
      expect(profile).toBeLessThanOrEqual(1);
    }
    expect(changes.length).toBeGreaterThan(0);
    const profileChanges = changes.filter((c) => c.d.kind === 'apply-profile' || c.d.kind === 'resume-mining');
    for (let i = 1; i < profileChanges.length; i++) {
      expect(profileChanges[i]!.at - profileChanges[i - 1]!.at).toBeGreaterThanOrEqual(p.stepCooldownMs);
    }
    for (const c of changes) {
      if (c.d.kind === 'apply-profile' && c.d.params.direction === 'up') expect(c.temp).toBeLessThan(p.lowC);
      if (c.d.kind === 'apply-profile' && c.d.params.direction === 'down') expect(c.temp).toBeGreaterThan(p.highC);
      if (c.d.kind === 'stop-mining') expect(c.temp).toBeGreaterThanOrEqual(p.criticalC);
    }
    for (let i = 1; i < profileChanges.length; i++) {
      const prev = profileChanges[i - 1]!.d;
      const cur = profileChanges[i]!.d;
      if (prev.kind === 'apply-profile' && prev.params.direction === 'down' && cur.kind === 'apply-profile' && cur.params.direction === 'up') {
        expect(profileChanges[i]!.at - profileChanges[i - 1]!.at).toBeGreaterThanOrEqual(p.stepUpAfterMs);
      }
    }
  });

  it.each(SEEDS)('policy-properties: seed %d watchdog respects grace periods and the hourly cap', (seed) => {
    const random = seededRandom(seed);
    const spec = rigSpec();
    const w = DEFAULT_POLICY_PARAMS.watchdog;
    const policy = new WatchdogPolicy();
    let fault: 'none' | 'unreachable' | 'dead-board' = 'none';
    let quarantinedAt: number | undefined;
    let history = EMPTY_HISTORY;
    const remedies: { at: number; d: Decision }[] = [];
    const fixChance: Record<string, number> = { 'restart-miner': 0.3, 'reboot-host': 0.5, 'power-cycle': 0.8 };
    for (let at = T0; at <= T0 + 6 * 60 * MIN; at += 10 * SEC) {
      if (fault === 'none' && random() < 0.004) fault = random() < 0.5 ? 'unreachable' : 'dead-board';
      if (quarantinedAt !== undefined && at - quarantinedAt >= 30 * MIN) {
        history = appendAction(history, action(at, 'release', 'operator'));
        quarantinedAt = undefined;
        fault = 'none';
      }
      const o: RigObservation = fault === 'unreachable'
        ? obs(at, { reachable: false })
        : obs(at, fault === 'dead-board' ? { boards: boards(3, 65, { 0: { state: 'dead' } }) } : {});
      history = appendObservation(history, o);
      const decisions = policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, at);
      if (quarantinedAt !== undefined) expect(decisions).toEqual([]);
      for (const d of decisions) {
        history = appendAction(history, actionFromDecision(d));
        if (d.kind === 'quarantine') quarantinedAt = at;
        else {
          remedies.push({ at, d });
          if (random() < (fixChance[d.kind] ?? 0)) fault = 'none';
        }
      }
    }
    expect(remedies.length).toBeGreaterThan(0);
    for (const r of remedies) expect(remedies.filter((x) => x.at <= r.at && r.at - x.at < 60 * MIN).length).toBeLessThanOrEqual(w.maxActionsPerHour);
    for (let i = 1; i < remedies.length; i++) {
      const prev = remedies[i - 1]!;
      const cur = remedies[i]!;
      const grace = w.ladder.find((s) => s.action === prev.d.kind)!.graceMs;
      expect(cur.at - prev.at).toBeGreaterThanOrEqual(grace);
    }
  });

  it.each(SEEDS)('policy-properties: seed %d evaluateRig acts at most once, and every decision explains itself', (seed) => {
    const random = seededRandom(seed);
    const spec = rigSpec({ expectedFans: 2 });
    const reasons = new Set<string>(REASON_CODES);
    let history = EMPTY_HISTORY;
    let seen = 0;
    for (let at = T0; at <= T0 + 2 * 60 * MIN; at += 10 * SEC) {
      const r = random();
      const o = r < 0.05
        ? obs(at, { reachable: false })
        : obs(at, {
          active: random() < 0.02 ? null : Math.floor(random() * 3),
          accepted: random() < 0.9 ? Math.floor((at - T0) / SEC) : 0,
          states: { 0: random() < 0.1 ? 'dead' : 'alive', 1: random() < 0.1 ? 'rejecting' : 'alive' },
          boards: boards(random() < 0.05 ? 2 : 3, 60 + random() * 40, random() < 0.05 ? { 0: { state: 'dead' } } : {}),
          fans: random() < 0.05 ? [{ index: 0, rpm: 4800 }] : undefined,
          hashrateHs: random() * 120 * 1e12,
        });
      history = appendObservation(history, o);
      const result = evaluateRig({ spec, status: { rigId: spec.rigId, latest: o }, history }, at);
      expect(result.act.filter((d) => d.kind !== 'alert').length).toBeLessThanOrEqual(1);
      for (const d of result.decisions) {
        expect(reasons.has(d.reason)).toBe(true);
        expect(d.message.startsWith('rig rig-7: ')).toBe(true);
        expect(d.message.length).toBeGreaterThan(30);
        expect(d.at).toBe(at);
      }
      for (const d of result.act) history = appendAction(history, actionFromDecision(d));
      seen += result.decisions.length;
    }
    expect(seen).toBeGreaterThan(0);
  });

  it.each(SEEDS)('policy-properties: seed %d stale data never yields a decision', (seed) => {
    const random = seededRandom(seed);
    const spec = rigSpec();
    const observations: RigObservation[] = [];
    for (let at = T0; at <= T0 + 20 * MIN; at += 10 * SEC) {
      const r = random();
      observations.push(r < 0.3 ? obs(at, { reachable: false }) : obs(at, { tempC: 60 + random() * 45, states: { 0: r < 0.6 ? 'dead' : 'alive' } }));
    }
    const latest = observations[observations.length - 1]!;
    const stale = latest.at + DEFAULT_POLICY_PARAMS.freshness.staleAfterMs + 1 + Math.floor(random() * 10 * MIN);
    expect(evaluateRig(input(spec, observations), stale).decisions).toEqual([]);
  });

  it.each(SEEDS)('policy-properties: seed %d decisions do not depend on the order the history arrived in', (seed) => {
    const random = seededRandom(seed);
    const spec = rigSpec();
    const observations: RigObservation[] = [];
    for (let at = T0; at <= T0 + 15 * MIN; at += 10 * SEC) {
      observations.push(obs(at, { tempC: 70 + random() * 30, accepted: Math.floor(at / 60_000), states: { 0: random() < 0.1 ? 'dead' : 'alive' } }));
    }
    const shuffled = [...observations].sort(() => random() - 0.5);
    const now = T0 + 15 * MIN;
    const a = evaluateRig(input(spec, observations), now);
    const b = evaluateRig({ ...input(spec, observations), history: { observations: shuffled, actions: [] } }, now);
    expect(b.decisions).toEqual(a.decisions);
  });
});
