/**
 * The whole system behind a Mosquitto configured by `rigctl broker-config --format mosquitto` (its own loopback
 * port, passwords and per-agent ACLs): the built controller and agent log in with their generated credentials,
 * telemetry arrives, and a key rotation (signed commands down, results up) completes. Meanwhile another agent, logged
 * in with its own valid credentials, can neither publish as the rig (forged telemetry and results never reach the
 * controller) nor read the rig's commands. No broker password appears in the controller's or the agent's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { SecretBytes, findSecretLeaks } from '@rigwarden/security';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
jest.setTimeout(90_000);

const RIG = 'acl-rig';
/** acl-agent drives acl-rig; other-agent drives other-rig. */
const AGENTS = join(root, 'e2e/fixtures/broker-agents.yaml');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('controller and agent behind a Mosquitto with the ACLs rigctl broker-config wrote', () => {
  let dir: TempDir;
  let broker: ChildProcess | undefined;
  let sim: CgminerSimulator;
  let controller: RunningProcess | undefined;
  let agent: RunningProcess | undefined;
  let rogue: MqttClient | undefined;

  afterAll(async () => {
    await rogue?.endAsync(true);
    await agent?.stop();
    await controller?.stop('SIGINT');
    if (broker && broker.exitCode === null) {
      broker.kill('SIGTERM');
      await new Promise((resolve) => broker!.once('exit', resolve));
    }
    await sim?.stop();
    dir?.remove();
  });

  it('carries telemetry and a key rotation, and keeps another agent out of the rig\'s topics', async () => {
    if (!MOSQUITTO && !process.env['RIGWARDEN_ACL_MQTT_URL']) throw new Error('mosquitto is not installed: apt-get install mosquitto (the CI script does)');
    if (!existsSync(join(root, 'dist/controller/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
    dir = makeTempDir('rigwarden-e2e-');
    // CI (.ci/run) runs this against its own Mosquitto, configured from the same agents file; elsewhere the test
    // generates the configuration and starts Mosquitto itself, on a free loopback port.
    const ci = process.env['RIGWARDEN_ACL_MQTT_URL'];
    let mqttUrl: string;
    let topicRoot: string;
    let credentials: string;
    if (ci) {
      mqttUrl = ci;
      topicRoot = process.env['RIGWARDEN_ACL_TOPIC_ROOT'] ?? '';
      credentials = readFileSync(process.env['RIGWARDEN_ACL_CREDENTIALS'] ?? '', 'utf8');
    } else {
      topicRoot = `e2e-acl-${randomBytes(4).toString('hex')}/v1`;
      const out = join(dir.path, 'broker');
      const generated = await runNode(bin('rigctl'), ['broker-config', '--format', 'mosquitto', '--agents', AGENTS, '--out-dir', out, '--topic-root', topicRoot]);
      expect(generated.code).toBe(0);
      credentials = generated.stdout;
      const port = await freePort();
      const conf = join(dir.path, 'mosquitto.conf');
      // As this test's user: as root, mosquitto would switch to its own user, who cannot read our temp files.
      writeFileSync(conf, `user ${userInfo().username}\nlistener ${port} 127.0.0.1\npersistence false\ninclude_dir ${out}\n`);
      broker = spawn(MOSQUITTO!, ['-c', conf], { stdio: 'ignore' });
      mqttUrl = `mqtt://127.0.0.1:${port}`;
      await waitFor('mosquitto to listen', () => new Promise<true | undefined>((resolve) => {
        const probe = createServer().listen(port, '127.0.0.1');
        probe.once('error', () => resolve(true));
        probe.once('listening', () => probe.close(() => resolve(undefined)));
      }), 10_000, 100);
    }
    const passwords = new Map(credentials.trim().split('\n').map((line) => line.split('\t') as [string, string]));
    expect([...passwords.keys()].sort()).toEqual(['acl-agent', 'other-agent', 'rigwarden-controller']);

    sim = new CgminerSimulator();
    const { port: minerPort } = await sim.start();
    const keys = join(dir.path, 'keys.json');
    const agentKeys = join(dir.path, 'agent-keys.json');
    const keyFile = JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: SecretBytes.generate().exposeBase64url() }] } });
    writeFileSync(keys, keyFile, { mode: 0o600 });
    writeFileSync(agentKeys, keyFile, { mode: 0o600 });
    const passwordFile = join(dir.path, 'controller.mqtt-password');
    writeFileSync(passwordFile, passwords.get('rigwarden-controller')!, { mode: 0o600 });
    const dataDir = join(dir.path, 'controller');
    const ready = join(dir.path, 'ready.json');
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: 'debug', MQTT_URL: '' };
    controller = startNode(bin('rigwarden-controller'), ['--data-dir', dataDir, '--grpc', '127.0.0.1:0', '--ready-file', ready, '--keys-file', keys,
      '--mqtt-url', mqttUrl, '--mqtt-username', 'rigwarden-controller', '--mqtt-password-file', passwordFile], env);
    const endpoints = await waitFor('the controller', () => {
      if (controller!.child.exitCode !== null) throw new Error(controller!.output());
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as { grpc: string } : undefined;
    }, 30_000);
    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(agentConfig, [
      'agent:', '  id: acl-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'mqtt:', `  url: ${mqttUrl}`, `  clientId: acl-agent-${topicRoot}`, '  username: acl-agent', 'poll:', '  intervalMs: 500',
      'security:', `  keysFile: ${JSON.stringify(agentKeys)}`,
      'miners:', `  - rig: ${RIG}`, '    id: m1', '    host: 127.0.0.1', `    port: ${minerPort}`, '',
    ].join('\n'));
    agent = startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, RIGWARDEN_MQTT_PASSWORD: passwords.get('acl-agent')! });

    // Another agent, with valid credentials of its own, tries the rig's topics.
    rogue = await mqtt.connectAsync(mqttUrl, { username: 'other-agent', password: passwords.get('other-agent')!, clientId: `rogue-${topicRoot}`, reconnectPeriod: 0 });
    const stolen: string[] = [];
    rogue.on('message', (topic) => stolen.push(topic));
    await rogue.subscribeAsync([`${topicRoot}/rigs/${RIG}/commands`, `${topicRoot}/rigs/+/commands`, `${topicRoot}/rigs/+/results`], { qos: 1 });

    const rigctl = (args: string[]) => runNode(bin('rigctl'), ['--server', endpoints.grpc, ...args], { RIGWARDEN_API_KEY_FILE: join(dataDir, 'admin.token') });
    type RigJson = { online?: boolean; miners?: Array<{ minerId: string; hashrate5sHs?: number }> };
    const rigJson = async (): Promise<RigJson | undefined> => {
      const { code, stdout } = await rigctl(['rig', RIG, '--json']);
      return code === 0 ? JSON.parse(stdout) as RigJson : undefined;
    };
    await waitFor('the rig online with telemetry', async () => {
      const rig = await rigJson();
      return rig?.online && rig.miners?.[0]?.hashrate5sHs !== undefined ? true : undefined;
    }, 30_000, 250);

    // Forgeries in the rig's name: a snapshot of a miner the rig does not have, and a result.
    const forged = { rigId: RIG, minerId: 'forged-miner', host: '10.6.6.6', port: 4028, seq: '999999', collectedAt: new Date().toISOString(), hashrate5sHs: 1 };
    await rogue.publishAsync(`${topicRoot}/rigs/${RIG}/telemetry`, JSON.stringify(forged), { qos: 1 });
    await rogue.publishAsync(`${topicRoot}/rigs/${RIG}/results`, JSON.stringify({ commandId: 'x', rigId: RIG, outcome: 'COMMAND_OUTCOME_SUCCEEDED' }), { qos: 1 });

    // Commands down and results up through the ACLs: a full key rotation.
    const rotation = await rigctl(['keys', 'rotate', '--rig', RIG, '--agent-timeout', '20']);
    expect({ code: rotation.code, stderr: rotation.stderr }).toEqual({ code: 0, stderr: '' });
    expect(rotation.stdout).toMatch(/^retired\s/m);

    await new Promise((resolve) => setTimeout(resolve, 1000)); // a leak has had time to arrive
    expect(stolen).toEqual([]);
    const rig = await rigJson();
    expect(rig?.miners?.map((m) => m.minerId)).toEqual(['m1']);

    const secrets = Object.fromEntries([...passwords].map(([user, password]) => [`broker password of ${user}`, password]));
    expect(findSecretLeaks(controller.output(), secrets)).toEqual([]);
    expect(findSecretLeaks(agent.output(), secrets)).toEqual([]);
    expect(findSecretLeaks(readFileSync(ready), secrets)).toEqual([]);
  });
});
