/**
 * Issue 15: with no fault at all, the product leaves real miners alone. The miners are the simulated real programs
 * (their recorded bytes and behaviour): cgminer 4.11.1 without devices (0 H/s, never asks for work), cgminer 2.11.4
 * whose API shows a phantom second CPU with uninitialised fields, and bfgminer 5.5.0 whose hash rate swings between
 * 0.04 and 1 MH/s on a busy CPU. Before the fix, two of three were quarantined within 7 minutes. The policy windows
 * are cut to 10-20 s (real-miner-harness.ts), so the 70 s window covers each several times.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { Scenario, report } from './scenario-harness';
import { BFGMINER_SEED, expectNoActionFor, realMinerFleet } from './real-miner-harness';

jest.setTimeout(180_000);
const POLL_MS = 1000;
const WINDOW_MS = 70_000;
const RIGS = ['cg411-nodev', 'cg2114-phantom', 'bfg550'];

describe('real miners: no fault, no action', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('real miners: cgminer 4.11.1 without devices, cgminer 2.11.4 with a phantom CPU and bfgminer 5.5.0 get no policy action in 70 s', async () => {
    scenario = await Scenario.start('real-no-fault', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 1000 }, { name: 'pool-b', notifyIntervalMs: 1000 }],
        rigs: [
          { id: 'cg411-nodev', kind: 'asic', dialect: 'cgminer', program: 'cgminer-4.11.1-no-devices', pools: ['pool-a', 'pool-b'] },
          { id: 'cg2114-phantom', kind: 'asic', dialect: 'cgminer', program: 'cgminer-2.11.4-cpu', pools: ['pool-a', 'pool-b'] },
          { id: 'bfg550', kind: 'asic', dialect: 'cgminer', program: 'bfgminer-5.5.0-cpu', seed: BFGMINER_SEED, pools: ['pool-a', 'pool-b'] },
        ],
      },
      fleet: (pools, user) => realMinerFleet(pools, user, RIGS),
    });
    const s = scenario;
    await s.waitForRig('bfgminer hashing on pool-a', 'bfg550', (r: AsicRigState) => (r.pools[0]!.accepted >= 1 ? r : undefined), 60_000);

    const events = await expectNoActionFor(s, RIGS, WINDOW_MS);
    for (const id of RIGS) {
      const rig = await s.rig<AsicRigState>(id);
      expect({ id, restarts: rig.restarts, reboots: rig.reboots, switches: rig.poolSwitches }).toEqual({ id, restarts: 0, reboots: 0, switches: [] });
      expect(rig.activePool).toBe(0);
    }
    const alerts = Object.fromEntries(RIGS.map((id) => [id, events[id]!.map((e) => e.reason).join(',') || '-']));
    report('real-no-fault', { pollMs: POLL_MS, windowMs: WINDOW_MS, ...alerts });
  });
});
