import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import {
  IngestReceipt, MAX_MESSAGE_BYTES, MAX_SNAPSHOT_BYTES, ProtocolError, ReceiptBook, RigTopics, decodeAgentStatus, type AgentStatus,
  type CommandResult, decodeCommandResult, decodeRigEvent, decodeRigState, decodeSnapshot, encodeJson, type MinerSnapshot, type RigState,
} from '@rigwarden/protocol';
import { Backoff, createLogger, reconnectWithBackoff } from '@rigwarden/shared';
import { EmbeddedBrokerService } from '../broker/embedded-broker.service';
import { mqttTlsOptions } from '../security/tls-credentials';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import { INGEST_FEED, type IngestFeed, type TelemetryNote } from '../persistence/ports/ingest-feed.port';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { SnapshotBatch } from '../persistence/ports/snapshot-batch';
import { StoredAcks, StoredGate } from './stored-acks';
import { emptyIngestCounters, type IngestCounters } from './ingest-counters';
import { RigMessageVerifier } from './rig-message.verifier';

/** MQTT 5 session expiry with --mqtt-shared-group: the broker keeps this controller's queue for a day while it is away. */
const SESSION_EXPIRY_S = 86_400;
/** Messages decoded in a row before the event loop gets a turn (SQLite completions, timers). */
const YIELD_EVERY = 64;
/** Batches' worth of snapshots that may wait for SQLite before ingest stops taking messages from the broker. */
const MAX_UNWRITTEN_BATCHES = 4;

/**
 * Subscribes to every rig's telemetry and state, validates each payload, and
 * writes snapshots to SQLite in batches (flushed on size or time). Ingest only
 * records status; deciding what to do about it is the reconciler's job.
 */
/** How long a held acknowledgement may wait before ingest says it is stalled (and again at most this often). */
const STALL_WARNING_MS = 30_000;

@Injectable()
export class TelemetryIngestService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.ingest');
  private client: MqttClient | undefined;
  /** Snapshots for the next batch write, each with its validated payload as received (its UTF-8 bytes: cheaper to bind than a string). */
  private pending = new SnapshotBatch();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The writes chained on `flushing` not yet settled, oldest first (the stall diagnosis names the oldest). */
  private readonly chainSteps: Array<{ label: string; queuedAt: number }> = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private lastStallWarning = 0;
  /** Snapshots handed to a batch write that has not finished yet. */
  private writing = 0;
  private sinceYield = 0;
  private flushSoon = false;
  /** PUBACKs wait for the commit of what their message carries. */
  private readonly acks = new StoredAcks();
  /** Settled when the pending batch is stored: the PUBACKs of its snapshots wait for it. */
  private pendingGate = new StoredGate();
  /** What the pending batch holds, per agent: its receipt once stored. */
  private pendingReceipts = new ReceiptBook();
  /** Stored (or refused for good) and not yet confirmed to the agents: sent at the end of this turn of the event loop. */
  private unsentReceipts = new ReceiptBook();
  private receiptsScheduled = false;
  /** The gate of the message being handled: set by onMessage, taken by handleMessage right after. */
  private currentGate: StoredGate | undefined;
  /** The agent each rig reports through (its snapshots and state say): where the receipts of its events and results go. */
  private readonly agentOfRig = new Map<string, string>();
  readonly counters: IngestCounters = emptyIngestCounters();
  private brokerUrl = '';
  private readonly rigListeners: Array<(rigId: string) => void> = [];
  private readonly resultListeners: Array<(result: CommandResult) => void> = [];
  private readonly snapshotListeners: Array<(snapshot: MinerSnapshot) => void> = [];
  private readonly stateListeners: Array<(state: RigState, retained: boolean) => void> = [];
  private readonly agentStatusListeners: Array<(status: AgentStatus, retained: boolean) => void> = [];
  private readonly elsewhereListeners: Array<(note: TelemetryNote) => void> = [];
  /** With the ingest feed: the newest snapshot of each miner in the pending batch, announced once it is stored. */
  private pendingNotes = new Map<string, TelemetryNote>();

  /**
   * Called for every valid snapshot as it is accepted, before its batch is stored (liveness: when telemetry arrived).
   * Must be quick: it runs once per message on the ingest path.
   */
  onSnapshotAccepted(listener: (snapshot: MinerSnapshot) => void): void {
    this.snapshotListeners.push(listener);
  }

  /**
   * Called for each snapshot another controller of the shared group stored (announced through the ingest feed, once
   * per miner and batch): telemetry that arrived, though not here.
   */
  onTelemetryElsewhere(listener: (note: TelemetryNote) => void): void {
    this.elsewhereListeners.push(listener);
  }

  /** Called once a rig's state (birth, last will, shutdown) is stored; `retained`: the broker's copy, sent on subscribe. */
  onRigState(listener: (state: RigState, retained: boolean) => void): void {
    this.stateListeners.push(listener);
  }

  /** Called for every valid agent status as it arrives; `retained`: the broker's copy, sent on subscribe. */
  onAgentStatus(listener: (status: AgentStatus, retained: boolean) => void): void {
    this.agentStatusListeners.push(listener);
  }

  /** Called after new status for a rig is stored (the reconciler enqueues it). */
  onRigUpdated(listener: (rigId: string) => void): void {
    this.rigListeners.push(listener);
  }

  onCommandResult(listener: (result: CommandResult) => void): void {
    this.resultListeners.push(listener);
  }

  /** Publishes at QoS 1 on the controller's connection (commands). */
  async publish(topic: string, payload: Buffer): Promise<void> {
    if (!this.client) throw new Error('the controller is not connected to the broker');
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }
  private readonly topics: RigTopics;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(EmbeddedBrokerService) private readonly broker: EmbeddedBrokerService,
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    // With --mqtt-shared-group on a shared PostgreSQL (--replica-id): what each controller stores is told to the others.
    @Optional() @Inject(INGEST_FEED) private readonly feed?: IngestFeed,
  ) {
    this.topics = new RigTopics(config.topicRoot);
  }

  /** Whether the controller's connection to the broker is up now. */
  get brokerConnected(): boolean {
    return this.client?.connected ?? false;
  }

  get url(): string {
    return this.brokerUrl;
  }

  /** PUBACKs held until their message is stored (metrics). */
  get heldAcks(): number {
    return this.acks.held;
  }

  /** How long the oldest held PUBACK has waited, ms (metrics: 0 when none is held). */
  get oldestHeldAckMs(): number {
    return this.acks.oldestHeld(Date.now())?.waitedMs ?? 0;
  }

  /** Snapshots received and not yet written (metrics: ingest queue depth). */
  get pendingSnapshots(): number {
    return this.pending.size;
  }

  async onModuleInit(): Promise<void> {
    const group = this.config.mqttSharedGroup;
    if (group !== undefined && !this.config.mqttUrl) {
      throw new Error(`--mqtt-shared-group ${group} needs an MQTT 5 broker with shared subscriptions, such as Mosquitto 2, given by --mqtt-url / MQTT_URL: the embedded broker (aedes) speaks MQTT 3.1.1 only`);
    }
    this.brokerUrl = await this.broker.brokerUrl();
    // Before subscribing: what another controller stores from the first shared message on must reach this one.
    if (this.feed) await this.feed.listen((notes, from) => this.storedElsewhere(notes, from), () => this.feedGap());
    const client = mqtt.connect(this.brokerUrl, {
      clientId: this.config.mqttClientId,
      clean: false, // the broker keeps QoS 1 telemetry for us while we restart
      // MQTT.js traces every packet through the `debug` package (about 8 calls per message, each allocating its
      // arguments even when tracing is off): silent unless DEBUG asks for mqttjs.
      ...(/mqttjs/.test(process.env['DEBUG'] ?? '') ? {} : { log: () => undefined }),
      reconnectPeriod: 1000,
      // Shared subscriptions are MQTT 5; there a kept session also needs an expiry (0 would end it at disconnect).
      ...(group === undefined ? { protocolVersion: 4 as const } : { protocolVersion: 5 as const, properties: { sessionExpiryInterval: SESSION_EXPIRY_S } }),
      ...(this.config.mqttUrl ? mqttTlsOptions(this.config) : {}),
      ...(this.config.mqttUrl && this.config.mqttAuth ? { username: this.config.mqttAuth.username, password: this.config.mqttAuth.password } : {}),
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    // MQTT.js sends the PUBACK of a QoS 1 message and reads the next one when this calls back; StoredAcks holds the
    // PUBACK until the message is stored.
    this.acks.install(client);
    this.stallTimer = setInterval(() => this.checkStall(), 5000);
    this.stallTimer.unref();
    client.handleMessage = (packet, done) => {
      if (packet.cmd === 'publish' && packet.qos === 1) this.acks.expect(packet.messageId, this.currentGate);
      this.currentGate = undefined;
      this.afterMessage(done);
    };
    client.on('close', () => this.acks.reset());
    client.on('offline', () => this.logger.warn('broker unreachable; retrying', { url: this.brokerUrl }));
    let lastError = '';
    // Reconnect with jittered backoff: about 1 s, doubling up to 10 s, back to 1 s once connected.
    reconnectWithBackoff(client, new Backoff({ initialMs: 1000, maxMs: 10_000 }));
    client.on('connect', () => { lastError = ''; });
    client.on('error', (err) => {
      if (err.message !== lastError) this.logger.warn('broker error', { url: this.brokerUrl, error: err });
      lastError = err.message;
    });
    try {
      await this.connectAndSubscribe(client, group);
    } catch (err) {
      this.client = undefined;
      await client.endAsync(true).catch(() => undefined);
      throw err;
    }
  }

  private async connectAndSubscribe(client: MqttClient, group: string | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cannot reach the MQTT broker at ${this.brokerUrl} within 15 s: is it running? (MQTT_URL)`)), 15_000);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
      if (group !== undefined) {
        const refused = (err: Error): void => {
          if (!/protocol version/i.test(err.message)) return;
          clearTimeout(timer);
          client.off('error', refused);
          reject(new Error(`--mqtt-shared-group ${group}: the broker at ${this.brokerUrl} refused MQTT 5 (${err.message}); shared subscriptions need an MQTT 5 broker such as Mosquitto 2 (aedes speaks MQTT 3.1.1 only)`));
        };
        client.on('error', refused);
        client.once('connect', () => client.off('error', refused));
      }
    });
    const shared = (topic: string): string => (group === undefined ? topic : `$share/${group}/${topic}`);
    // Telemetry and events are work to split: each message goes to one controller of the group (with the ingest feed
    // the others hear of each stored snapshot). States and agent statuses stay plain subscriptions: they are
    // retained, and a broker sends no retained message to a new shared subscription (MQTT 5, 4.8.2), while every
    // controller needs every rig's online state and labels (the fleet spec selects rigs by label). Results too: the
    // controller that sent the command must hear its result (each stores it; the store keeps one row per result).
    const topics = [
      shared(this.topics.allRigs('telemetry')), this.topics.allRigs('state'), shared(this.topics.allRigs('events')),
      this.topics.allRigs('results'), this.topics.allAgentStatus(),
    ];
    const granted = await client.subscribeAsync(topics, { qos: 1 });
    const failed = granted.filter((g) => g.qos >= 128);
    if (failed.length > 0) {
      throw new Error(`the broker at ${this.brokerUrl} refused the subscriptions ${failed.map((g) => `${g.topic} (code ${g.qos})`).join(', ')}${group === undefined ? '' : ': does it support MQTT 5 shared subscriptions?'}`);
    }
    this.logger.info('subscribed to telemetry', { url: this.brokerUrl, topics: topics[0], ...(group === undefined ? {} : { sharedGroup: group }) });
  }

  async onModuleDestroy(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(!client.connected).catch(() => undefined);
    clearTimeout(this.flushTimer);
    clearInterval(this.stallTimer);
    await this.flush();
    await this.feed?.close();
  }

  /** Another controller stored these snapshots: the latest status cached here is stale, and the rigs have news. */
  private storedElsewhere(notes: readonly TelemetryNote[], from: string): void {
    this.counters.heardElsewhere += notes.length;
    const rigIds = new Set<string>();
    for (const note of notes) {
      if (note.agentId !== '' && this.agentOfRig.get(note.rigId) !== note.agentId) this.agentOfRig.set(note.rigId, note.agentId);
      this.rigs.forget(note.rigId);
      rigIds.add(note.rigId);
      for (const l of this.elsewhereListeners) {
        try {
          l(note);
        } catch (err) {
          this.logger.error('a listener of telemetry stored elsewhere failed', { rig: note.rigId, from, error: err as Error });
        }
      }
    }
    for (const rigId of rigIds) for (const l of this.rigListeners) l(rigId);
  }

  /** The feed was down: what the others stored meanwhile is unknown here, so every rig is read from the store again. */
  private feedGap(): void {
    this.logger.info('ingest feed back: reading every known rig from the store again');
    for (const rigId of this.agentOfRig.keys()) {
      this.rigs.forget(rigId);
      for (const l of this.rigListeners) l(rigId);
    }
  }

  private onMessage(topic: string, payload: Buffer, retained = false): void {
    this.counters.received++;
    this.currentGate = undefined;
    const agentId = this.topics.parseAgentStatus(topic);
    if (agentId !== undefined) {
      this.agentStatusReceived(agentId, topic, payload, retained);
      return;
    }
    const parsed = this.topics.parse(topic);
    if (!parsed) {
      this.reject(topic, undefined, new ProtocolError(`unexpected topic ${topic}`));
      return;
    }
    try {
      if (parsed.kind === 'telemetry') {
        if (payload.length > MAX_SNAPSHOT_BYTES) throw new ProtocolError(`MinerSnapshot payload is ${payload.length} bytes, more than the ${MAX_SNAPSHOT_BYTES} allowed`, 'payload');
        const text = payload.toString('utf8');
        const snapshot = decodeSnapshot(text, { nowMs: Date.now() });
        if (snapshot.rigId !== parsed.rigId) {
          throw new ProtocolError(`rigId "${snapshot.rigId}" does not match the topic's rig "${parsed.rigId}"`, 'rigId');
        }
        this.pending.add(snapshot, payload);
        if (this.feed) this.pendingNotes.set(`${snapshot.rigId}\u0000${snapshot.minerId}`, telemetryNoteOf(snapshot));
        this.pendingReceipts.snapshot(snapshot.agentId, snapshot.rigId, snapshot.seq);
        if (snapshot.agentId !== '' && this.agentOfRig.get(snapshot.rigId) !== snapshot.agentId) this.agentOfRig.set(snapshot.rigId, snapshot.agentId);
        this.currentGate = this.pendingGate;
        this.rigs.receive(snapshot); // the latest status in memory takes it now; SQLite with the batch
        for (const l of this.snapshotListeners) l(snapshot);
        this.enqueued();
        return;
      }
      if (payload.length > MAX_MESSAGE_BYTES) throw new ProtocolError(`payload is ${payload.length} bytes, more than the ${MAX_MESSAGE_BYTES} allowed`, 'payload');
      if (parsed.kind === 'state') {
        if (payload.length === 0) return; // a cleared retained message
        const state = decodeRigState(payload);
        if (state.rigId !== parsed.rigId) {
          throw new ProtocolError(`rigId "${state.rigId}" does not match the topic's rig "${parsed.rigId}"`, 'rigId');
        }
        this.counters.states++;
        if (state.agentId !== '') this.agentOfRig.set(state.rigId, state.agentId);
        this.flushing = this.track('rig state', this.flushing.then(() => this.rigs.writeState(state)).then(() => {
          for (const l of this.stateListeners) l(state, retained);
          for (const l of this.rigListeners) l(state.rigId);
        }).catch((err) => {
          this.logger.error('cannot store rig state', { rig: state.rigId, error: err as Error });
        }));
        this.currentGate = StoredGate.after(this.flushing, 'rig state');
      } else if (parsed.kind === 'events') {
        const event = decodeRigEvent(payload);
        if (event.rigId !== parsed.rigId) throw new ProtocolError(`rigId "${event.rigId}" does not match the topic's rig "${parsed.rigId}"`, 'rigId');
        // Not signed by its rig's key (for a rig that has one): counted and refused, neither stored nor acted on.
        const verdict = RigMessageVerifier.of(this.config).check({ type: 'event', message: event }, this.counters);
        if (!verdict.accepted) return;
        this.counters.events++;
        (event.severity === 'critical' ? this.logger.warn : this.logger.info)('rig event', { rig: event.rigId, kind: event.kind, reason: event.reason, message: event.message });
        this.flushing = this.track('event', this.flushing.then(() => this.events.recordEvent(event, verdict.verified ? 'agent' : 'agent-unverified')).then(() => {
          this.confirm((book, agentId) => book.event(agentId, event), event.rigId);
        }, (err) => {
          this.counters.flushErrors++;
          this.logger.error('cannot store an event (the agent sends it again: no receipt)', { rig: event.rigId, error: err as Error });
        }));
        this.currentGate = StoredGate.after(this.flushing, 'event');
      } else if (parsed.kind === 'results') {
        const result = decodeCommandResult(payload);
        if (result.rigId !== parsed.rigId) throw new ProtocolError(`rigId "${result.rigId}" does not match the topic's rig "${parsed.rigId}"`, 'rigId');
        if (!RigMessageVerifier.of(this.config).check({ type: 'result', message: result }, this.counters).accepted) return;
        this.counters.results++;
        for (const l of this.resultListeners) l(result);
        this.flushing = this.track('command result', this.flushing.then(() => this.events.recordResult(result, Date.now())).then(() => {
          this.confirm((book, agentId) => book.result(agentId, result), result.rigId);
        }, (err) => {
          this.counters.flushErrors++;
          this.logger.error('cannot store a command result (the agent sends it again: no receipt)', { rig: result.rigId, error: err as Error });
        }));
        this.currentGate = StoredGate.after(this.flushing, 'command result');
      }
    } catch (err) {
      this.reject(topic, parsed.rigId, err, payload);
    }
  }

  private agentStatusReceived(agentId: string, topic: string, payload: Buffer, retained: boolean): void {
    if (payload.length === 0) return;
    try {
      const status = decodeAgentStatus(payload);
      if (status.agentId !== agentId) throw new ProtocolError(`agentId "${status.agentId}" does not match the topic's agent "${agentId}"`, 'agentId');
      this.counters.agentStatus++;
      for (const l of this.agentStatusListeners) l(status, retained);
      this.flushing = this.track('agent status', this.flushing.then(() => this.events.recordAgentStatus(status)).catch((err) => {
        this.logger.error('cannot store an agent status', { agent: agentId, error: err as Error });
      }));
      this.currentGate = StoredGate.after(this.flushing, 'agent status');
    } catch (err) {
      this.reject(topic, undefined, err);
    }
  }

  private reject(topic: string, rigId: string | undefined, err: unknown, payload?: Buffer): void {
    this.counters.invalid++;
    const field = err instanceof ProtocolError ? err.field : undefined;
    if (field === 'payload') this.counters.oversize++;
    this.logger.warn('dropped an invalid message', { rig: rigId, topic, field, bytes: payload?.length, error: err instanceof Error ? err.message : String(err) });
    // An agent's own message refused for good (a clock 2 days ahead, say) is confirmed as done, or the agent would
    // keep it at the head of its outbox and send it forever.
    if (payload !== undefined && payload.length <= MAX_SNAPSHOT_BYTES && this.topics.parse(topic)?.kind === 'telemetry') {
      const key = refusedSnapshotKey(payload);
      if (key && key.rigId === rigId) this.confirm((book) => book.snapshot(key.agentId, key.rigId, key.seq), rigId);
    }
  }

  /** Adds to the next receipts (sent at the end of this turn of the event loop), for the agent of `rigId`. */
  private confirm(add: (book: ReceiptBook, agentId: string) => void, rigId: string): void {
    add(this.unsentReceipts, this.agentOfRig.get(rigId) ?? '');
    if (this.receiptsScheduled) return;
    this.receiptsScheduled = true;
    setImmediate(() => this.sendReceipts());
  }

  private sendReceipts(): void {
    this.receiptsScheduled = false;
    const book = this.unsentReceipts;
    this.unsentReceipts = new ReceiptBook();
    const client = this.client;
    // Lost receipts (broker away) only make the agents send again; the duplicates are dropped and confirmed then.
    if (!client?.connected || book.empty) return;
    for (const receipt of book.receipts(new Date())) {
      client.publish(this.topics.agentStored(receipt.agentId), encodeJson(IngestReceipt, receipt), { qos: 0 });
      this.counters.receipts++;
    }
  }

  /**
   * Flow control between the broker and SQLite. MQTT.js decodes every buffered message before it returns to the
   * event loop, so under a burst the SQLite completions would wait until the whole burst is decoded and the writes
   * would not overlap the decoding: every YIELD_EVERY messages it gets a turn. And when more than MAX_UNWRITTEN
   * snapshots wait for SQLite, the next message is not taken (nor acknowledged) until a batch is written: the broker
   * holds the backlog (deploy/mosquitto.conf sizes its queue for that), not the controller's memory.
   */
  private afterMessage(done: () => void): void {
    if (this.writing + this.pending.size > MAX_UNWRITTEN_BATCHES * this.config.ingest.batchSize) {
      this.sinceYield = 0;
      void this.flushing.then(done);
    } else if (++this.sinceYield >= YIELD_EVERY) {
      this.sinceYield = 0;
      setImmediate(done);
    } else {
      done();
    }
  }

  /**
   * Batches size themselves to the load (group commit): a snapshot arriving while no write runs is written at the
   * end of this turn of the event loop, with whatever else arrived in the same read; while a write runs, snapshots
   * gather and the next write takes them all as soon as it ends (or as soon as batchSize of them are waiting). So a
   * lone fault snapshot waits for no timer, and a burst is written in large batches.
   */
  private enqueued(): void {
    if (this.pending.size >= this.config.ingest.batchSize) void this.flush();
    else if (this.writing === 0 && !this.flushSoon && !this.flushTimer) {
      this.flushSoon = true;
      setImmediate(() => {
        this.flushSoon = false;
        if (this.writing === 0) void this.flush();
      });
    }
  }


  /** Writes what is pending; batches are written one after another, in arrival order. */
  flush(): Promise<void> {
    const batch = this.pending;
    const size = batch.size;
    if (size === 0) return this.flushing;
    const gate = this.pendingGate;
    const receipts = this.pendingReceipts;
    const notes = this.pendingNotes;
    this.pendingNotes = new Map();
    this.pending = new SnapshotBatch();
    this.pendingGate = new StoredGate();
    this.pendingReceipts = new ReceiptBook();
    this.writing += size;
    this.flushing = this.track(`snapshot batch of ${size}`, this.flushing.then(async () => {
      try {
        const result = await this.rigs.writeBatch(batch);
        gate.settle(); // the batch is committed: its PUBACKs go, and its receipts (duplicates were stored before)
        this.unsentReceipts.merge(receipts);
        if (!this.receiptsScheduled) {
          this.receiptsScheduled = true;
          setImmediate(() => this.sendReceipts());
        }
        this.counters.flushes++;
        this.counters.stored += result.inserted;
        if (this.feed && notes.size > 0) this.announce([...notes.values()]);
        for (const rigId of batch.rigIds()) for (const l of this.rigListeners) l(rigId);
        this.counters.duplicates += result.duplicates;
        if (result.duplicates > 0) this.logger.debug('dropped duplicate snapshots', { count: result.duplicates });
      } catch (err) {
        this.counters.flushErrors++;
        // Keep the batch: put it back in front so nothing is lost, and retry on the next flush. Its PUBACKs and
        // receipts wait for that write.
        this.pending = batch.concat(this.pending);
        for (const [key, note] of notes) if (!this.pendingNotes.has(key)) this.pendingNotes.set(key, note);
        gate.follow(this.pendingGate);
        receipts.merge(this.pendingReceipts);
        this.pendingReceipts = receipts;
        this.logger.error('cannot store snapshots; will retry', { count: size, retryMs: this.config.ingest.retryMs, error: err as Error });
        if (!this.flushTimer) this.flushTimer = setTimeout(() => { this.flushTimer = undefined; void this.flush(); }, this.config.ingest.retryMs);
        return;
      } finally {
        this.writing -= size;
      }
      // What gathered during this write goes next (unless a full batch already went).
      if (this.writing === 0 && this.pending.size > 0 && !this.flushTimer) void this.flush();
    }));
    return this.flushing;
  }

  /** Tells the other controllers (not awaited: a lost announcement only delays their view until the next one). */
  private announce(notes: TelemetryNote[]): void {
    this.feed!.announce(notes).catch((err: unknown) => {
      this.counters.announceErrors++;
      this.logger.warn('cannot announce stored snapshots to the other controllers (they read them at the next announcement)', { count: notes.length, error: err as Error });
    });
  }

  /** Records a write chained on `flushing` until it settles (it never rejects: each step catches its own error). */
  private track(label: string, step: Promise<void>): Promise<void> {
    const entry = { label, queuedAt: Date.now() };
    this.chainSteps.push(entry);
    return step.finally(() => {
      const i = this.chainSteps.indexOf(entry);
      if (i >= 0) this.chainSteps.splice(i, 1);
    });
  }

  /**
   * Ingest stalls when a held PUBACK waits too long: the broker stops sending once its in-flight window is full of
   * them. Said with what it waits for, so the cause is in the log, not guessed.
   */
  private checkStall(): void {
    const now = Date.now();
    const oldest = this.acks.oldestHeld(now);
    if (!oldest || oldest.waitedMs < STALL_WARNING_MS || now - this.lastStallWarning < STALL_WARNING_MS) return;
    this.lastStallWarning = now;
    const head = this.chainSteps[0];
    this.logger.warn('ingest is stalled: an acknowledgement has waited for its write too long (the broker sends nothing more once its in-flight window is full)', {
      heldAcks: this.acks.held, oldestWaitedMs: oldest.waitedMs, waitsFor: oldest.waitsFor, messageId: oldest.messageId,
      pendingSnapshots: this.pending.size, writingSnapshots: this.writing, flushScheduled: this.flushSoon || this.flushTimer !== undefined,
      writesQueued: this.chainSteps.length, oldestWrite: head?.label, oldestWriteQueuedMs: head ? now - head.queuedAt : undefined,
    });
  }
}

function telemetryNoteOf(s: MinerSnapshot): TelemetryNote {
  const noData = s.hashrate5sHs === undefined && s.hashrateAvgHs === undefined && s.hashrateWindows.length === 0 && s.pools.length === 0 && s.boards.length === 0 && s.uptimeS === undefined;
  const note = { rigId: s.rigId, agentId: s.agentId, minerId: s.minerId, seq: s.seq, collectedAt: s.collectedAt?.getTime() ?? 0 };
  return s.errors.length > 0 && noData ? { ...note, unreachable: s.errors.map((x) => `${x.kind}: ${x.message}`).join('; ') } : note;
}

/** The rig, agent and seq of a refused snapshot, when its JSON names them well enough to confirm it. */
function refusedSnapshotKey(payload: Buffer): { rigId: string; agentId: string; seq: number } | undefined {
  try {
    const o = JSON.parse(payload.toString('utf8')) as { rigId?: unknown; agentId?: unknown; seq?: unknown };
    const seq = typeof o.seq === 'string' ? Number(o.seq) : o.seq;
    if (typeof o.rigId !== 'string' || typeof o.agentId !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
    return { rigId: o.rigId, agentId: o.agentId, seq };
  } catch {
    return undefined;
  }
}
