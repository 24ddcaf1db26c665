/**
 * deploy/mosquitto.conf keeps every QoS 1 message for a subscriber that falls behind; Mosquitto's defaults do not.
 * A real Mosquitto started by this test on a free loopback port, once with the shipped queue settings and once
 * without; a subscriber that stops reading (like a controller stalled on a slow disk) while 5,000 messages arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import mqtt from 'mqtt';
import { makeTempDir, waitFor, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
const MESSAGES = 5000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The queue lines of the shipped config (max_queued_*, max_inflight_*, set_tcp_nodelay). */
function shippedQueueSettings(): string[] {
  return readFileSync(join(root, 'deploy/mosquitto.conf'), 'utf8').split('\n').filter((l) => /^(max_queued_|max_inflight_|set_tcp_nodelay)/.test(l));
}

/** Starts Mosquitto with `settings`, stalls a subscriber while MESSAGES arrive at QoS 1, then counts what it gets. */
async function deliveredToAStalledSubscriber(dir: string, settings: string[]): Promise<number> {
  const port = await freePort();
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(conf, [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...settings, ''].join('\n'));
  const broker: ChildProcess = spawn(MOSQUITTO!, ['-c', conf], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  try {
    const sub = await waitFor('mosquitto to accept connections', () => mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'stalled-controller' }).catch(() => undefined), 10_000, 100);
    let received = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => { release = resolve; });
    sub.on('message', () => { received++; });
    // MQTT.js reads (and acknowledges) the next message only when this calls back: hold the first one.
    sub.handleMessage = (_packet, done) => { if (received === 1) void released.then(() => done()); else done(); };
    await sub.subscribeAsync('queue-test/+/telemetry', { qos: 1 });
    const pub = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'agents' });
    const payload = Buffer.alloc(300, 'x');
    await Promise.all(Array.from({ length: MESSAGES }, (_, i) => pub.publishAsync(`queue-test/rig-${i % 50}/telemetry`, payload, { qos: 1 })));
    await pub.endAsync();
    release();
    // Everything the broker kept arrives within a moment; wait until the count stops moving.
    let last = -1;
    while (received !== last) {
      last = received;
      await new Promise((r) => setTimeout(r, 300));
    }
    await sub.endAsync();
    return received;
  } finally {
    broker.kill('SIGTERM');
    await new Promise((resolve) => broker.once('exit', resolve));
  }
}

describe('deploy/mosquitto.conf queue settings', () => {
  let dir: TempDir;
  beforeAll(() => {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed: apt-get install mosquitto (the CI script does)');
    dir = makeTempDir('rigwarden-mq-queue-');
  });
  afterAll(() => dir?.remove());

  it('sets the queue settings it documents', () => {
    expect(shippedQueueSettings()).toEqual(expect.arrayContaining(['max_queued_messages 1000000', 'max_inflight_messages 10000']));
  });

  it('keeps every QoS 1 message for a subscriber that stalls', async () => {
    expect(await deliveredToAStalledSubscriber(dir.path, shippedQueueSettings())).toBe(MESSAGES);
  });

  it('while Mosquitto\'s defaults drop most of them (why the file exists)', async () => {
    const delivered = await deliveredToAStalledSubscriber(dir.path, []);
    expect(delivered).toBeLessThan(MESSAGES / 2); // 20 in flight + 1,000 queued by default
  });
});
