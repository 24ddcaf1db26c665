/**
 * Scenario (issue 6.8): the primary pool's process dies. The miner is one that stays on a dead pool until told
 * otherwise (ownFailover off), so what moves it is the controller: the agent's next poll shows the pool Dead, one
 * reconcile switches it. Real processes: simfarm (stratum pools + cgminer API), controller, agent, rigctl.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { FAST_FRESHNESS, Scenario, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;

describe('scenario: primary pool killed', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('moves the miner to the backup within one poll interval plus one reconcile, and says why', async () => {
    scenario = await Scenario.start('pool-killed', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }, { name: 'pool-b', notifyIntervalMs: 500 }],
        rigs: [
          // Stays on a dead pool until told otherwise: the controller must move it.
          { id: 'kill-01', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'], mining: { ownFailover: false } },
          // cgminer 4.x: leaves a dead pool by itself; the controller must not undo that.
          { id: 'kill-02', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'] },
        ],
        mining: { shareIntervalMs: 500, reconnectMs: 250 },
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: kill', '    match: { rigIds: [kill-01, kill-02] }', '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        '    policy: { failover: { silentAfterMs: 10000 } }', '',
      ].join('\n'),
    });
    const s = scenario;
    // Hashing on the primary, with the controller's reconciles running (shares are being accepted there).
    for (const rig of ['kill-01', 'kill-02']) {
      await s.waitForRig(`shares on pool-a (${rig})`, rig, (r: AsicRigState) => (r.activePool === 0 && r.pools[0]!.accepted >= 3 ? r : undefined), 20_000);
    }
    await new Promise((r) => setTimeout(r, 3 * POLL_MS));

    const killedAt = await s.fault({ fault: 'kill-pool', pool: 'pool-a' });
    const moved = await s.waitForRig('the miner on pool-b', 'kill-01', (r: AsicRigState) => (r.activePool === 1 ? r : undefined), 15_000);
    const tookMs = Date.now() - killedAt;
    const sw = moved.poolSwitches.at(-1)!;
    expect(sw).toMatchObject({ from: 0, to: 1, by: 'api' });
    // One poll to see it, one reconcile to decide, one command to the agent (1.5 s for the last two on a busy machine).
    expect(tookMs).toBeLessThan(POLL_MS + 1500);

    const events = await s.events('kill-01');
    const decision = events.find((e) => e.kind === 'policy.switch-pool');
    expect(decision).toMatchObject({ reason: 'active-pool-dead', source: 'failover' });
    expect(decision!.message).toContain(moved.pools[1]!.url);
    // The backup keeps working: shares accepted there after the switch.
    await s.waitForRig('shares on pool-b', 'kill-01', (r: AsicRigState) => (r.pools[1]!.accepted >= 2 ? true : undefined), 10_000);

    // The miner that failed over by itself: moved at once, and the controller left it there (no command at all).
    const own = await s.rig<AsicRigState>('kill-02');
    expect(own.activePool).toBe(1);
    expect(own.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'miner' })]);
    const ownMs = own.poolSwitches[0]!.atMs - killedAt;
    expect((await s.events('kill-02')).filter((e) => e.kind === 'policy.switch-pool')).toEqual([]);
    report('pool-killed', { pollMs: POLL_MS, killToBackupMs: tookMs, switches: moved.poolSwitches.length, minerOwnFailoverMs: ownMs });
  });
});
