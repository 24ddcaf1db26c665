import { decisionRank, evaluateRig } from './evaluate-rig';
import type { Decision, Policy } from './policy-types';
import { MIN, POLL, SEC, T0, acceptedAt, action, boards, hashing, input, obs, rigSpec, series } from './testing/policy-fixtures';

const spec = rigSpec();

/** Pool 0 dead now, and board 1 above 80 °C for the last 2 min. */
function hotWithDeadPool() {
  return [
    ...hashing(T0 - 10 * MIN, T0 - 2 * MIN - POLL),
    ...hashing(T0 - 2 * MIN, T0 - POLL, () => ({ boards: boards(3, 60, { 1: { tempC: 86 } }) })),
    obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' }, boards: boards(3, 60, { 1: { tempC: 86 } }) }),
  ];
}

describe('evaluate-rig', () => {
  it('evaluate-rig: a healthy rig gets nothing to do', () => {
    const result = evaluateRig(input(spec, hashing(T0 - 10 * MIN, T0)), T0);
    expect(result).toEqual({ rigId: 'rig-7', at: T0, act: [], decisions: [] });
  });

  it('evaluate-rig: one action at a time, the thermal step-down before the pool switch', () => {
    const result = evaluateRig(input(spec, hotWithDeadPool()), T0);
    expect(result.decisions.map((d) => `${d.kind}/${d.reason}`)).toEqual(['apply-profile/temperature-high', 'switch-pool/active-pool-dead']);
    expect(result.act.map((d) => d.kind)).toEqual(['apply-profile']);
  });

  it('evaluate-rig: a pending action holds the next one back', () => {
    const pending = action(T0 - 20 * SEC, 'apply-profile', 'thermal', { profile: 'normal', direction: 'down' }, { outcome: 'pending' });
    const result = evaluateRig(input(spec, hotWithDeadPool(), [pending]), T0);
    expect(result.act).toEqual([]);
    expect(result.waitingFor).toBe(pending);
    expect(result.decisions.map((d) => d.kind)).toContain('switch-pool');
  });

  it('evaluate-rig: a pending action older than 2 min no longer holds anything back', () => {
    const pending = action(T0 - 3 * MIN, 'restart-miner', 'operator', {}, { outcome: 'pending' });
    const result = evaluateRig(input(spec, hotWithDeadPool(), [pending]), T0);
    expect(result.act).toHaveLength(1);
    expect(result.waitingFor).toBeUndefined();
  });

  it('evaluate-rig: an alert still pending delivery holds nothing back', () => {
    const alert = action(T0 - 20 * SEC, 'alert', 'failover', {}, { reason: 'no-healthy-pool', outcome: 'pending' });
    expect(evaluateRig(input(spec, hotWithDeadPool(), [alert]), T0).act).toHaveLength(1);
  });

  it('evaluate-rig: stop-mining beats everything, even a pending action', () => {
    const observations = [
      ...hashing(T0 - 10 * MIN, T0 - POLL),
      obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' }, boards: boards(3, 60, { 2: { tempC: 97, state: 'dead' } }) }),
    ];
    const pending = action(T0 - 10 * SEC, 'switch-pool', 'operator', {}, { outcome: 'pending' });
    const result = evaluateRig(input(spec, observations, [pending]), T0);
    expect(result.act.map((d) => d.kind)).toEqual(['stop-mining']);
    expect(result.waitingFor).toBeUndefined();
  });

  it('evaluate-rig: alerts always pass alongside the one action', () => {
    const observations = [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead', 1: 'dead', 2: 'dead' } })];
    const pending = action(T0 - 10 * SEC, 'restart-miner', 'operator', {}, { outcome: 'pending' });
    const result = evaluateRig(input(spec, observations, [pending]), T0);
    expect(result.act.map((d) => `${d.kind}/${d.reason}`)).toEqual(['alert/no-healthy-pool']);
  });

  it('evaluate-rig: stale data gives nothing to do whatever the last reading said', () => {
    const observations = [...hashing(T0 - 10 * MIN, T0 - 40 * SEC), obs(T0 - 31 * SEC, { reachable: false, states: { 0: 'dead' } })];
    expect(evaluateRig(input(spec, observations), T0).decisions).toEqual([]);
  });

  it('evaluate-rig: a quarantined rig only gets thermal protection', () => {
    const observations = [
      ...series(T0 - 10 * MIN, T0 - POLL, () => ({ reachable: false })),
      obs(T0, { states: { 0: 'dead' }, tempC: 99 }),
    ];
    const result = evaluateRig(input(spec, observations, [action(T0 - 5 * MIN, 'quarantine', 'watchdog')]), T0);
    expect(result.decisions.map((d) => d.kind)).toEqual(['stop-mining']);
  });

  it('evaluate-rig: the rig spec overrides the fleet-wide defaults', () => {
    const observations = [...hashing(T0 - 10 * MIN, T0 - 25 * SEC, undefined, 5 * SEC), ...series(T0 - 20 * SEC, T0, () => ({ accepted: acceptedAt(T0 - 25 * SEC) }), 5 * SEC)];
    const fleet = { failover: { silentAfterMs: 20 * SEC } };
    expect(evaluateRig(input(spec, observations), T0, { defaults: fleet }).act.map((d) => d.reason)).toEqual(['active-pool-silent']);
    const patient = rigSpec({ policy: { failover: { silentAfterMs: 45 * SEC } } });
    expect(evaluateRig(input(patient, observations), T0, { defaults: fleet }).act).toEqual([]);
  });

  it('evaluate-rig: custom policies are merged the same way', () => {
    const fixed = (kind: 'restart-miner' | 'stop-mining'): Policy => ({
      name: 'watchdog',
      evaluate: (_input, now) => [{
        policy: 'watchdog', kind, reason: 'miner-unreachable', message: kind, severity: 'warning', rigId: 'rig-7', at: now,
        params: kind === 'stop-mining' ? { tempC: 99, criticalC: 95 } : { trigger: 'miner-unreachable', step: 1, detail: '' },
      } as Decision],
    });
    const result = evaluateRig(input(spec, hashing(T0 - MIN, T0)), T0, { policies: [fixed('restart-miner'), fixed('stop-mining')] });
    expect(result.act.map((d) => d.kind)).toEqual(['stop-mining']);
  });

  it.each([
    ['stop-mining', 'temperature-critical', undefined, 0],
    ['apply-profile', 'fan-failed', 'down', 1],
    ['quarantine', 'ladder-exhausted', undefined, 2],
    ['switch-pool', 'active-pool-silent', undefined, 3],
    ['restart-miner', 'hashrate-low', undefined, 7],
    ['apply-profile', 'temperature-recovered', 'up', 9],
    ['switch-pool', 'preferred-pool-stable', undefined, 10],
  ] as const)('evaluate-rig: %s for %s (direction %s) ranks %d', (kind, reason, direction, rank) => {
    const d = { kind, reason, params: { direction } } as unknown as Decision;
    expect(decisionRank(d)).toBe(rank);
  });
});
