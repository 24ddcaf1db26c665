/**
 * Scenario (issue 17 items 5 and 8): stock Antminers whose cgminer API refuses writes, controlled through their web
 * UI. Real processes: rigwarden-simfarm (stratum pools, the rigs' cgminer APIs and web UIs with digest auth and
 * whole-config writes), the controller and the agent (driver antminer-web with the cgminer API merged). A pool dies:
 * the failover policy rewrites the pool order through set_miner_conf.cgi, mining restarts on the backup. A board
 * overheats: the thermal policy steps the power mode down from normal to low (the web's own power mode; the firmware
 * has no overclock), the chips cool, and it steps back up. Both are read back from the simulators' state.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AsicRigState } from '@rigwarden/simulators';
import { runNode, waitFor } from '@rigwarden/testing';
import { FAST_FRESHNESS, Scenario, bin, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const STEP_DOWN_AFTER_MS = 2000;
const STEP_UP_AFTER_MS = 3000;

describe('scenario: stock Antminer through its web UI', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  /** The controller's view of a rig's one miner (rigctl rig --json). */
  const minerAtController = async (s: Scenario, rig: string): Promise<{ driver: string; capabilities: string[]; pools: Array<{ accepted?: number }> } | undefined> => {
    const token = join(s.dir.path, 'admin.token');
    const r = await runNode(bin('rigctl'), ['--server', s.grpc, 'rig', rig, '--json'], existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {});
    if (r.code !== 0) return undefined;
    const miners = (JSON.parse(r.stdout) as { miners?: Array<{ driver: string; capabilities?: string[]; pools?: Array<{ accepted?: number }> }> }).miners ?? [];
    if (miners.length !== 1) return undefined;
    return { driver: miners[0]!.driver, capabilities: miners[0]!.capabilities ?? [], pools: miners[0]!.pools ?? [] };
  };

  it('fails a dead pool over and steps the power mode down and up, all through set_miner_conf.cgi', async () => {
    scenario = await Scenario.start('vendor-antminer-web', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }, { name: 'pool-b', notifyIntervalMs: 500 }],
        rigs: [
          // Stays on a dead pool until told otherwise: the controller must move it, and only the web UI can.
          { id: 'web-fail', kind: 'asic', dialect: 'antminer', model: 'Antminer S19', pools: ['pool-a', 'pool-b'], mining: { ownFailover: false }, web: { miningRestartMs: 1000 } },
          { id: 'web-hot', kind: 'asic', dialect: 'antminer', model: 'Antminer S19', pools: ['pool-a'], web: { miningRestartMs: 1000 } },
        ],
        mining: { shareIntervalMs: 500, reconnectMs: 250 },
        // 10 °C a second at the normal power mode (farm work mode 1), cooling at low (0).
        heat: { hotC: 88, coolC: 62, hotFromWorkMode: 1, rampCPerS: 10 },
        drift: false,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:',
        '  - name: web-fail', '    match: { rigIds: [web-fail] }', '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        '  - name: web-hot', '    match: { rigIds: [web-hot] }', '    pools:', `      - { url: "${pools['pool-a']}", user: "${user}" }`,
        '    profiles:', '      - { name: eco, asic: { powerMode: low } }', '      - { name: normal, asic: { powerMode: normal } }',
        '    desiredProfile: normal',
        `    policy: { thermal: { highC: 80, lowC: 70, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    // One miner per rig at the controller, read through the web UI with the cgminer API merged, able to write pools
    // and power modes; and the controller has seen shares move on pool-a (which pool is in use needs that evidence).
    for (const rig of ['web-fail', 'web-hot']) {
      const first = await waitFor(`${rig} at the controller`, async () => {
        const m = await minerAtController(s, rig);
        return m && m.capabilities.includes('power-mode') && (m.pools[0]?.accepted ?? 0) > 0 ? m : undefined;
      }, 20_000, 250);
      expect(first.driver).toBe('antminer-web+cgminer-api');
      expect(first.capabilities).toEqual(expect.arrayContaining(['switch-pool', 'set-pools', 'power-mode']));
      await waitFor(`${rig}: shares moving at the controller`, async () => ((await minerAtController(s, rig))?.pools[0]?.accepted ?? 0) > (first.pools[0]!.accepted ?? 0) ? true : undefined, 10_000, 250);
    }

    // Failover: pool-a's process dies; the web-fail rig's config gets pool-b first, mining restarts there.
    const killedAt = await s.fault({ fault: 'kill-pool', pool: 'pool-a' });
    const moved = await s.waitForRig('web-fail mining on pool-b after the web write', 'web-fail', (r: AsicRigState) =>
      (r.web!.poolChanges.length > 0 && r.web!.poolChanges[0]!.resumedAtMs !== undefined && r.pools[r.activePool]?.name === 'pool-b' ? r : undefined), 15_000);
    const change = moved.web!.poolChanges[0]!;
    expect(change).toMatchObject({ pools: ['pool-b', 'pool-a'], from: 'pool-a', to: 'pool-b' });
    expect(moved.web!.configuredPools).toEqual(['pool-b', 'pool-a']);
    await s.waitForRig('shares on pool-b', 'web-fail', (r: AsicRigState) => ((r.pools.find((p) => p.name === 'pool-b')?.accepted ?? 0) >= 2 ? true : undefined), 10_000);
    const failEvents = await s.events('web-fail');
    expect(failEvents.filter((e) => e.kind === 'policy.switch-pool')).toEqual([expect.objectContaining({ reason: 'active-pool-dead', source: 'failover' })]);
    // The restart after the write is not read as a new fault.
    expect(failEvents.filter((e) => e.kind === 'policy.alert' || e.kind.startsWith('policy.restart') || e.kind.startsWith('policy.reboot'))).toEqual([]);

    // Thermal: web-hot mines on pool-a too, which is dead now: bring it back first.
    await s.fault({ fault: 'revive-pool', pool: 'pool-a' });
    await s.waitForRig('web-hot mining again', 'web-hot', (r: AsicRigState) => (r.pools[0]!.status === 'Alive' ? r : undefined), 10_000);
    const heatedAt = await s.fault({ fault: 'overheat', rig: 'web-hot' });
    const hot = await s.waitForRig('web-hot over 80 °C', 'web-hot', (r: AsicRigState) => (r.hottestC > 80 ? Date.now() : undefined), 10_000);
    const low = await s.waitForRig('web-hot on the low power mode', 'web-hot', (r: AsicRigState) => (r.web!.powerMode === 'low' && r.workMode === 0 ? Date.now() : undefined), 15_000);
    const cool = await s.waitForRig('web-hot under 70 °C', 'web-hot', (r: AsicRigState) => (r.hottestC < 70 ? Date.now() : undefined), 10_000);
    const normal = await s.waitForRig('web-hot on the normal power mode again', 'web-hot', (r: AsicRigState) => (r.web!.powerMode === 'normal' ? Date.now() : undefined), 20_000);
    await s.fault({ fault: 'cool', rig: 'web-hot' });
    expect(low - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
    expect(normal - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);
    const hotRig = await s.rig<AsicRigState>('web-hot');
    // Power-mode writes keep the pools: no mining restart.
    expect(hotRig.web!.poolChanges).toEqual([]);
    const steps = (await s.events('web-hot')).filter((e) => e.kind === 'policy.apply-profile');
    expect(steps.map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);
    expect(steps[0]!.message).toMatch(/stepping down from profile "normal" to "eco"/);

    report('vendor-antminer-web', {
      pollMs: POLL_MS, killToWebWriteMs: change.atMs - killedAt, webWriteToMiningOnBackupMs: change.resumedAtMs! - change.atMs,
      heatToOver80Ms: hot - heatedAt, over80ToLowMs: low - hot, lowToUnder70Ms: cool - low, under70ToNormalMs: normal - cool,
    });
  });
});
