/**
 * The walking skeleton with real processes: the built agent and controller
 * (dist/, through bin/), a cgminer-API simulator on loopback, a real broker
 * (the controller's embedded aedes, or MQTT_URL as in CI) and the built rigctl.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, writeTestBrokerUsers, type RunningProcess, type TempDir } from '@rigwarden/testing';
import { randomBytes } from 'node:crypto';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);

interface MinerJson {
  hashrate5sHs?: number;
  accepted?: number;
  rejected?: number;
  boards?: Array<{ hashrateHs?: number; boardTempC?: number }>;
  fans?: Array<{ rpm?: number }>;
  pools?: Array<{ url: string; user: string; status: string; active?: boolean; accepted?: number }>;
  errors?: Array<{ kind: string }>;
  [key: string]: unknown;
}

interface RigJson {
  rigId: string;
  online?: boolean;
  lastSeq?: number;
  miners: MinerJson[];
}

/** rigctl's API key: the admin token the controller under test wrote into its data dir. */
let rigctlEnv: NodeJS.ProcessEnv = {};

async function rigctlJson<T>(server: string, ...args: string[]): Promise<T> {
  const { code, stdout, stderr } = await runNode(bin('rigctl'), ['--server', server, ...args, '--json'], rigctlEnv);
  if (code !== 0) throw new Error(`rigctl ${args.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as T;
}

jest.setTimeout(60_000);

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/controller/main.js'))) {
    const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
    if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
  }
});

describe('agent -> MQTT -> controller -> SQLite -> gRPC -> rigctl', () => {
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: RunningProcess;
  let agent: RunningProcess | undefined;
  let grpc: string;
  const topicRoot = `e2e-${randomBytes(5).toString('hex')}/v1`;

  beforeAll(async () => {
    dir = makeTempDir('rigwarden-e2e-');
    rigctlEnv = { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') };
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const readyFile = join(dir.path, 'controller.ready.json');
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: 'info' };
    // The embedded broker lets the agent in with its own login only (CI's MQTT_URL broker decides for itself).
    const users = writeTestBrokerUsers(dir.path, { 'e2e-agent': ['e2e-rig-1'] });
    controller = startNode(bin('rigwarden-controller'), [
      '--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--ready-file', readyFile,
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--broker-users', users.file]),
    ], env);
    const ready = await waitFor('the controller to be ready', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output()}`);
      return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { grpc: string; mqtt: string; db: string } : undefined;
    }, 30_000);
    grpc = ready.grpc;
    if (process.env['MQTT_URL']) expect(ready.mqtt).toBe(process.env['MQTT_URL']);

    const config = join(dir.path, 'agent.yaml');
    writeFileSync(config, [
      'agent:', '  id: e2e-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'mqtt:', `  url: ${JSON.stringify(ready.mqtt)}`, `  clientId: agent-${topicRoot}`,
      'poll:', '  intervalMs: 500',
      'miners:', '  - rig: e2e-rig-1', '    driver: cgminer', '    host: 127.0.0.1', `    port: ${port}`, '',
    ].join('\n'));
    // The agent reads the broker from its config; MQTT_URL would override it, so pass the controller's.
    agent = startNode(bin('rigwarden-agent'), ['--config', config], { ...env, MQTT_URL: ready.mqtt, ...(process.env['MQTT_URL'] ? {} : users.env('e2e-agent')) });
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.stop('SIGINT');
    await sim?.stop();
    dir?.remove();
  });

  it('shows exactly the hashrate, temperatures, fans and pools the simulator reports', async () => {
    const rig: RigJson = await waitFor('rigctl to show e2e-rig-1 with data', async () => {
      const { rigs } = await rigctlJson<{ rigs: RigJson[] }>(grpc, 'rigs');
      const found = rigs.find((r) => r.rigId === 'e2e-rig-1');
      return found?.miners?.[0]?.hashrate5sHs !== undefined ? found : undefined;
    }, 20_000, 200);
    const s = sim.state;
    expect(rig.online).toBe(true);
    expect(rig.miners).toHaveLength(1);
    const miner = rig.miners[0]!;
    expect(miner).toMatchObject({ rigId: 'e2e-rig-1', host: '127.0.0.1', driver: 'cgminer', model: s.model, firmware: `cgminer ${s.software}` });
    expect(miner.hashrate5sHs).toBeCloseTo(sim.totalHashrateHs(), -1);
    expect(miner.accepted).toBe(s.accepted);
    expect(miner.rejected).toBe(s.rejected);
    expect(miner.boards!.map((b) => b.boardTempC)).toEqual(s.boards.map((b) => b.tempC));
    miner.boards!.forEach((b, i) => expect(b.hashrateHs).toBeCloseTo(s.boards[i]!.hashrateHs, -1));
    expect(miner.fans!.map((f) => f.rpm)).toEqual(s.fans);
    expect(miner.pools!.map((p) => ({ url: p.url, user: p.user, status: p.status, active: p.active ?? false, accepted: p.accepted ?? 0 }))).toEqual(
      s.pools.map((p, i) => ({ url: p.url, user: p.user, status: 'POOL_STATUS_ALIVE', active: i === s.activePool, accepted: p.accepted })),
    );
    // The table view shows the same rig.
    const table = await runNode(bin('rigctl'), ['--server', grpc, 'rigs'], rigctlEnv);
    expect(table.stdout).toMatch(/e2e-rig-1\s+online\s+1\s+cgminer 4\.11\.1\s+90\.\d\d TH\/s \(5s\)/);
  });

  it('follows the miner: a hotter board shows up in the next polls', async () => {
    sim.state.boards[1]!.tempC = 88.5;
    await waitFor('the new temperature', async () => {
      const rig = await rigctlJson<RigJson>(grpc, 'rig', 'e2e-rig-1');
      return rig.miners[0]!.boards?.[1]?.boardTempC === 88.5 ? true : undefined;
    }, 10_000, 200);
  });

  it('reports an unreachable miner as an error, not as zeros', async () => {
    sim.fault = 'close-without-reply';
    const rig = await waitFor('the error to appear', async () => {
      const r = await rigctlJson<RigJson>(grpc, 'rig', 'e2e-rig-1');
      return r.miners[0]!.errors?.length ? r : undefined;
    }, 10_000, 200);
    expect(rig.miners[0]!.errors![0]!.kind).toBe('connection_refused_by_api');
    expect(rig.miners[0]!.hashrate5sHs).toBeUndefined();
    expect(rig.miners[0]!.boards).toBeUndefined();
    sim.fault = 'none';
  });

  it('marks the rig offline when the agent stops, and the controller stops cleanly on SIGINT with exit code 0', async () => {
    expect(await agent!.stop('SIGTERM')).toBe(0);
    agent = undefined;
    await waitFor('the rig to go offline', async () => ((await rigctlJson<RigJson>(grpc, 'rig', 'e2e-rig-1')).online ? undefined : true), 10_000, 200);
    const result = await controller.stop('SIGINT');
    expect(result).toBe(0); // flushed and closed, then exit 0 (not killed by the signal)
    expect(controller.output()).not.toMatch(/ERROR|Unhandled|uncaught/i);
  });
});

describe('bad input at the process edges', () => {
  let dir: TempDir;
  let blocker: Server;
  const accepted = new Set<import('node:net').Socket>();
  beforeAll(async () => {
    dir = makeTempDir('rigwarden-e2e-');
    blocker = createServer((socket) => { accepted.add(socket); socket.on('error', () => undefined); });
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => blocker.close(resolve));
    dir.remove();
  });

  it('the agent refuses a bad config, naming the file and the key', async () => {
    const config = join(dir.path, 'agent.yaml');
    writeFileSync(config, 'miners:\n  - rig: r1\n    host: 10.0.0.1\n    port: 99999\n');
    const { code, stderr } = await runNode(bin('rigwarden-agent'), ['--config', config]);
    expect(code).toBe(78);
    expect(stderr).toContain(`${config}: miners[0].port: must be an integer from 1 to 65535, got number 99999`);
  });

  it('the agent refuses an unknown driver', async () => {
    const config = join(dir.path, 'agent2.yaml');
    writeFileSync(config, 'miners:\n  - rig: r1\n    host: 10.0.0.1\n    driver: antminer-9000\n');
    const { code, stderr } = await runNode(bin('rigwarden-agent'), ['--config', config, '--check']);
    expect(code).toBe(78);
    expect(stderr).toMatch(/miners\[0\]\.driver: unknown driver "antminer-9000"; available: .*cgminer/);
  });

  it('the controller refuses a busy MQTT port it was told to use', async () => {
    const busy = (blocker.address() as AddressInfo).port;
    const { code, stderr } = await runNode(bin('rigwarden-controller'), ['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--mqtt-port', String(busy)], { MQTT_URL: '' });
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${busy} (EADDRINUSE); pass --mqtt-port or set MQTT_URL`);
  });

  it('rigctl explains an unreachable controller', async () => {
    const busy = (blocker.address() as AddressInfo).port; // a TCP server that does not speak gRPC
    const { code, stderr } = await runNode(bin('rigctl'), ['--server', `127.0.0.1:${busy}`, '--timeout', '1500', 'rigs']);
    expect(code).toBe(5); // rigctl's exit code for an unreachable controller (apps/cli/src/exit-codes.ts)
    expect(stderr).toMatch(/rigctl: (cannot reach the controller|the controller at) 127\.0\.0\.1:\d+/);
  });
});
