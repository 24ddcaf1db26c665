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

  return { ...(await startInProcessBroker()), topicRoot };
}

/**
 * Always an in-process aedes (memory persistence) on 127.0.0.1: for tests that must stop and restart the broker
 * itself. `port` 0 takes a free one; pass the previous port to bring a broker back where clients reconnect, with
 * none of its state (sessions, queued messages): a broker restarted without its saved state.
 */
export async function startInProcessBroker(port = 0): Promise<Omit<TestBroker, 'topicRoot'> & { port: number }> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    kind: 'aedes (in-process)',
    stop: async () => {
      // Clients first (closing the server alone waits for them), then the broker's state goes with it.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
