/**
 * Issue 15: a hung pool (sockets open, no job, no answer to a share) under bfgminer 5.5.0, whose own silence
 * detection took 233 s to the first share on the backup. The controller must move it so that the first share on
 * the backup comes within 30 s (the product once took 35.7 s). bfgminer's delays are real here (not compressed), and
 * its share rate is its own: a share every few seconds at 0.4-1 MH/s.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { Scenario, report } from './scenario-harness';
import { BFGMINER_SEED, realMinerFleet } from './real-miner-harness';

jest.setTimeout(180_000);
const POLL_MS = 1000;

describe('real miners: hung pool', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('real miners: bfgminer on a hung pool gets its first share on the backup within 30 s', async () => {
    scenario = await Scenario.start('real-hung-pool', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 1000 }, { name: 'pool-b', notifyIntervalMs: 1000 }],
        rigs: [{ id: 'bfg550', kind: 'asic', dialect: 'cgminer', program: 'bfgminer-5.5.0-cpu', seed: BFGMINER_SEED, pools: ['pool-a', 'pool-b'] }],
      },
      // The default silentAfterMs (12 s), not the harness's cut-down windows: this is the product as shipped.
      fleet: (pools, user) => realMinerFleet(pools, user, ['bfg550']).replace('  failover: { silentAfterMs: 12000, switchCooldownMs: 10000 }\n', ''),
    });
    const s = scenario;
    // Long enough on pool-a for the policy to know bfgminer's share rate there.
    await s.waitForRig('shares on pool-a', 'bfg550', (r: AsicRigState) => (r.pools[0]!.accepted >= 8 ? r : undefined), 90_000);

    const hungAt = await s.fault({ fault: 'silence-pool', pool: 'pool-a' });
    const share = await s.waitForRig('the first share on pool-b', 'bfg550', (r: AsicRigState) => (r.pools[1]!.accepted > 0 ? r : undefined), 60_000);
    const firstShareMs = Date.now() - hungAt;
    const sw = share.poolSwitches.at(-1)!;
    expect(sw).toMatchObject({ from: 0, to: 1, by: 'api' });
    const switchMs = sw.atMs - hungAt;
    const switched = (await s.events('bfg550')).filter((e) => e.kind === 'policy.switch-pool');
    report('real-hung-pool', { pollMs: POLL_MS, hangToSwitchMs: switchMs, hangToFirstShareOnBackupMs: firstShareMs, reason: switched[0]?.reason ?? '-' });
    expect(switched[0]).toMatchObject({ reason: 'active-pool-silent', source: 'failover' });
    expect(firstShareMs).toBeLessThan(30_000);
  });
});
