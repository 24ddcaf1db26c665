/**
 * Scenario (issue 17 items 5 and 8): a Braiins OS+ miner controlled through its gRPC API (bos-plus-api). Real
 * processes: the controller (embedded broker) and the agent (driver braiins-grpc, login token kept) against the
 * Braiins gRPC simulator on a loopback port. Its primary pool hangs (connected, no share accepted; bosminer stays on
 * it): the failover policy moves pool-b first through PoolService/SetPoolGroups. A board overheats: the thermal
 * policy lowers the power target (PerformanceService/SetPowerTarget, watts; the firmware has no other overclock
 * here), the chips cool, and it raises it again. Both read back from the simulator's state.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BraiinsGrpcSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';
import { FAST_FRESHNESS, bin, report, type ScenarioEvent } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const STEP_DOWN_AFTER_MS = 2000;
const STEP_UP_AFTER_MS = 3000;
const POOL_A = 'stratum+tcp://pool-a.example:3333';
const POOL_B = 'stratum+tcp://pool-b.example:3333';
const USER = 'farm.bos';

describe('scenario: Braiins OS+ through its gRPC API', () => {
  let dir: TempDir | undefined;
  let sim: BraiinsGrpcSimulator | undefined;
  const processes: RunningProcess[] = [];
  let grpc = '';
  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop('SIGTERM', 5000);
    await sim?.stop();
    dir?.remove();
  });

  const rigctl = (...args: string[]) => {
    const token = join(dir!.path, 'controller', 'admin.token');
    return runNode(bin('rigctl'), ['--server', grpc, ...args], existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {}, 30_000);
  };
  const events = async (rig: string): Promise<ScenarioEvent[]> => {
    const r = await rigctl('events', rig, '--json', '--limit', '200');
    if (r.code !== 0) throw new Error(`rigctl events failed (${r.code}): ${r.stderr}`);
    return ((JSON.parse(r.stdout) as { events?: ScenarioEvent[] }).events ?? []).reverse();
  };
  const logs = (): string => processes.map((p) => p.output().slice(-2500)).join('\n---\n');
  const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> =>
    waitFor(what, probe, ms, 100).catch(async (err: Error) => {
      const rig = await rigctl('rig', 'bos-01', '--json').catch(() => undefined);
      const ev = await rigctl('events', 'bos-01', '--json').catch(() => undefined);
      throw new Error(`${err.message}\n--- rig ---\n${rig?.stdout.slice(0, 4000) ?? ''}\n--- events ---\n${ev?.stdout.slice(0, 3000) ?? ''}\n${logs()}`);
    });

  it('moves off a hung pool through SetPoolGroups and steps the power target down and up', async () => {
    dir = makeTempDir('rigwarden-vendor-braiins-');
    sim = new BraiinsGrpcSimulator({
      username: 'root', password: 'bos-pass', restartPauseMs: 1000, shareIntervalMs: 250, lifetimeMs: 120_000, nominalPowerW: 3000, powerTargetW: 3000,
      pools: [{ name: 'Default', quota: 1, pools: [{ url: POOL_A, user: USER, password: 'x', enabled: true }, { url: POOL_B, user: USER, password: 'x', enabled: true }] }],
    });
    const port = await sim.start();
    const topicRoot = `e2e-bos-${randomBytes(4).toString('hex')}/v1`;
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: process.env['SCENARIO_LOG_LEVEL'] ?? 'warn' };
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'bos-01': [{ id: 'k1', secret: randomBytes(32).toString('base64url') }] } }), { mode: 0o600 });
    const fleet = join(dir.path, 'fleet.yaml');
    writeFileSync(fleet, [
      'policy:', FAST_FRESHNESS,
      'groups:', '  - name: bos', '    match: { rigIds: [bos-01] }', '    pools:',
      `      - { url: "${POOL_A}", user: "${USER}" }`, `      - { url: "${POOL_B}", user: "${USER}" }`,
      '    profiles:', '      - { name: eco, asic: { powerTargetW: 2500 } }', '      - { name: normal, asic: { powerTargetW: 3000 } }',
      '    desiredProfile: normal',
      `    policy: { failover: { silentAfterMs: 3000 }, thermal: { highC: 80, lowC: 70, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
    ].join('\n'));
    const controllerReady = join(dir.path, 'controller.ready.json');
    const controller = startNode(bin('rigwarden-controller'), ['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0',
      '--ready-file', controllerReady, '--fleet', fleet, '--keys-file', keysFile, '--mqtt-port', '0', '--mqtt-allow-anonymous'], env);
    processes.push(controller);
    const endpoints = await until('the controller', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited:\n${controller.output()}`);
      return existsSync(controllerReady) ? JSON.parse(readFileSync(controllerReady, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000);
    grpc = endpoints.grpc;
    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(agentConfig, [
      'agent:', '  id: agent-bos', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'poll:', `  intervalMs: ${POLL_MS}`,
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:', `  - { rig: bos-01, driver: braiins-grpc, host: 127.0.0.1, port: ${port}, options: { user: root, password: bos-pass, restartWaitMs: 10000 } }`, '',
    ].join('\n'));
    processes.push(startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, MQTT_URL: endpoints.mqtt }));
    const state = sim.state;

    // At the controller: one miner with the gRPC control paths, and shares moving on pool-a.
    const seen = async (): Promise<{ capabilities: string[]; accepted: number } | undefined> => {
      const r = await rigctl('rig', 'bos-01', '--json');
      if (r.code !== 0) return undefined;
      const m = (JSON.parse(r.stdout) as { miners?: Array<{ capabilities?: string[]; pools?: Array<{ url: string; accepted?: number }> }> }).miners?.[0];
      return m ? { capabilities: m.capabilities ?? [], accepted: m.pools?.find((p) => p.url === POOL_A)?.accepted ?? 0 } : undefined;
    };
    const first = await until('bos-01 at the controller', async () => {
      const m = await seen();
      return m && m.capabilities.includes('power-target') && m.accepted > 0 ? m : undefined;
    }, 20_000);
    expect(first.capabilities).toEqual(expect.arrayContaining(['switch-pool', 'set-pools', 'power-target']));
    await until('shares moving at the controller', async () => ((await seen())?.accepted ?? 0) > first.accepted ? true : undefined, 10_000);

    // Failover: pool-a hangs; bosminer stays on it (alive), so the controller must move the miner.
    state.silencePool(POOL_A);
    const silencedAt = Date.now();
    const movedAt = await until('bos-01 mining on pool-b', () => {
      const active = state.activePool();
      return active && state.groups[active.group]!.pools[active.pool]!.url === POOL_B && state.hashing ? Date.now() : undefined;
    }, 20_000);
    expect(state.groups[0]!.pools.map((p) => p.url)).toEqual([POOL_B, POOL_A]);
    expect(sim.calls.filter((c) => c.method === 'PoolService/SetPoolGroups').length).toBeGreaterThanOrEqual(1);
    const switches = (await events('bos-01')).filter((e) => e.kind === 'policy.switch-pool');
    expect(switches).toEqual([expect.objectContaining({ reason: 'active-pool-silent', source: 'failover' })]);
    await until('shares on pool-b', () => (state.acceptedShares(POOL_B) >= 2 ? true : undefined), 10_000);
    state.resumePool(POOL_A);

    // Thermal: above 2600 W the chips head for 88 °C; at 2500 W for 62 °C.
    state.overheat({ hotC: 88, coolC: 62, hotAboveW: 2600, rampCPerS: 10 });
    const heatedAt = Date.now();
    const hot = await until('over 80 °C', () => (state.chipTempC(state.boards) > 80 ? Date.now() : undefined), 10_000);
    const down = await until('power target 2500 W', () => (state.powerTargetW === 2500 ? Date.now() : undefined), 15_000);
    const cool = await until('under 70 °C', () => (state.chipTempC(state.boards) < 70 ? Date.now() : undefined), 10_000);
    const up = await until('power target 3000 W again', () => (state.powerTargetW === 3000 ? Date.now() : undefined), 20_000);
    state.cool();
    expect(down - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
    expect(up - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);
    expect(sim.calls.filter((c) => c.method === 'PerformanceService/SetPowerTarget').map((c) => c.request)).toEqual([
      expect.objectContaining({ power_target: { watt: 2500 } }), expect.objectContaining({ power_target: { watt: 3000 } }),
    ]);
    const steps = (await events('bos-01')).filter((e) => e.kind === 'policy.apply-profile');
    expect(steps.slice(0, 2).map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);

    report('vendor-braiins', {
      pollMs: POLL_MS, silenceToPoolBMs: movedAt - silencedAt, heatToOver80Ms: hot - heatedAt, over80To2500WMs: down - hot,
      to2500WToUnder70Ms: cool - down, under70To3000WMs: up - cool,
    });
  });
});
