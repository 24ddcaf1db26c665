import {
  DEFAULT_HISTORY_LIMITS,
  EMPTY_HISTORY,
  actionFromDecision,
  appendAction,
  appendObservation,
  setActionOutcome,
} from './rig-history';
import { FailoverPolicy } from './failover.policy';
import type { RigHistory } from './policy-types';
import { MIN, SEC, T0, acceptedAt, action, hashing, input, obs, rigSpec, series } from './testing/policy-fixtures';

function build(observations: ReturnType<typeof series>): RigHistory {
  return observations.reduce((h, o) => appendObservation(h, o), EMPTY_HISTORY);
}

describe('rig-history', () => {
  it('rig-history: observations are kept oldest first whatever the arrival order', () => {
    const h = [obs(T0 + 20 * SEC), obs(T0), obs(T0 + 10 * SEC)].reduce((acc, o) => appendObservation(acc, o), EMPTY_HISTORY);
    expect(h.observations.map((o) => o.at)).toEqual([T0, T0 + 10 * SEC, T0 + 20 * SEC]);
  });

  it('rig-history: a duplicate (same time and seq) is dropped', () => {
    const h = appendObservation(appendObservation(EMPTY_HISTORY, obs(T0)), obs(T0));
    expect(h.observations).toHaveLength(1);
  });

  it('rig-history: the newest 5 min keep every reading, older ones one a minute, nothing over an hour', () => {
    const h = build(series(T0 - 2 * 60 * MIN, T0, () => ({}), 5 * SEC));
    const ages = h.observations.map((o) => T0 - o.at);
    expect(Math.max(...ages)).toBeLessThanOrEqual(60 * MIN);
    expect(ages.filter((a) => a <= 5 * MIN)).toHaveLength(61);
    const old = h.observations.filter((o) => T0 - o.at > 5 * MIN);
    for (let i = 1; i < old.length; i++) {
      expect(old[i]!.at - old[i - 1]!.at).toBeGreaterThanOrEqual(DEFAULT_HISTORY_LIMITS.thinIntervalMs);
      expect(old[i]!.at - old[i - 1]!.at).toBeLessThan(90 * SEC);
    }
    expect(h.observations.length).toBeLessThanOrEqual(DEFAULT_HISTORY_LIMITS.maxObservations);
  });

  it('rig-history: thinning keeps the decisions a full-resolution history gives', () => {
    const spec = rigSpec();
    const observations = series(T0 - 50 * MIN, T0, (at) => ({ active: 1, accepted: acceptedAt(at) }));
    const thinned = build(observations);
    expect(thinned.observations.length).toBeLessThan(observations.length);
    const full = { observations, actions: [action(T0 - 12 * MIN, 'switch-pool', 'failover', { fromUrl: spec.pools[0]!.url })] };
    const policy = new FailoverPolicy();
    const a = policy.evaluate({ ...input(spec, observations), history: full }, T0);
    const b = policy.evaluate({ ...input(spec, observations), history: { ...thinned, actions: full.actions } }, T0);
    expect(a.map((d) => d.reason)).toEqual(['preferred-pool-stable']);
    expect(b).toEqual(a);
  });

  it('rig-history: actions are bounded by age and count', () => {
    let h = EMPTY_HISTORY;
    for (let i = 0; i < 300; i++) h = appendAction(h, action(T0 + i * 10 * MIN, 'restart-miner', 'watchdog'));
    expect(h.actions.length).toBeLessThanOrEqual(DEFAULT_HISTORY_LIMITS.maxActions);
    const newest = h.actions[h.actions.length - 1]!.at;
    expect(h.actions.every((a) => newest - a.at <= DEFAULT_HISTORY_LIMITS.maxActionAgeMs)).toBe(true);
  });

  it('rig-history: a decision becomes an action record, and its outcome is recorded by command id', () => {
    const [decision] = new FailoverPolicy().evaluate(input(rigSpec(), [...hashing(T0 - MIN, T0 - 10 * SEC), obs(T0, { states: { 0: 'dead' } })]), T0);
    let h = appendAction(EMPTY_HISTORY, actionFromDecision(decision!, { id: 'cmd-1', outcome: 'pending' }));
    expect(h.actions[0]).toMatchObject({ at: T0, kind: 'switch-pool', reason: 'active-pool-dead', by: 'failover', id: 'cmd-1', outcome: 'pending' });
    h = setActionOutcome(h, 'cmd-1', 'succeeded');
    expect(h.actions[0]!.outcome).toBe('succeeded');
  });
});
