/**
 * Scenario (issue 17 items 5 and 8): a Braiins OS+ miner controlled through its gRPC API (bos-plus-api). Real
 * processes: rigwarden-simfarm (stratum pools, the Braiins gRPC simulator on the farm's pools), the controller and
 * the agent (driver braiins-grpc, login token kept). Its primary pool hangs (connected, no share accepted; bosminer
 * stays on it): the failover policy moves pool-b first through PoolService/SetPoolGroups. A board overheats: the
 * thermal policy lowers the power target (PerformanceService/SetPowerTarget, watts), the chips cool, and it raises
 * it again. Both read back from the farm's state of the simulator.
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
const RIG = 'bos-01';

/** The controller's view of the rig's one miner (rigctl rig --json): its capabilities and pool-a's accepted shares. */
async function minerAtController(s: Scenario): Promise<{ capabilities: string[]; accepted: number } | undefined> {
  const token = join(s.dir.path, 'admin.token');
  const r = await runNode(bin('rigctl'), ['--server', s.grpc, 'rig', RIG, '--json'], existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {});
  if (r.code !== 0) return undefined;
  const miners = (JSON.parse(r.stdout) as { miners?: Array<{ capabilities?: string[]; pools?: Array<{ accepted?: number }> }> }).miners ?? [];
  return miners.length === 1 ? { capabilities: miners[0]!.capabilities ?? [], accepted: miners[0]!.pools?.[0]?.accepted ?? 0 } : undefined;
}

describe('scenario: Braiins OS+ through its gRPC API', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('moves off a hung pool through SetPoolGroups and steps the power target down and up', async () => {
    scenario = await Scenario.start('vendor-braiins', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a' }, { name: 'pool-b' }],
        // One share per 250 ms of hashing: its pools' difficulty makes a hung pool stand out within seconds.
        rigs: [{ id: RIG, kind: 'braiins-grpc', pools: ['pool-a', 'pool-b'], password: 'bos-pass', shareIntervalMs: 250, restartPauseMs: 1000, powerTargetW: 3000 }],
        // Above its 3000 W target the chips head for 88 °C; at any lower target for 62 °C, 10 °C a second.
        heat: { hotC: 88, coolC: 62, rampCPerS: 10 },
        drift: false,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: bos', `    match: { rigIds: [${RIG}] }`, '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}", password: "x" }`, `      - { url: "${pools['pool-b']}", user: "${user}", password: "x" }`,
        '    profiles:', '      - { name: eco, asic: { powerTargetW: 2500 } }', '      - { name: normal, asic: { powerTargetW: 3000 } }',
        '    desiredProfile: normal',
        `    policy: { failover: { silentAfterMs: 3000 }, thermal: { highC: 80, lowC: 70, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    const on = (r: ApiRigState): string | undefined => (r.activePool === undefined ? undefined : r.pools[r.activePool]!.name);
    // Mining on pool-a, and the controller has seen its shares move (which pool is in use needs that evidence).
    await s.waitForRig('shares on pool-a', RIG, (r: ApiRigState) => (on(r) === 'pool-a' && (r.pools[0]!.accepted ?? 0) >= 2 ? r : undefined), 20_000);
    const first = await waitFor('bos-01 at the controller with the gRPC control paths', async () => {
      const m = await minerAtController(s);
      return m && m.capabilities.includes('power-target') && m.accepted > 0 ? m : undefined;
    }, 20_000, 250);
    expect(first.capabilities).toEqual(expect.arrayContaining(['switch-pool', 'set-pools', 'power-target']));
    await waitFor('shares moving at the controller', async () => ((await minerAtController(s))?.accepted ?? 0) > first.accepted ? true : undefined, 10_000, 250);

    // Failover: pool-a hangs; bosminer stays on it (alive), so the controller must move the miner.
    const silencedAt = await s.fault({ fault: 'silence-pool', pool: 'pool-a' });
    const moved = await s.waitForRig('mining on pool-b', RIG, (r: ApiRigState) => (on(r) === 'pool-b' && r.hashing ? r : undefined), 20_000);
    const movedAt = Date.now();
    expect(moved.pools.map((p) => p.name)).toEqual(['pool-b', 'pool-a']);
    expect(moved.writes).toContain('PoolService/SetPoolGroups');
    expect((await s.events(RIG)).filter((e) => e.kind === 'policy.switch-pool')).toEqual([expect.objectContaining({ reason: 'active-pool-silent', source: 'failover' })]);
    await s.waitForRig('shares on pool-b', RIG, (r: ApiRigState) => ((r.pools.find((p) => p.name === 'pool-b')?.accepted ?? 0) >= 2 ? true : undefined), 10_000);
    await s.fault({ fault: 'resume-pool', pool: 'pool-a' });

    // Thermal: the power target down while hot, back up once cool.
    const heatedAt = await s.fault({ fault: 'overheat', rig: RIG });
    const hot = await s.waitForRig('over 80 °C', RIG, (r: ApiRigState) => (r.hottestC > 80 ? Date.now() : undefined), 10_000);
    const down = await s.waitForRig('power target 2500 W', RIG, (r: ApiRigState) => (r.powerTargetW === 2500 ? Date.now() : undefined), 15_000);
    const cool = await s.waitForRig('under 70 °C', RIG, (r: ApiRigState) => (r.hottestC < 70 ? Date.now() : undefined), 10_000);
    const up = await s.waitForRig('power target 3000 W again', RIG, (r: ApiRigState) => (r.powerTargetW === 3000 ? Date.now() : undefined), 20_000);
    await s.fault({ fault: 'cool', rig: RIG });
    expect(down - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
    expect(up - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);
    expect((await s.rig<ApiRigState>(RIG)).writes.filter((w) => w === 'PerformanceService/SetPowerTarget').length).toBeGreaterThanOrEqual(2);
    const steps = (await s.events(RIG)).filter((e) => e.kind === 'policy.apply-profile');
    expect(steps.slice(0, 2).map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);

    report('vendor-braiins', {
      pollMs: POLL_MS, silenceToPoolBMs: movedAt - silencedAt, heatToOver80Ms: hot - heatedAt, over80To2500WMs: down - hot,
      to2500WToUnder70Ms: cool - down, under70To3000WMs: up - cool,
    });
  });
});
