/**
 * `rigctl broker-config --format mosquitto` against a real Mosquitto started by this test on a free loopback
 * port: an agent can publish its own rigs' telemetry and read its own rigs' commands, and nothing of another's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import { makeTempDir, runNode, waitFor, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
jest.setTimeout(60_000);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('broker ACL from rigctl broker-config', () => {
  let dir: TempDir;
  let broker: ChildProcess | undefined;
  let url: string;
  const passwords = new Map<string, string>();
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed: apt-get install mosquitto (the CI script does)');
    dir = makeTempDir('rigwarden-acl-');
    const agents = join(dir.path, 'agents.yaml');
    writeFileSync(agents, 'agents:\n  lan-1: [rig-a, rig-b]\n  rig-c: [rig-c]\n');
    const out = join(dir.path, 'broker');
    const { code, stdout, stderr } = await runNode(join(root, 'bin/rigctl.js'), ['broker-config', '--format', 'mosquitto', '--agents', agents, '--out-dir', out]);
    if (code !== 0) throw new Error(`broker-config failed: ${stderr}`);
    for (const line of stdout.trim().split('\n')) {
      const [user, password] = line.split('\t');
      passwords.set(user!, password!);
    }
    const port = await freePort();
    const conf = join(dir.path, 'mosquitto.conf');
    // Run as this test's user: as root, mosquitto would switch to its own user, who cannot read our temp files.
    writeFileSync(conf, `user ${userInfo().username}\nlistener ${port} 127.0.0.1\npersistence false\ninclude_dir ${out}\n`);
    broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    url = `mqtt://127.0.0.1:${port}`;
    await waitFor('mosquitto to listen', () => new Promise<true | undefined>((resolve) => {
      const probe = createServer().listen(port, '127.0.0.1');
      probe.once('error', () => resolve(true));
      probe.once('listening', () => probe.close(() => resolve(undefined)));
    }), 10_000, 100);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    if (broker && broker.exitCode === null) {
      broker.kill('SIGTERM');
      await new Promise((resolve) => broker!.once('exit', resolve));
    }
    dir?.remove();
  });

  async function login(user: string, password = passwords.get(user)!): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { username: user, password, clientId: `${user}-${clients.length}`, reconnectPeriod: 0 });
    clients.push(client);
    return client;
  }

  it('lets each agent publish only its own rigs, and read only its own commands', async () => {
    const controller = await login('rigwarden-controller');
    const seen: string[] = [];
    await controller.subscribeAsync(['rigwarden/v1/rigs/+/telemetry', 'rigwarden/v1/agents/+/status'], { qos: 1 });
    controller.on('message', (topic) => seen.push(topic));

    const lan1 = await login('lan-1');
    const lan1Commands: string[] = [];
    lan1.on('message', (topic) => lan1Commands.push(topic));
    // Mosquitto 2.0 grants the subscription and filters on delivery: what counts is what arrives.
    await lan1.subscribeAsync(['rigwarden/v1/rigs/rig-a/commands', 'rigwarden/v1/rigs/rig-c/commands', 'rigwarden/v1/rigs/+/telemetry'], { qos: 1 });

    await lan1.publishAsync('rigwarden/v1/rigs/rig-a/telemetry', '{}', { qos: 1 });
    await lan1.publishAsync('rigwarden/v1/rigs/rig-c/telemetry', '{"forged":true}', { qos: 1 }); // as another agent's rig
    await lan1.publishAsync('rigwarden/v1/agents/rig-c/status', '{}', { qos: 1 });
    await lan1.publishAsync('rigwarden/v1/rigs/rig-b/commands', '{}', { qos: 1 }); // agents cannot command
    await controller.publishAsync('rigwarden/v1/rigs/rig-a/commands', '{}', { qos: 1 });
    await controller.publishAsync('rigwarden/v1/rigs/rig-c/commands', '{}', { qos: 1 });
    await waitFor('rig-a telemetry and rig-a command', () => (seen.length >= 1 && lan1Commands.length >= 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500)); // anything that should not arrive has had time to
    expect(seen).toEqual(['rigwarden/v1/rigs/rig-a/telemetry']);
    expect(lan1Commands).toEqual(['rigwarden/v1/rigs/rig-a/commands']); // not rig-c's commands, not anyone's telemetry
  });

  it('refuses a wrong password and anonymous clients', async () => {
    await expect(login('lan-1', 'not-the-password')).rejects.toThrow(/Not authorized|Bad username or password/i);
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad username or password/i);
  });

  it('writes the password file readable by its owner only, without clear-text passwords', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const file = join(dir.path, 'broker/passwd');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    for (const password of passwords.values()) expect(text).not.toContain(password);
    expect(text).toMatch(/^lan-1:\$7\$101\$/m);
  });
});
