import mqtt, { type MqttClient } from 'mqtt';
import { MinerSnapshot, RigState, encodeJson, type RigTopics } from '@rigwarden/protocol';
import type { Clock, Logger } from '@rigwarden/shared';
import type { CollectOutcome } from '../runtime/collector-runtime';
import type { SeqStore } from './seq-store';

export interface PublisherOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  agentId: string;
  agentVersion: string;
  /** Rigs this agent speaks for: each gets a retained birth message and a last will. */
  rigIds: string[];
  clock: Clock;
  logger: Logger;
  seq: SeqStore;
  topics: RigTopics;
}

/**
 * Publishes snapshots at QoS 1 and keeps each rig's retained state message.
 * MQTT allows one will per connection, so with several rigs the will covers the
 * first and the others are marked offline on a clean shutdown.
 */
export class TelemetryPublisher {
  private client: MqttClient | undefined;
  published = 0;

  constructor(private readonly options: PublisherOptions) {}

  async connect(): Promise<void> {
    const { url, clientId, username, password, rigIds, logger } = this.options;
    const firstRig = rigIds[0]!;
    this.client = mqtt.connect(url, {
      clientId,
      username,
      password,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: { topic: this.options.topics.rig(firstRig, 'state'), payload: this.stateFor(firstRig, false), qos: 1, retain: true },
    });
    let lastError = '';
    this.client.on('connect', () => {
      lastError = '';
      logger.info('connected to broker', { url });
      for (const rigId of rigIds) this.publishState(rigId, true);
    });
    this.client.on('reconnect', () => logger.debug('reconnecting to broker', { url }));
    this.client.on('offline', () => logger.warn('broker unreachable; publishing will resume on reconnect', { url }));
    this.client.on('error', (err) => {
      // Once per distinct error, not once per reconnect attempt.
      if (err.message !== lastError) logger.warn('broker error', { url, error: err });
      lastError = err.message;
    });
    // Wait briefly for the first connection so that a refused login fails the start with a
    // clear message; an unreachable broker does not: snapshots queue until it is back.
    await new Promise<void>((resolve, reject) => {
      const client = this.client!;
      const done = (): void => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
      };
      const timer = setTimeout(() => {
        done();
        logger.warn('broker not reachable yet; collecting anyway and retrying every second', { url });
        resolve();
      }, 5000);
      const onConnect = (): void => { done(); resolve(); };
      const onError = (err: Error & { code?: unknown }): void => {
        if (typeof err.code === 'number' && [4, 5, 134, 135].includes(err.code)) {
          done();
          client.end(true);
          reject(new Error(`broker ${url} refused the login (${err.message}): check mqtt.username / RIGWARDEN_MQTT_PASSWORD`));
        }
      };
      client.on('connect', onConnect);
      client.on('error', onError);
    });
  }

  publishOutcome(outcome: CollectOutcome): void {
    const client = this.client;
    if (!client) throw new Error('publisher is not connected');
    const reading = outcome.reading;
    const snapshot: MinerSnapshot = MinerSnapshot.fromPartial({
      ...reading,
      rigId: outcome.rigId,
      minerId: outcome.minerId,
      host: outcome.host,
      port: outcome.port,
      driver: reading?.driver || outcome.driver,
      agentId: this.options.agentId,
      collectedAt: new Date(outcome.collectedAt),
      seq: this.options.seq.take(outcome.rigId),
    });
    if (!reading) snapshot.errors = outcome.errors;
    client.publish(this.options.topics.rig(outcome.rigId, 'telemetry'), encodeJson(MinerSnapshot, snapshot), { qos: 1 }, (err) => {
      if (err) this.options.logger.warn('publish failed', { rig: outcome.rigId, seq: snapshot.seq, error: err });
      else this.published++;
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await Promise.all(this.options.rigIds.map((rigId) => client.publishAsync(this.options.topics.rig(rigId, 'state'), this.stateFor(rigId, false), { qos: 1, retain: true }).catch(() => undefined)));
    }
    // A disconnected client would wait for a broker that may never come back: end it now.
    await client.endAsync(!client.connected);
    this.client = undefined;
  }

  private publishState(rigId: string, online: boolean): void {
    this.client?.publish(this.options.topics.rig(rigId, 'state'), this.stateFor(rigId, online), { qos: 1, retain: true });
  }

  private stateFor(rigId: string, online: boolean): Buffer {
    return encodeJson(RigState, {
      rigId,
      agentId: this.options.agentId,
      online,
      agentVersion: this.options.agentVersion,
      at: new Date(this.options.clock.now()),
    });
  }
}
