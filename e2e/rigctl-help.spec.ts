/**
 * rigctl's help, completion and exit codes on the built bundles (dist/cli through bin/rigctl.js) and the real
 * controller process: the rough edges a new user hit (issue 21) stay fixed. `restart --help`, `keys --help`,
 * `keys create --help` and `help rigs` print their own usage; `watch` exits 5 like every command when the controller
 * is unreachable, with no grpc-js internals in the message; with no API key rigctl says where it looked.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { RigState, RigTopics, encodeJson } from '@rigwarden/protocol';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);

jest.setTimeout(60_000);

/** rigctl run in `cwd`, with only the environment given (no RIGWARDEN_* of the test's). */
function rigctlIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RIGWARDEN_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin('rigctl'), ...args], { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`rigctl ${args.join(' ')} did not finish in 20 s`)); }, 20_000);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The built controller with its data in `dataDir` (embedded broker unless MQTT_URL), once it is ready. */
async function startController(dataDir: string): Promise<{ controller: RunningProcess; grpc: string; mqtt: string; topicRoot: string }> {
  const topicRoot = `e2e-${randomBytes(5).toString('hex')}/v1`;
  const readyFile = join(dataDir, 'ready.json');
  const controller = startNode(bin('rigwarden-controller'), [
    '--data-dir', dataDir, '--grpc', '127.0.0.1:0', '--ready-file', readyFile,
    ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous']),
  ], { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` });
  const ready = await waitFor('the controller to be ready', () => {
    if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output()}`);
    return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { grpc: string; mqtt: string } : undefined;
  }, 30_000);
  return { controller, grpc: ready.grpc, mqtt: ready.mqtt, topicRoot };
}

describe('rigctl help, completion and exit codes on the built bundles', () => {
  let dir: TempDir;
  let controller: RunningProcess;
  let grpc: string;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
    dir = makeTempDir('rigwarden-e2e-');
    const started = await startController(join(dir.path, 'data'));
    controller = started.controller;
    grpc = started.grpc;
  });

  afterAll(async () => {
    await controller?.stop();
    dir?.remove();
  });

  it.each([
    [['restart', '--help'], 'rigctl restart [options] <rig-id>', '--no-wait'],
    [['keys', '--help'], 'rigctl keys [options] [command]', 'rotate'],
    [['keys', 'create', '--help'], 'rigctl keys create [options]', '--ttl-days <N>'],
    [['help', 'rigs'], 'rigctl rigs [options]', '--page-size <N>'],
    [['help', 'keys', 'create'], 'rigctl keys create [options]', '--scopes <SCOPES>'],
    [['events', '--help'], 'rigctl events [options] <rig-id>', '--since <TIME>'],
    [['spec', 'apply', '--help'], 'rigctl spec apply [options] <file>', '--expected-version <V>'],
    [['watch', '--help'], 'rigctl watch [options]', '--count <N>'],
  ])('rigctl %j prints its own usage and exits 0', async (args, usage, option) => {
    const r = await rigctlIn(dir.path, args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n')[0]).toBe(`Usage: ${usage}`);
    expect(r.stdout).toContain(option);
    expect(r.stdout).not.toContain('Commands to rigs:');
  });

  it('watch exits 5 when the controller is unreachable, like rigs and restart, and says why without grpc-js internals', async () => {
    const server = `127.0.0.1:${await closedPort()}`;
    for (const args of [['watch'], ['rigs'], ['restart', 'r-1', '--no-wait'], ['keys', 'list']]) {
      const r = await rigctlIn(dir.path, ['--server', server, '--timeout', '3000', ...args], { RIGWARDEN_API_KEY: 'rwk_x_y' });
      expect(r.code).toBe(5);
      expect(r.stderr.trim()).toBe(`rigctl: cannot reach the controller at ${server} (connection refused); is it running? Set --server or RIGWARDEN_SERVER`);
    }
  });

  it('with no API key anywhere: exit 4, naming every place rigctl looked; ./data/admin.token is the default', async () => {
    const elsewhere = join(dir.path, 'elsewhere');
    mkdirSync(elsewhere);
    for (const args of [['rigs'], ['watch'], ['keys', 'list']]) {
      const r = await rigctlIn(elsewhere, ['--server', grpc, ...args]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`rigctl: the controller wants an API key and rigctl found none: looked for --api-key, $RIGWARDEN_API_KEY, --api-key-file, $RIGWARDEN_API_KEY_FILE and ${join(elsewhere, 'data/admin.token')} (no such file)`);
    }
    // Next to the controller's data dir, ./data/admin.token (its first admin key) is found without options.
    expect(await rigctlIn(dir.path, ['--server', grpc, 'rigs', '--json'])).toMatchObject({ code: 0, stderr: '' });
  });

  it('a usage mistake exits 2 with the usage line, before reaching the controller', async () => {
    const r = await rigctlIn(dir.path, ['--server', grpc, 'restart', 'r-1', 'r-2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('rigctl: restart takes one rig id, got 2 (use rigctl bulk for many)\n\nusage: rigctl restart [options] <rig-id>\n(rigctl restart --help shows its options)\n');
  });

  it('watch exits 5 when the controller it watches stops', async () => {
    const own = await startController(join(dir.path, 'own'));
    try {
      const watch = spawn(process.execPath, [bin('rigctl'), '--server', own.grpc, 'watch'], {
        env: { ...process.env, RIGWARDEN_API_KEY: '', RIGWARDEN_API_KEY_FILE: join(dir.path, 'own', 'admin.token') }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      watch.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      watch.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<number | null>((resolve) => watch.once('close', resolve));
      // A rig to watch: its line shows the watch is open (as it is now, or as it changes).
      const agent = await mqtt.connectAsync(own.mqtt, { clientId: `agent-${own.topicRoot}` });
      await agent.publishAsync(new RigTopics(own.topicRoot).rig('w-1', 'state'), encodeJson(RigState, RigState.fromPartial({ rigId: 'w-1', agentId: 'agent-e2e', online: true, agentVersion: '0.1.0', at: new Date() })), { qos: 1, retain: true });
      await agent.endAsync();
      await waitFor('the watch to show w-1', () => (out.includes(' w-1 ') ? true : undefined), 20_000, 100);
      await own.controller.stop();
      expect(await exited).toBe(5);
      expect(err.trim()).toMatch(new RegExp(`^rigctl: (the controller at ${own.grpc} ended the watch \\(it is stopping or restarting\\)|cannot reach the controller at ${own.grpc} \\(.*\\); is it running\\?.*)$`));
    } finally {
      await own.controller.stop();
    }
  });

  it('completion bash from the built rigctl completes in a real bash', async () => {
    const script = await rigctlIn(dir.path, ['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = join(dir.path, 'rigctl.bash');
    writeFileSync(file, script.stdout);
    const probe = `source '${file}'; COMP_WORDS=(rigctl keys c); COMP_CWORD=2; _rigctl; echo "\${COMPREPLY[@]}"`;
    const offered = await new Promise<string>((resolve, reject) => {
      const bash = spawn('bash', ['--norc', '--noprofile', '-c', probe], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      bash.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      bash.once('error', reject);
      bash.once('close', () => resolve(out.trim()));
    });
    expect(offered).toBe('create');
  });
});
