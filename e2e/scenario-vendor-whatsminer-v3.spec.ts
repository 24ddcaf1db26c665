/**
 * Scenario (issue 17 items 5 and 8): a Whatsminer on API v3 (TCP 4433, length-prefixed JSON, token from the admin
 * password), controlled through its own write commands. Real processes: the controller (embedded broker) and the
 * agent (driver whatsminer-v3) against the Whatsminer v3 simulator on a loopback port. The miner comes with one pool:
 * the failover policy writes the group's pool list through set.miner.pools (AES-encrypted parameter), so when that
 * pool dies the firmware's own FAILOVER strategy has the backup to go to, and the controller leaves its switch alone
 * (API v3 reports no share counters: a dead pool is what it shows, and the firmware leaves a dead pool by itself).
 * A board overheats: the thermal policy sets the power mode normal -> low (set.miner.mode), the chips cool, and it
 * sets normal again. Everything is read back from the simulator's state.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WhatsminerV3Simulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';
import { FAST_FRESHNESS, bin, report, type ScenarioEvent } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const STEP_DOWN_AFTER_MS = 2000;
const STEP_UP_AFTER_MS = 3000;
const POOL_A = 'stratum+tcp://pool-a.example:3333';
const POOL_B = 'stratum+tcp://pool-b.example:3333';
const USER = 'farm.wm';
const RIG = 'wm3-01';

describe('scenario: Whatsminer API v3 through its own write commands', () => {
  let dir: TempDir | undefined;
  let sim: WhatsminerV3Simulator | undefined;
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
      const rig = await rigctl('rig', RIG, '--json').catch(() => undefined);
      const ev = await rigctl('events', RIG, '--json').catch(() => undefined);
      throw new Error(`${err.message}\n--- rig ---\n${rig?.stdout.slice(0, 4000) ?? ''}\n--- events ---\n${ev?.stdout.slice(0, 3000) ?? ''}\n${logs()}`);
    });

  it('writes the pool list the firmware fails over on, and steps the power mode down and up', async () => {
    dir = makeTempDir('rigwarden-vendor-wm3-');
    const startedAt = Date.now();
    sim = new WhatsminerV3Simulator({ password: 'admin-pass', restartPauseMs: 500, pools: [{ url: POOL_A, user: USER, passwd: 'x' }] });
    const { port } = await sim.start();
    const topicRoot = `e2e-wm3-${randomBytes(4).toString('hex')}/v1`;
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: process.env['SCENARIO_LOG_LEVEL'] ?? 'warn' };
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: randomBytes(32).toString('base64url') }] } }), { mode: 0o600 });
    const fleet = join(dir.path, 'fleet.yaml');
    writeFileSync(fleet, [
      'policy:', FAST_FRESHNESS,
      'groups:', '  - name: wm3', `    match: { rigIds: [${RIG}] }`, '    pools:',
      `      - { url: "${POOL_A}", user: "${USER}", password: "x" }`, `      - { url: "${POOL_B}", user: "${USER}", password: "x" }`,
      '    profiles:', '      - { name: eco, asic: { powerMode: low } }', '      - { name: normal, asic: { powerMode: normal } }',
      '    desiredProfile: normal',
      `    policy: { thermal: { highC: 86, lowC: 76, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
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
      'agent:', '  id: agent-wm3', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'poll:', `  intervalMs: ${POLL_MS}`,
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:', `  - { rig: ${RIG}, driver: whatsminer-v3, host: 127.0.0.1, port: ${port}, options: { password: admin-pass } }`, '',
    ].join('\n'));
    processes.push(startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, MQTT_URL: endpoints.mqtt }));
    const wm = sim;

    // The group's backup is not on the miner: the controller writes the list (encrypted) and reads it back.
    const wroteAt = await until('the group\'s pools on the miner', () => (wm.state.pools.map((p) => p.url).join(' ') === `${POOL_A} ${POOL_B}` ? Date.now() : undefined), 20_000);
    const write = wm.requests.find((r) => r.body?.['cmd'] === 'set.miner.pools')!;
    // The spec's stratum passwords travel too (sealed to the rig's key at the controller, opened by the agent).
    expect(write.decryptedParam).toEqual([{ pool: POOL_A, worker: USER, passwd: 'x' }, { pool: POOL_B, worker: USER, passwd: 'x' }]);
    expect(typeof write.body!['param']).toBe('string'); // the pool list travels encrypted
    const setPools = (await events(RIG)).filter((e) => e.kind === 'policy.set-pools');
    expect(setPools).toEqual([expect.objectContaining({ reason: 'spec-pools-missing', source: 'failover' })]);

    // pool-a dies: the firmware's FAILOVER moves to pool-b, and the controller does not undo it.
    await until('the controller sees both pools', async () => {
      const r = await rigctl('rig', RIG, '--json');
      const pools = r.code === 0 ? (JSON.parse(r.stdout) as { miners?: Array<{ pools?: unknown[] }> }).miners?.[0]?.pools ?? [] : [];
      return pools.length === 2 ? true : undefined;
    }, 10_000);
    wm.setPoolReachable(POOL_A, false);
    expect(wm.activePool()).toBe(1);
    const killedAt = Date.now();
    const deadSeen = await until('the controller sees pool-a dead', async () => {
      const r = await rigctl('rig', RIG, '--json');
      const pools = r.code === 0 ? (JSON.parse(r.stdout) as { miners?: Array<{ pools?: Array<{ url: string; status?: string }> }> }).miners?.[0]?.pools ?? [] : [];
      return pools.find((p) => p.url === POOL_A)?.status === 'POOL_STATUS_DEAD' ? Date.now() : undefined;
    }, 10_000);
    expect((await events(RIG)).filter((e) => e.kind === 'policy.switch-pool' || e.kind === 'policy.alert')).toEqual([]);
    wm.setPoolReachable(POOL_A, true);

    // Thermal (the M60S's hottest chip reads 82 °C normally; 86 °C is high here): out of the low mode the chips head
    // for 94 °C, in it for 66 °C.
    wm.overheat({ hotC: 94, coolC: 66, rampCPerS: 10 });
    const heatedAt = Date.now();
    const hot = await until('over 86 °C', () => (wm.chipTempMaxC(2) > 86 ? Date.now() : undefined), 10_000);
    const low = await until('power mode low', () => (wm.state.mode === 'low' ? Date.now() : undefined), 15_000);
    const cool = await until('under 76 °C', () => (wm.chipTempMaxC(2) < 76 ? Date.now() : undefined), 10_000);
    const normal = await until('power mode normal again', () => (wm.state.mode === 'normal' ? Date.now() : undefined), 20_000);
    wm.cool();
    expect(low - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
    expect(normal - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);
    expect(wm.requests.filter((r) => r.body?.['cmd'] === 'set.miner.mode').map((r) => r.body!['param']).slice(0, 2)).toEqual(['low', 'normal']);
    const steps = (await events(RIG)).filter((e) => e.kind === 'policy.apply-profile');
    expect(steps.slice(0, 2).map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);

    report('vendor-whatsminer-v3', {
      pollMs: POLL_MS, startToPoolsWrittenMs: wroteAt - startedAt, killToDeadAtControllerMs: deadSeen - killedAt,
      heatToOver86Ms: hot - heatedAt, over86ToLowMs: low - hot, lowToUnder76Ms: cool - low, under76ToNormalMs: normal - cool,
    });
  });
});
