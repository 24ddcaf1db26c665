import mqtt, { type MqttClient } from 'mqtt';
import {
  AgentStatus, CommandResult, MinerSnapshot, RigState, decodeIngestReceipt, encodeJson, eventReceiptKey, receiptKeys, resultReceiptKey,
  snapshotReceiptKey, type RigTopics,
} from '@rigwarden/protocol';
import { Backoff, reconnectWithBackoff, type Clock, type Logger } from '@rigwarden/shared';
import type { CollectOutcome } from '../runtime/collector-runtime';
import type { DiskQueue } from './disk-queue';
import { OutboxLane } from './outbox-lane';
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
  /** Where messages wait while the broker is unreachable (telemetry; events and results too without a priority outbox). */
  outbox: DiskQueue;
  /**
   * Where command results and events wait: drained before the telemetry outbox, so a result is never stuck behind a
   * backlog of snapshots (after an outage, say). Without it they share the telemetry outbox.
   */
  priorityOutbox?: DiskQueue;
  /** How many queued messages are in flight at once while the outbox drains. */
  drainWindow?: number;
  /** How long to wait for the first connection before collecting anyway. */
  firstConnectWaitMs?: number;
  /**
   * When a queued telemetry message, event or result may leave the outbox. 'controller' (the default): once the
   * controller's ingest receipt says it is stored, so a broker that loses its state, or a controller killed before
   * its commit, loses nothing. 'broker': once the broker acknowledges it (a broker whose other subscribers are not a
   * Rigwarden controller: nothing would ever confirm).
   */
  confirm?: 'controller' | 'broker';
  /** Telemetry messages sent and not yet confirmed, at most (flow control while waiting for receipts). Default 2,000. */
  maxUnconfirmed?: number;
  /** The same for the priority outbox (results and events). Default 500. */
  maxUnconfirmedPriority?: number;
  /** With messages unconfirmed and no receipt for this long, they are sent again; the wait doubles up to 5 min. Default 20 s. */
  resendAfterMs?: number;
}

/** The longest wait between two sends of the same unconfirmed messages. */
const MAX_RESEND_AFTER_MS = 5 * 60_000;
/** Waits between reconnects to the broker (jittered). */
const RECONNECT_BACKOFF = { initialMs: 1000, maxMs: 10_000 };

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
  readonly counters = { published: 0, queued: 0, replayed: 0, publishErrors: 0, confirmed: 0, resent: 0, receipts: 0, badReceipts: 0 };
  private readonly subscriptions = new Map<string, (topic: string, payload: Buffer) => void>();
  /** Results and events first (when there is a priority outbox), then telemetry. */
  private readonly lanes: OutboxLane[];
  private readonly telemetryLane: OutboxLane;
  private readonly priorityLane: OutboxLane | undefined;
  private keylessSeq = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Subscribes (QoS 1) now and after every reconnect; `handler` gets each message on exactly this topic. */
  subscribe(topic: string, handler: (topic: string, payload: Buffer) => void): void {
    this.subscriptions.set(topic, handler);
    if (this.client?.connected) this.client.subscribe(topic, { qos: 1 });
  }

  constructor(private readonly options: PublisherOptions) {
    const resendAfterMs = options.resendAfterMs ?? 20_000;
    this.telemetryLane = new OutboxLane('telemetry', options.outbox, options.maxUnconfirmed ?? 2000, resendAfterMs);
    this.priorityLane = options.priorityOutbox
      ? new OutboxLane('priority', options.priorityOutbox, options.maxUnconfirmedPriority ?? 500, resendAfterMs)
      : undefined;
    this.lanes = this.priorityLane ? [this.priorityLane, this.telemetryLane] : [this.telemetryLane];
  }

  /** Messages waiting in the outboxes, sent or not. */
  get queued(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.outbox.depth, 0);
  }

  /** The outbox a message on `topic` waits in: results and events in the priority one, when there is one. */
  private laneForTopic(topic: string): OutboxLane {
    if (!this.priorityLane) return this.telemetryLane;
    const kind = topic.slice(topic.lastIndexOf('/') + 1);
    return kind === 'events' || kind === 'results' ? this.priorityLane : this.telemetryLane;
  }

  /** The lane of a receipt key: snapshots ("t\0...") in telemetry, events and results in the priority lane. */
  private laneForKey(key: string): OutboxLane {
    return this.priorityLane && !key.startsWith('t\u0000') ? this.priorityLane : this.telemetryLane;
  }

  private get confirmByController(): boolean {
    return (this.options.confirm ?? 'controller') === 'controller';
  }

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
    if (this.confirmByController) {
      this.subscriptions.set(topics.agentStored(agentId), (_topic, payload) => this.onReceipt(payload));
      this.timer = setInterval(() => this.tick(), 1000);
      this.timer.unref();
    }
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
    // Reconnect with jittered backoff: about 1 s, doubling per failed attempt up to 10 s, back to 1 s once connected;
    // the agents of a farm that lost its broker at once come back spread out, not in waves.
    reconnectWithBackoff(client, new Backoff(RECONNECT_BACKOFF));
    client.on('connect', () => {
      lastError = '';
      logger.info('connected to broker', { url, queued: this.queued });
      for (const rigId of rigIds) client.publish(topics.rig(rigId, 'state'), this.stateFor(rigId, true), { qos: 1, retain: true });
      if (this.subscriptions.size > 0) client.subscribe([...this.subscriptions.keys()], { qos: 1 });
      // What was sent before may be lost with the broker's state: send every unconfirmed message again.
      for (const lane of this.lanes) {
        lane.reset();
        lane.lastProgressAt = this.options.clock.now();
      }
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
    const seq = this.options.seq.take(outcome.rigId);
    const snapshot: MinerSnapshot = MinerSnapshot.fromPartial({
      ...reading,
      rigId: outcome.rigId,
      minerId: outcome.minerId,
      host: outcome.host,
      port: outcome.port,
      driver: reading?.driver || outcome.driver,
      agentId: this.options.agentId,
      collectedAt: new Date(outcome.collectedAt),
      seq,
      errors: reading ? reading.errors : outcome.errors,
    });
    this.send(this.options.topics.rig(outcome.rigId, 'telemetry'), encodeJson(MinerSnapshot, snapshot).toString('utf8'), snapshotReceiptKey(outcome.rigId, seq));
  }

  publishStatus(status: AgentStatus): void {
    const client = this.client;
    if (!client?.connected) return; // status is a level: the next one replaces it, no need to queue
    client.publish(this.options.topics.agentStatus(this.options.agentId), encodeJson(AgentStatus, status), { qos: 1, retain: true });
  }

  /**
   * Sends a telemetry message, event or result. With receipts (the default), it is written to the outbox first and
   * stays there until the controller confirms it; `key` names it in receipts (derived from an event's or a result's
   * payload when not given). Otherwise it is sent now when the broker is up and nothing older is waiting, else queued.
   */
  send(topic: string, payload: string, key?: string): void {
    if (this.confirmByController) {
      const k = key ?? receiptKeyOf(topic, payload);
      if (!this.client?.connected) this.counters.queued++;
      this.laneForTopic(topic).outbox.push(k === undefined ? { topic, payload, at: this.options.clock.now() } : { topic, payload, at: this.options.clock.now(), key: k });
      if (this.client?.connected && !this.draining) void this.drain();
      return;
    }
    const client = this.client;
    if (client?.connected && !this.draining && this.queued === 0) {
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
    this.laneForTopic(topic).outbox.push({ topic, payload, at: this.options.clock.now() });
    this.counters.queued++;
    if (this.client?.connected && !this.draining) void this.drain();
  }

  /** Sends the outboxes in order (results and events first), a window at a time (broker-ack mode: removing messages once the broker acknowledged them). */
  private async drain(): Promise<void> {
    if (this.draining || this.closing) return;
    if (this.confirmByController) return this.drainUnconfirmed();
    this.draining = true;
    const window = this.options.drainWindow ?? 100;
    const start = this.queued;
    try {
      for (let idle = 0; idle < this.lanes.length;) {
        const client = this.client;
        if (!client?.connected || this.closing) return;
        const lane = this.lanes.find((l) => l.outbox.depth > 0);
        if (!lane) break;
        const batch = lane.outbox.peek(window);
        if (batch.length === 0) { idle++; continue; } // only stale messages at the head: peek dropped them
        idle = 0;
        await Promise.all(batch.map((m) => (m.topic === '' ? Promise.resolve() : client.publishAsync(m.topic, m.payload, { qos: 1 }))));
        lane.outbox.ack(batch.length);
        this.counters.replayed += batch.length;
      }
      if (start > 0) this.options.logger.info('outbox delivered', { messages: start });
    } catch (err) {
      this.options.logger.warn('outbox replay interrupted; will resume on reconnect', { error: err as Error, left: this.queued });
    } finally {
      this.draining = false;
    }
    // Messages that arrived while draining went to the outbox too: go again if any.
    if (this.queued > 0 && this.client?.connected && !this.closing) void this.drain();
  }

  /**
   * Receipt mode: sends what is queued after the messages already in flight, up to each lane's maxUnconfirmed, the
   * priority lane (results, events) before telemetry each round. Messages leave an outbox only in onReceipt (or at
   * once when they carry no key: the broker's acknowledgement is enough).
   */
  private async drainUnconfirmed(): Promise<void> {
    this.draining = true;
    const window = this.options.drainWindow ?? 100;
    try {
      for (;;) {
        const client = this.client;
        if (!client?.connected || this.closing) return;
        let batch: ReturnType<DiskQueue['peek']> = [];
        let lane: OutboxLane | undefined;
        for (const candidate of this.lanes) {
          // Between rounds no send holds a position: a resend the timer asked for starts here, from the head.
          if (candidate.resendPending) {
            candidate.resendPending = false;
            candidate.reset();
          }
          candidate.outbox.dropStaleHead();
          candidate.alignWithHead();
          // A message never confirmed at the head (refused for good by a controller without its key, say) must not stop
          // the flow: only unconfirmed messages count; it is sent again with backoff, and goes when the outbox is full.
          const room = candidate.room;
          if (room <= 0) continue; // a receipt starts the next round
          batch = candidate.outbox.peek(Math.min(window, room), candidate.inFlight);
          if (batch.length > 0) {
            lane = candidate;
            break;
          }
        }
        if (!lane) return;
        if (lane.inFlight === 0) lane.lastProgressAt = this.options.clock.now();
        // Keyless messages (corrupt lines, an outbox from before receipts) are done once the broker has them.
        const keyless: string[] = [];
        const sends: Array<Promise<unknown>> = [];
        for (const m of batch) {
          const key = m.key ?? `\u0001${++this.keylessSeq}`;
          if (m.key === undefined) keyless.push(key);
          // Confirmed already (a receipt for an earlier send arrived after a reconnect): no need to send it again.
          if (!lane.sent(key) && m.topic !== '') sends.push(client.publishAsync(m.topic, m.payload, { qos: 1 }));
        }
        await Promise.all(sends);
        this.counters.published += sends.length;
        for (const key of keyless) lane.confirm(key);
        this.advance();
      }
    } catch (err) {
      for (const lane of this.lanes) lane.reset(); // sent again from the head on the next connection
      this.options.logger.warn('sending interrupted; unconfirmed messages are sent again on reconnect', { error: err as Error, left: this.queued });
    } finally {
      this.draining = false;
    }
  }

  private onReceipt(payload: Buffer): void {
    let keys: string[];
    try {
      keys = receiptKeys(decodeIngestReceipt(payload));
    } catch (err) {
      this.counters.badReceipts++;
      this.options.logger.warn('ignored an invalid ingest receipt', { error: (err as Error).message });
      return;
    }
    this.counters.receipts++;
    for (const key of keys) this.laneForKey(key).confirm(key);
    this.advance();
    if (this.client?.connected && !this.draining) void this.drain();
  }

  /** Removes the confirmed messages at the head of each outbox. */
  private advance(): void {
    const now = this.options.clock.now();
    for (const lane of this.lanes) this.counters.confirmed += lane.advance(now);
  }

  /** Once a second: writes the outbox cursors, and sends unconfirmed messages again when no receipt came for a while. */
  private tick(): void {
    for (const lane of this.lanes) lane.outbox.syncCursor();
    if (!this.client?.connected || this.closing) return;
    const now = this.options.clock.now();
    let resend = false;
    for (const lane of this.lanes) {
      const unconfirmed = lane.unconfirmed;
      if (unconfirmed === 0 || now - lane.lastProgressAt < lane.resendAfterMs) continue;
      this.counters.resent += unconfirmed;
      this.options.logger.warn('no ingest receipt for the messages sent: sending them again (is the controller running and subscribed?)', {
        lane: lane.name, unconfirmed, queued: lane.outbox.depth, waitedMs: lane.resendAfterMs,
      });
      lane.resendAfterMs = Math.min(MAX_RESEND_AFTER_MS, lane.resendAfterMs * 2);
      lane.lastProgressAt = now;
      // The sending loop resets the lane at its next round (a send under way holds its positions): under a steady
      // trickle of new messages it never stops, and the unconfirmed head must still go again.
      lane.resendPending = true;
      resend = true;
    }
    if (resend && !this.draining) void this.drain();
  }

  async close(finalStatus?: AgentStatus): Promise<void> {
    const client = this.client;
    clearInterval(this.timer);
    for (const lane of this.lanes) lane.outbox.syncCursor();
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

/** The receipt key of an event or a result from its payload (undefined for anything else). */
function receiptKeyOf(topic: string, payload: string): string | undefined {
  const kind = topic.slice(topic.lastIndexOf('/') + 1);
  if (kind !== 'events' && kind !== 'results') return undefined;
  try {
    const object = JSON.parse(payload) as { eventId?: unknown; commandId?: unknown; outcome?: unknown };
    if (kind === 'events') return typeof object.eventId === 'string' ? eventReceiptKey({ eventId: object.eventId }) : undefined;
    if (typeof object.commandId !== 'string') return undefined;
    return resultReceiptKey(CommandResult.fromJSON(object));
  } catch {
    return undefined;
  }
}
