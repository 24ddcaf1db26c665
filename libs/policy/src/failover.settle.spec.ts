/**
 * Issue 17, item 5: a pool change through a stock Antminer's web UI rewrites the whole config and restarts mining for
 * minutes; meanwhile every pool reads Dead and nothing hashes. That is the command working: the failover policy decides
 * nothing until the driver's settle time (WatchdogParams.commandSettleMs) has passed and a reading from after it is in.
 * A driver whose pool change takes effect at once (the cgminer API) has no settle time: the same readings are a fault.
 */
import { FailoverPolicy } from './failover.policy';
import type { RigObservation } from './policy-types';
import { MIN, POLL, POOLS, T0, acceptedAt, action, hashing, input, rigSpec, series } from './testing/policy-fixtures';

const policy = new FailoverPolicy();
const spec = rigSpec();
const SWITCHED_AT = T0 - 90_000;

/** Hashing on pool 0, our switch to pool 1 at SWITCHED_AT, then the miner restarting (every pool Dead, no hashrate) until `to`. */
function restartingAfterSwitch(driver: string, to: number): RigObservation[] {
  const before = hashing(T0 - 10 * MIN, SWITCHED_AT - POLL);
  const after = series(SWITCHED_AT + POLL, to, () => ({ hashrateHs: 0, accepted: acceptedAt(SWITCHED_AT), states: { 0: 'dead', 1: 'dead', 2: 'dead' } }));
  return [...before, ...after].map((o) => ({ ...o, driver }));
}
const ourSwitch = action(SWITCHED_AT, 'switch-pool', 'failover', { poolIndex: 1, url: POOLS[1]!.url, fromUrl: POOLS[0]!.url }, { reason: 'active-pool-dead', outcome: 'succeeded' });

describe('failover-policy: a pool change still settling is not a new fault', () => {
  it.each([
    ['antminer-web, 90 s after the switch (settles in 4 min)', 'antminer-web', T0, 0],
    ['braiins-grpc set-pools only settles: a switch-pool has no settle time there', 'braiins-grpc', T0, 1],
    ['cgminer (switchpool acts at once)', 'cgminer', T0, 1],
    ['antminer-web, past its 4 min settle time with every pool still dead', 'antminer-web', SWITCHED_AT + 4 * MIN + 2 * POLL, 1],
  ] as const)('failover-policy: %s', (_name, driver, now, decisions) => {
    const out = policy.evaluate(input(spec, restartingAfterSwitch(driver, now), [ourSwitch]), now);
    expect(out).toHaveLength(decisions);
    if (decisions > 0) expect(out[0]!.policy).toBe('failover');
  });

  it('failover-policy: a switch that failed or never reached the agent changed nothing: no settle time', () => {
    for (const extra of [{ outcome: 'failed' as const }, { delivered: false }]) {
      const sent = { ...ourSwitch, ...extra };
      expect(policy.evaluate(input(spec, restartingAfterSwitch('antminer-web', T0), [sent]), T0).length).toBeGreaterThan(0);
    }
  });

  it('failover-policy: the settle time is a fleet parameter (watchdog.commandSettleMs per driver)', () => {
    const short = new FailoverPolicy({ watchdog: { commandSettleMs: { 'antminer-web': { 'switch-pool': 30_000 } } } });
    expect(short.evaluate(input(spec, restartingAfterSwitch('antminer-web', T0), [ourSwitch]), T0).length).toBeGreaterThan(0);
  });
});
