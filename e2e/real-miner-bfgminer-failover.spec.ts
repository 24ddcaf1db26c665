/**
 * Issue 15: bfgminer 5.5.0's own failover and failback are observed, not fought. A killed pool: bfgminer is on the
 * backup within one poll by itself; the pool returns: it is Alive again after bfgminer's 41 s and bfgminer goes back
 * after its --failover-switch-delay of 300 s, keeping "Stratum Active": true on both pools all the while (the
 * product once read that as "still on pool A", "failed over" to the pool bfgminer was already on and so cancelled
 * bfgminer's own failback). cgminer 2.11.4 beside it does the same faster (Alive after 30.3 s, back 27.8 s later),
 * and finds no share at all (difficulty 1 at 2.3 MH/s): no share is no evidence of a silent pool. The programs'
 * delays are compressed 10x here.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { Scenario, report } from './scenario-harness';
import { BFGMINER_SEED, actionsOf, realMinerFleet } from './real-miner-harness';

jest.setTimeout(180_000);
const POLL_MS = 1000;

describe('real miners: bfgminer fails over and back by itself', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('real miners: a killed pool and its return, bfgminer switches both ways itself and the controller sends no pool command', async () => {
    scenario = await Scenario.start('real-bfg-failover', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 1000 }, { name: 'pool-b', notifyIntervalMs: 1000 }],
        rigs: [
          { id: 'bfg550', kind: 'asic', dialect: 'cgminer', program: 'bfgminer-5.5.0-cpu', seed: BFGMINER_SEED, programTimeCompression: 10, pools: ['pool-a', 'pool-b'] },
          { id: 'cg2114', kind: 'asic', dialect: 'cgminer', program: 'cgminer-2.11.4-cpu', programTimeCompression: 10, pools: ['pool-a', 'pool-b'] },
        ],
      },
      fleet: (pools, user) => realMinerFleet(pools, user, ['bfg550', 'cg2114']),
    });
    const s = scenario;
    await s.waitForRig('shares on pool-a', 'bfg550', (r: AsicRigState) => (r.pools[0]!.accepted >= 3 ? r : undefined), 60_000);

    const killedAt = await s.fault({ fault: 'kill-pool', pool: 'pool-a' });
    const onB = await s.waitForRig('bfgminer on pool-b', 'bfg550', (r: AsicRigState) => (r.activePool === 1 ? r : undefined), 10_000);
    expect(onB.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'miner' })]);
    const failoverMs = onB.poolSwitches[0]!.atMs - killedAt;
    expect(failoverMs).toBeLessThan(1_500);
    await s.waitForRig('shares on pool-b', 'bfg550', (r: AsicRigState) => (r.pools[1]!.accepted >= 2 ? r : undefined), 30_000);

    const revivedAt = await s.fault({ fault: 'revive-pool', pool: 'pool-a' });
    const back = await s.waitForRig('bfgminer back on pool-a', 'bfg550', (r: AsicRigState) => (r.activePool === 0 ? r : undefined), 60_000);
    const failbackMs = back.poolSwitches.at(-1)!.atMs - revivedAt;
    expect(back.poolSwitches.map((p) => [p.from, p.to, p.by])).toEqual([[0, 1, 'miner'], [1, 0, 'miner']]);
    // bfgminer's 41.4 s to Alive and 300 s delay, compressed 10x: 4.1 s + 30 s (plus the reconnect).
    expect(failbackMs).toBeGreaterThanOrEqual(33_000);
    expect(failbackMs).toBeLessThan(40_000);
    await s.waitForRig('shares on pool-a again', 'bfg550', (r: AsicRigState) => (r.pools[0]!.accepted > back.pools[0]!.accepted ? r : undefined), 30_000);

    const cg = await s.waitForRig('cgminer 2.11.4 back on pool-a', 'cg2114', (r: AsicRigState) => (r.poolSwitches.length >= 2 ? r : undefined), 10_000);
    expect(cg.poolSwitches.map((p) => [p.from, p.to, p.by])).toEqual([[0, 1, 'miner'], [1, 0, 'miner']]);
    const cgFailbackMs = cg.poolSwitches[1]!.atMs - revivedAt;

    const actions = await actionsOf(s, ['bfg550', 'cg2114']);
    expect({ bfg550: actions['bfg550']!.map((e) => e.kind), cg2114: actions['cg2114']!.map((e) => e.kind) }).toEqual({ bfg550: [], cg2114: [] });
    const events = await s.events('bfg550');
    report('real-bfg-failover', { pollMs: POLL_MS, failoverMs, failbackMs, cgminer2FailbackMs: cgFailbackMs, events: events.map((e) => e.reason).join(',') || '-' });
  });
});
