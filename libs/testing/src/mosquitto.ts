import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from './wait-for';

/** Debian's Mosquitto, when installed. */
export const MOSQUITTO_BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

export interface TestMosquitto {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * An MQTT 5 broker for tests of what aedes cannot do (shared subscriptions): MQTT_URL (CI's Mosquitto pass), else a
 * Mosquitto of the test's own on a free loopback port, its config in `dir`, stopped by `stop`.
 */
export async function startMosquitto(dir: string): Promise<TestMosquitto> {
  const external = process.env['MQTT_URL'];
  if (external) return { url: external, stop: async () => undefined };
  if (!MOSQUITTO_BINARY) throw new Error('these tests need Mosquitto 2 (MQTT 5): apt-get install mosquitto, or set MQTT_URL to an MQTT 5 broker');
  const port = await freePort();
  const conf = join(dir, `mosquitto-${port}.conf`);
  // As this user: as root, mosquitto would switch to its own user.
  writeFileSync(conf, `user ${userInfo().username}\nlistener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const broker: ChildProcess = spawn(MOSQUITTO_BINARY, ['-c', conf], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  await waitFor('mosquitto to accept connections', () => mqtt.connectAsync(url, { reconnectPeriod: 0 }).then((c) => c.endAsync()).then(() => true, () => undefined), 10_000, 100);
  return {
    url,
    stop: async () => {
      if (broker.exitCode !== null) return;
      broker.kill('SIGTERM');
      await new Promise((resolve) => broker.once('exit', resolve));
    },
  };
}
