/**
 * Issue 15: the miners' own failover and failback are observed, not fought. A killed pool: bfgminer 5.5.0 is on the
 * backup within one poll by itself; the pool returns: it is Alive again after bfgminer's 41 s and bfgminer goes back
 * after its --failover-switch-delay of 300 s, keeping "Stratum Active": true on both pools all the while (the
 * product once read that as "still on pool A", "failed over" to the pool bfgminer was already on and so cancelled
 * bfgminer's own failback). cgminer 2.11.4 beside it does the same faster (Alive after 30.3 s, back 27.8 s later),
 * and finds no share at all (difficulty 1 at 2.3 MH/s): no share is no evidence of a silent pool. The programs'
 * delays are compressed 10x here. One farm and one fault sequence, one verdict per program.
 */
import type { AsicRigState, SimPoolSwitch } from '@rigwarden/simulators';
import { Scenario, report, type ScenarioEvent } from './scenario-harness';
import { BFGMINER_SEED, actionsOf, realMinerFleet } from './real-miner-harness';

jest.setTimeout(180_000);
const POLL_MS = 1000;
const IDS = ['bfg550', 'cg2114'];

const moves = (switches: SimPoolSwitch[]): [number, number, string][] => switches.map((p) => [p.from, p.to, p.by]);

describe('real miners: own failover and failback', () => {
  let scenario: Scenario | undefined;
  let killedAt = 0;
  let revivedAt = 0;
  let actions: Record<string, ScenarioEvent[]> = {};
  const rigs: Record<string, AsicRigState> = {};

  beforeAll(async () => {
    scenario = await Scenario.start('real-own-failover', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 1000 }, { name: 'pool-b', notifyIntervalMs: 1000 }],
        rigs: [
          { id: 'bfg550', kind: 'asic', dialect: 'cgminer', program: 'bfgminer-5.5.0-cpu', seed: BFGMINER_SEED, programTimeCompression: 10, pools: ['pool-a', 'pool-b'] },
          { id: 'cg2114', kind: 'asic', dialect: 'cgminer', program: 'cgminer-2.11.4-cpu', programTimeCompression: 10, pools: ['pool-a', 'pool-b'] },
        ],
      },
      fleet: (pools, user) => realMinerFleet(pools, user, IDS),
    });
    const s = scenario;
    await s.waitForRig('shares on pool-a', 'bfg550', (r: AsicRigState) => (r.pools[0]!.accepted >= 3 ? r : undefined), 60_000);
    killedAt = await s.fault({ fault: 'kill-pool', pool: 'pool-a' });
    await s.waitForRig('bfgminer on pool-b', 'bfg550', (r: AsicRigState) => (r.activePool === 1 ? r : undefined), 10_000);
    await s.waitForRig('shares on pool-b', 'bfg550', (r: AsicRigState) => (r.pools[1]!.accepted >= 2 ? r : undefined), 30_000);
    revivedAt = await s.fault({ fault: 'revive-pool', pool: 'pool-a' });
    const back = await s.waitForRig('bfgminer back on pool-a', 'bfg550', (r: AsicRigState) => (r.poolSwitches.some((p) => p.to === 0 && p.by === 'miner') ? r : undefined), 60_000);
    await s.waitForRig('shares on pool-a again', 'bfg550', (r: AsicRigState) => (r.pools[0]!.accepted > back.pools[0]!.accepted ? r : undefined), 30_000);
    actions = await actionsOf(s, IDS);
    for (const id of IDS) rigs[id] = await s.rig<AsicRigState>(id);
    const at = (id: string, to: number): number => (rigs[id]!.poolSwitches.find((p) => p.to === to && p.by === 'miner')?.atMs ?? Number.NaN);
    report('real-own-failover', {
      pollMs: POLL_MS, bfgFailoverMs: at('bfg550', 1) - killedAt, bfgFailbackMs: at('bfg550', 0) - revivedAt,
      cgminer2FailoverMs: at('cg2114', 1) - killedAt, cgminer2FailbackMs: at('cg2114', 0) - revivedAt,
      bfgActions: actions['bfg550']!.length, cgminer2Actions: actions['cg2114']!.length,
    });
  }, 170_000);
  afterAll(async () => { await scenario?.stop(); });

  it('real miners: bfgminer 5.5.0 leaves the killed pool within one poll and goes back ~34 s after its return (10x compressed), by itself, with no policy action', () => {
    const rig = rigs['bfg550']!;
    expect(moves(rig.poolSwitches)).toEqual([[0, 1, 'miner'], [1, 0, 'miner']]);
    expect(rig.poolSwitches[0]!.atMs - killedAt).toBeLessThan(1_500);
    // bfgminer's 41.4 s to Alive and 300 s delay, compressed 10x: 4.1 s + 30 s (plus the reconnect).
    expect(rig.poolSwitches[1]!.atMs - revivedAt).toBeGreaterThanOrEqual(33_000);
    expect(rig.poolSwitches[1]!.atMs - revivedAt).toBeLessThan(40_000);
    expect(actions['bfg550']!.map((e) => `${e.kind} ${e.reason}: ${e.message}`)).toEqual([]);
  });

  it('real miners: cgminer 2.11.4 (no share at difficulty 1) fails over and back by itself, with no policy action', () => {
    const rig = rigs['cg2114']!;
    expect(actions['cg2114']!.map((e) => `${e.kind} ${e.reason}: ${e.message}`)).toEqual([]);
    expect(moves(rig.poolSwitches)).toEqual([[0, 1, 'miner'], [1, 0, 'miner']]);
  });
});
