import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Aedes } from 'aedes';

export interface TestBroker {
  url: string;
  /** A topic root no other test uses, so tests can share one external broker. */
  topicRoot: string;
  /** "aedes (in-process)" or the MQTT_URL it uses. */
  kind: string;
  stop(): Promise<void>;
}

/**
 * The broker for a test: Mosquitto (or any broker) when MQTT_URL is set, as in CI;
 * otherwise an in-process aedes on an ephemeral loopback port, stopped by stop().
 */
export async function startTestBroker(): Promise<TestBroker> {
  const topicRoot = `test-${randomBytes(6).toString('hex')}/v1`;
  const external = process.env['MQTT_URL'];
  if (external) return { url: external, topicRoot, kind: external, stop: async () => undefined };

  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    topicRoot,
    kind: 'aedes (in-process)',
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
