import mqtt, { type MqttClient } from 'mqtt';
import { AgentStatus, MinerSnapshot, RigState, encodeJson, type RigTopics } from '@rigwarden/protocol';
import type { Clock, Logger } from '@rigwarden/shared';
import type { CollectOutcome } from '../runtime/collector-runtime';
import type { DiskQueue } from './disk-queue';
import type { SeqStore } from './seq-store';

export interface PublisherOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  agentId: string;
  agentVersion: string;
  /** Operator labels published with each rig's retained state (fleet groups select rigs by them). */
  labelsFor?: (rigId: string) => Record<string, string>;
  /** Rigs this agent speaks for: each gets a retained birth message. */
  rigIds: string[];
  clock: Clock;
  logger: Logger;
  seq: SeqStore;
  topics: RigTopics;
  /** Where messages wait while the broker is unreachable. */
  outbox: DiskQueue;
  /** How many queued messages are in flight at once while the outbox drains. */
  drainWindow?: number;
  /** How long to wait for the first connection before collecting anyway. */
  firstConnectWaitMs?: number;
}

/**
 * The agent's MQTT side. Telemetry goes out at QoS 1; while the broker is
 * unreachable (or while older messages are still queued) it goes to the on-disk
 * outbox instead, which is replayed in order on reconnect. Each rig has a retained
 * state message; the connection's last will marks the agent's rigs offline via
 * the agent status, and the first rig's state directly.
 */
export class TelemetryPublisher {
  private client: MqttClient | undefined;
  private draining = false;
  private closing = false;
  readonly counters = { published: 0, queued: 0, replayed: 0, publishErrors: 0 };
  private readonly subscriptions = new Map<string, (topic: string, payload: Buffer) => void>();

  /** Subscribes (QoS 1) now and after every reconnect; `handler` gets each message on exactly this topic. */
  subscribe(topic: string, handler: (topic: string, payload: Buffer) => void): void {
    this.subscriptions.set(topic, handler);
    if (this.client?.connected) this.client.subscribe(topic, { qos: 1 });
  }

  constructor(private readonly options: PublisherOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async connect(): Promise<void> {
    const { url, clientId, username, password, rigIds, logger, topics, agentId, tls } = this.options;
    const firstRig = rigIds[0];
    // MQTT has one will per connection: the first rig's state, or (no rig configured yet) the agent's status.
    const will = firstRig !== undefined
      ? { topic: topics.rig(firstRig, 'state'), payload: this.stateFor(firstRig, false), qos: 1 as const, retain: true }
      : { topic: topics.agentStatus(agentId), payload: encodeJson(AgentStatus, AgentStatus.fromPartial({ agentId, agentVersion: this.options.agentVersion, online: false, at: new Date(this.options.clock.now()) })), qos: 1 as const, retain: true };
    const client = mqtt.connect(url, {
      clientId,
      username,
      password,
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized } : {}),
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      const handler = this.subscriptions.get(topic);
      if (!handler) return;
      try {
        handler(topic, payload);
      } catch (err) {
        logger.error('message handler failed', { topic, error: err as Error });
      }
    });
    let lastError = '';
    // Reconnect with backoff: 1 s, doubling per failed attempt up to 10 s, back to 1 s once connected.
    client.on('close', () => { client.options.reconnectPeriod = Math.min(10_000, (client.options.reconnectPeriod ?? 1000) * 2); });
    client.on('connect', () => {
      client.options.reconnectPeriod = 1000;
      lastError = '';
      logger.info('connected to broker', { url, queued: this.options.outbox.depth });
      for (const rigId of rigIds) client.publish(topics.rig(rigId, 'state'), this.stateFor(rigId, true), { qos: 1, retain: true });
      if (this.subscriptions.size > 0) client.subscribe([...this.subscriptions.keys()], { qos: 1 });
      void this.drain();
    });
    client.on('offline', () => logger.warn('broker unreachable; telemetry goes to the on-disk outbox until it is back', { url }));
    client.on('error', (err) => {
      if (err.message !== lastError) logger.warn('broker error', { url, error: err });
      lastError = err.message;
    });
    logger.debug('connecting', { url, clientId, agent: agentId });

    // Wait briefly for the first connection so that a refused login fails the start with a
    // clear message; an unreachable broker does not: snapshots queue until it is back.
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
      };
      const timer = setTimeout(() => {
        done();
        logger.warn('broker not reachable yet; collecting anyway and retrying every second', { url });
        resolve();
      }, this.options.firstConnectWaitMs ?? 5000);
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

  /** A rig this agent now speaks for (found by a scan): announce it. */
  addRig(rigId: string): void {
    if (this.options.rigIds.includes(rigId)) return;
    this.options.rigIds.push(rigId);
    this.client?.publish(this.options.topics.rig(rigId, 'state'), this.stateFor(rigId, true), { qos: 1, retain: true });
  }

  publishOutcome(outcome: CollectOutcome): void {
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
      errors: reading ? reading.errors : outcome.errors,
    });
    this.send(this.options.topics.rig(outcome.rigId, 'telemetry'), encodeJson(MinerSnapshot, snapshot).toString('utf8'));
  }

  publishStatus(status: AgentStatus): void {
    const client = this.client;
    if (!client?.connected) return; // status is a level: the next one replaces it, no need to queue
    client.publish(this.options.topics.agentStatus(this.options.agentId), encodeJson(AgentStatus, status), { qos: 1, retain: true });
  }

  /** Sends now when the broker is up and nothing older is waiting; otherwise queues on disk. */
  send(topic: string, payload: string): void {
    const client = this.client;
    if (client?.connected && !this.draining && this.options.outbox.depth === 0) {
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (!err) {
          this.counters.published++;
          return;
        }
        // Not acknowledged and MQTT.js gave up on it: keep it on disk for the next connection.
        this.counters.publishErrors++;
        this.enqueue(topic, payload);
      });
      return;
    }
    this.enqueue(topic, payload);
  }

  private enqueue(topic: string, payload: string): void {
    this.options.outbox.push({ topic, payload, at: this.options.clock.now() });
    this.counters.queued++;
    if (this.client?.connected && !this.draining) void this.drain();
  }

  /** Replays the outbox in order, a window at a time, removing messages only once the broker has acknowledged them. */
  private async drain(): Promise<void> {
    if (this.draining || this.closing) return;
    this.draining = true;
    const window = this.options.drainWindow ?? 100;
    const start = this.options.outbox.depth;
    try {
      for (;;) {
        const client = this.client;
        if (!client?.connected || this.closing) return;
        const batch = this.options.outbox.peek(window);
        if (batch.length === 0) break;
        await Promise.all(batch.map((m) => (m.topic === '' ? Promise.resolve() : client.publishAsync(m.topic, m.payload, { qos: 1 }))));
        this.options.outbox.ack(batch.length);
        this.counters.replayed += batch.length;
      }
      if (start > 0) this.options.logger.info('outbox delivered', { messages: start });
    } catch (err) {
      this.options.logger.warn('outbox replay interrupted; will resume on reconnect', { error: err as Error, left: this.options.outbox.depth });
    } finally {
      this.draining = false;
    }
    // Messages that arrived while draining went to the outbox too: go again if any.
    if (this.options.outbox.depth > 0 && this.client?.connected && !this.closing) void this.drain();
  }

  async close(finalStatus?: AgentStatus): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.closing = true;
    if (client.connected) {
      const { topics, rigIds, agentId } = this.options;
      const pending = rigIds.map((rigId) => client.publishAsync(topics.rig(rigId, 'state'), this.stateFor(rigId, false), { qos: 1, retain: true }));
      if (finalStatus) pending.push(client.publishAsync(topics.agentStatus(agentId), encodeJson(AgentStatus, finalStatus), { qos: 1, retain: true }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending), new Promise((r) => { timer = setTimeout(r, 3000); })]);
      clearTimeout(timer);
    }
    // A disconnected client would wait for a broker that may never come back: end it now.
    await client.endAsync(!client.connected);
    this.client = undefined;
  }

  private stateFor(rigId: string, online: boolean): Buffer {
    return encodeJson(RigState, {
      rigId,
      agentId: this.options.agentId,
      online,
      agentVersion: this.options.agentVersion,
      at: new Date(this.options.clock.now()),
      labels: this.options.labelsFor?.(rigId) ?? {},
    });
  }
}
