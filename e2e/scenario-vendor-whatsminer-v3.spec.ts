/**
 * Scenario (issue 17 items 5 and 8): a Whatsminer on API v3 (TCP 4433, length-prefixed JSON, token from the admin
 * password), controlled through its own write commands. Real processes: rigwarden-simfarm (stratum pools, the
 * Whatsminer v3 simulator on the farm's pools), the controller and the agent (driver whatsminer-v3). The miner comes
 * with one pool: the failover policy writes the group's pool list through set.miner.pools (AES-encrypted parameter),
 * so when that pool dies the firmware's own FAILOVER strategy has the backup to go to, and the controller leaves its
 * switch alone (API v3 reports no share counters: a dead pool is what it shows, and the firmware leaves a dead pool by
 * itself). A board overheats: the thermal policy sets the power mode normal -> low (set.miner.mode), the chips cool,
 * and it sets normal again. Everything is read back from the farm's state of the simulator.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiRigState } from '@rigwarden/simulators';
import { runNode, waitFor } from '@rigwarden/testing';
import { FAST_FRESHNESS, Scenario, bin, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const STEP_DOWN_AFTER_MS = 2000;
const STEP_UP_AFTER_MS = 3000;
const RIG = 'wm3-01';

/** The pools of the rig's one miner as the controller has them (rigctl rig --json). */
async function poolsAtController(s: Scenario): Promise<Array<{ url: string; status?: string }> | undefined> {
  const token = join(s.dir.path, 'admin.token');
  const r = await runNode(bin('rigctl'), ['--server', s.grpc, 'rig', RIG, '--json'], existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {});
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { miners?: Array<{ pools?: Array<{ url: string; status?: string }> }> }).miners?.[0]?.pools;
}

describe('scenario: Whatsminer API v3 through its own write commands', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('writes the pool list the firmware fails over on, and steps the power mode down and up', async () => {
    const startedAt = Date.now();
    scenario = await Scenario.start('vendor-whatsminer-v3', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a' }, { name: 'pool-b' }],
        rigs: [{ id: RIG, kind: 'whatsminer-v3', pools: ['pool-a'], password: 'admin-pass', restartPauseMs: 500 }],
        // Out of the low mode the chips head for 94 °C, in it for 66 °C (the M60S's hottest chip reads 82 °C normally).
        heat: { hotC: 94, coolC: 66, rampCPerS: 10 },
        drift: false,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: wm3', `    match: { rigIds: [${RIG}] }`, '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}", password: "x" }`, `      - { url: "${pools['pool-b']}", user: "${user}", password: "x" }`,
        '    profiles:', '      - { name: eco, asic: { powerMode: low } }', '      - { name: normal, asic: { powerMode: normal } }',
        '    desiredProfile: normal',
        `    policy: { thermal: { highC: 86, lowC: 76, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
      ].join('\n'),
    });
    const s = scenario;

    // The group's backup is not on the miner: the controller writes the list (encrypted, with the spec's passwords).
    const written = await s.waitForRig('the group\'s pools on the miner', RIG, (r: ApiRigState) => (r.pools.map((p) => p.name).join(' ') === 'pool-a pool-b' ? r : undefined), 20_000);
    const wroteAt = Date.now();
    expect(written.writes).toContain('set.miner.pools');
    const setPools = (await s.events(RIG)).filter((e) => e.kind === 'policy.set-pools');
    expect(setPools).toEqual([expect.objectContaining({ reason: 'spec-pools-missing', source: 'failover' })]);

    // pool-a dies: the firmware's FAILOVER moves to pool-b, and the controller does not undo it.
    const killedAt = await s.fault({ fault: 'kill-pool', pool: 'pool-a' });
    const moved = await s.waitForRig('mining on pool-b', RIG, (r: ApiRigState) => (r.activePool === 1 && r.hashing ? r : undefined), 5_000);
    expect(moved.pools.map((p) => [p.name, p.alive])).toEqual([['pool-a', false], ['pool-b', true]]);
    const deadSeen = await waitFor('the controller seeing pool-a dead', async () => {
      const pools = await poolsAtController(s);
      return pools?.find((p) => p.url === moved.pools[0]!.url)?.status === 'POOL_STATUS_DEAD' ? Date.now() : undefined;
    }, 10_000, 250);
    expect((await s.events(RIG)).filter((e) => e.kind === 'policy.switch-pool' || e.kind === 'policy.alert')).toEqual([]);
    await s.fault({ fault: 'revive-pool', pool: 'pool-a' });

    // Thermal: the power mode down while hot, back up once cool.
    const heatedAt = await s.fault({ fault: 'overheat', rig: RIG });
    const hot = await s.waitForRig('over 86 °C', RIG, (r: ApiRigState) => (r.hottestC > 86 ? Date.now() : undefined), 10_000);
    const low = await s.waitForRig('power mode low', RIG, (r: ApiRigState) => (r.powerMode === 'low' ? Date.now() : undefined), 15_000);
    const cool = await s.waitForRig('under 76 °C', RIG, (r: ApiRigState) => (r.hottestC < 76 ? Date.now() : undefined), 10_000);
    const normal = await s.waitForRig('power mode normal again', RIG, (r: ApiRigState) => (r.powerMode === 'normal' ? Date.now() : undefined), 20_000);
    await s.fault({ fault: 'cool', rig: RIG });
    expect(low - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
    expect(normal - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);
    expect((await s.rig<ApiRigState>(RIG)).writes.filter((w) => w.startsWith('set.miner.mode')).slice(0, 2)).toEqual(['set.miner.mode "low"', 'set.miner.mode "normal"']);
    const steps = (await s.events(RIG)).filter((e) => e.kind === 'policy.apply-profile');
    expect(steps.slice(0, 2).map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);

    report('vendor-whatsminer-v3', {
      pollMs: POLL_MS, startToPoolsWrittenMs: wroteAt - startedAt, killToDeadAtControllerMs: deadSeen - killedAt,
      heatToOver86Ms: hot - heatedAt, over86ToLowMs: low - hot, lowToUnder76Ms: cool - low, under76ToNormalMs: normal - cool,
    });
  });
});
