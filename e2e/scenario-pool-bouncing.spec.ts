/**
 * Scenario (issue 6.8): the primary pool bounces, down and up every 1.5 s. The controller moves the miner away once
 * and does not move it back while the pool keeps bouncing; once the pool has been stable for the failback period it
 * fails back, once. Real processes; the switches are counted where they happen, in the simulated miner.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { FAST_FRESHNESS, Scenario, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const FAILBACK_STABLE_MS = 6000;

describe('scenario: bouncing pool', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('switches away once, never back while it bounces, and fails back once it is stable', async () => {
    scenario = await Scenario.start('pool-bouncing', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 300 }, { name: 'pool-b', notifyIntervalMs: 300 }],
        rigs: [{ id: 'bounce-01', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'], mining: { ownFailover: false } }],
        mining: { shareIntervalMs: 500, reconnectMs: 200 },
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: bounce', '    match: { rigIds: [bounce-01] }', '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        `    policy: { failover: { silentAfterMs: 10000, switchCooldownMs: 2000, failbackStableMs: ${FAILBACK_STABLE_MS} } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    await s.waitForRig('shares on pool-a', 'bounce-01', (r: AsicRigState) => (r.pools[0]!.accepted >= 3 ? r : undefined), 20_000);

    const bouncedAt = await s.fault({ fault: 'bounce-pool', pool: 'pool-a', periodMs: 1500 });
    await s.waitForRig('the miner on pool-b', 'bounce-01', (r: AsicRigState) => (r.activePool === 1 ? r : undefined), 10_000);
    // Ten seconds of bouncing: several up phases, each shorter than the failback period.
    await new Promise((r) => setTimeout(r, 10_000));
    const during = await s.rig<AsicRigState>('bounce-01');
    expect(during.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'api' })]);
    expect(during.activePool).toBe(1);

    const stableFrom = await s.fault({ fault: 'revive-pool', pool: 'pool-a' });
    const back = await s.waitForRig('the failback to pool-a', 'bounce-01', (r: AsicRigState) => (r.activePool === 0 ? r : undefined), 25_000);
    const failbackAfterMs = back.poolSwitches.at(-1)!.atMs - stableFrom;
    expect(failbackAfterMs).toBeGreaterThanOrEqual(FAILBACK_STABLE_MS - POLL_MS);
    expect(back.poolSwitches.map((w) => [w.from, w.to, w.by])).toEqual([[0, 1, 'api'], [1, 0, 'api']]);

    const reasons = (await s.events('bounce-01')).filter((e) => e.kind === 'policy.switch-pool').map((e) => e.reason);
    expect(reasons).toEqual(['active-pool-dead', 'preferred-pool-stable']);
    report('pool-bouncing', {
      periodMs: 1500, bounceToSwitchMs: during.poolSwitches[0]!.atMs - bouncedAt, switchesWhileBouncing: 1,
      switchesBackWhileBouncing: 0, failbackStableMs: FAILBACK_STABLE_MS, stableToFailbackMs: failbackAfterMs,
    });
  });
});
