import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PoolStatus, type MinerSnapshot, type RigEvent } from '@rigwarden/protocol';
import { createLogger, systemClock, type Clock, type Logger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { ShardOwnership } from '../ownership/shard-ownership.service';
import { EVENT_STORE } from '../persistence/ports/event.port';
import { RIG_PRESENCE_STORE, type RigPresenceStore } from '../persistence/ports/rig-presence.port';
import { AlertDispatcher } from './alert-dispatcher';
import { AlertRules } from './alert-rules';
import { DEFAULT_ALERTS_CONFIG, loadAlertsConfig, type AlertsConfig } from './alerts-config';
import type { ActiveAlert, AlertMetricsSource, AlertNotification, DeliveryCount } from './alert-types';

export interface EventSource { onRecorded(listener: (event: RigEvent, source: string) => void): void }
export interface RigUpdateSource {
  onRigUpdated(listener: (rigId: string) => void): void;
  /** Each snapshot as ingest accepts it (the pool-dead rule reads its pools). */
  onSnapshotAccepted?(listener: (snapshot: MinerSnapshot) => void): void;
}

/** Which rigs this controller acts for (ShardOwnership: every rig without --replica-id). */
export interface RigOwner { owns(rigId: string): boolean }

/**
 * Rules every controller sharing the fleet judges alike from the whole fleet's status (connectivity, the pools each
 * snapshot shows): sent by the rig's owner only, or each webhook would hear them once per controller. Alerts from an
 * event are sent by the controller that stored the event, which is one only (events are stored once by their id).
 */
const OWNER_SENDS: ReadonlySet<string> = new Set(['rig-offline', 'pool-dead']);

/** How soon a rig that is down is rechecked after new status arrives for it. */
const RECHECK_DELAY_MS = 200;

/**
 * Runs the alert rules on every new event (EventStore.onRecorded) and on rig connectivity (a check of the whole
 * fleet every `checkIntervalS`, plus a quick recheck of a down rig when ingest stores something for it), and hands
 * notifications to the dispatcher. Nothing here waits on a webhook: ingest is never slowed by alerting.
 */
@Injectable()
export class AlertService implements OnModuleInit, OnModuleDestroy, AlertMetricsSource {
  clock: Clock = systemClock;
  private logger: Logger = createLogger('controller.alerts');
  private config: AlertsConfig = DEFAULT_ALERTS_CONFIG;
  private rules = new AlertRules(DEFAULT_ALERTS_CONFIG);
  private dispatcher: AlertDispatcher | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private readonly dirty = new Set<string>();
  private checking: Promise<void> | undefined;
  private recheck: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly controllerConfig: Pick<ControllerConfig, 'alertsFile'>,
    @Inject(EVENT_STORE) private readonly events: EventSource,
    @Inject(TelemetryIngestService) private readonly ingest: RigUpdateSource,
    @Inject(RIG_PRESENCE_STORE) private readonly presence: RigPresenceStore,
    @Optional() @Inject(ShardOwnership) private readonly owner?: RigOwner,
  ) {}

  /** Notifications of rigs another controller owns, judged here and left to it to send. */
  readonly counters = { leftToOwner: 0 };

  onModuleInit(): void {
    const file = this.controllerConfig.alertsFile;
    const config = file ? loadAlertsConfig(file, process.env) : DEFAULT_ALERTS_CONFIG;
    if (file) this.logger.info('alert rules loaded', { file, channels: config.channels.map((c) => `${c.name}(${c.type})`).join(',') || 'none' });
    this.start(config);
  }

  /** Applies a config and subscribes (once). Tests call it directly with their own options. */
  start(config: AlertsConfig, options: { logger?: Logger; sleep?: (ms: number, signal: AbortSignal) => Promise<void> } = {}): void {
    if (this.started) throw new Error('AlertService.start: already started');
    this.started = true;
    this.config = config;
    if (options.logger) this.logger = options.logger;
    this.rules = new AlertRules(config);
    this.dispatcher = new AlertDispatcher({
      channels: config.channels, rateLimit: config.rateLimit, delivery: config.delivery, clock: this.clock, logger: this.logger, sleep: options.sleep,
    });
    this.events.onRecorded((event) => this.onEvent(event));
    this.ingest.onRigUpdated((rigId) => this.onRigUpdated(rigId));
    this.ingest.onSnapshotAccepted?.((snapshot) => this.onSnapshot(snapshot));
    this.checkTimer = setInterval(() => void this.check(), config.checkIntervalMs);
    this.checkTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    clearTimeout(this.recheckTimer);
    await this.checking;
    await this.recheck;
    await this.dispatcher?.close(Math.min(2_000, this.config.delivery.timeoutMs));
  }

  /** Alerts firing now, most severe first, then oldest first. */
  active(): ActiveAlert[] {
    return this.rules.active();
  }

  deliveryCounts(): DeliveryCount[] {
    return this.dispatcher?.deliveryCounts() ?? [];
  }

  queueDepth(): number {
    return this.dispatcher?.queueDepth() ?? 0;
  }

  /** Checks every rig's connectivity and the reminders now (also run every checkIntervalS). */
  check(): Promise<void> {
    if (this.checking || this.stopped) return this.checking ?? Promise.resolve();
    this.checking = (async () => {
      try {
        const rigs = await this.presence.all();
        const now = this.clock.now();
        this.emit([...this.rules.observePresence(rigs, now), ...this.rules.tick(now)]);
      } catch (err) {
        this.logger.warn('alert check failed; will retry', { error: err as Error });
      }
    })().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  /** Resolves when every notification produced so far has been delivered or given up (tests). */
  async idle(): Promise<void> {
    await this.checking;
    await this.recheck;
    await this.dispatcher?.idle();
  }

  private onRigUpdated(rigId: string): void {
    if (this.stopped || !this.rules.watching(rigId)) return;
    this.dirty.add(rigId);
    if (this.recheckTimer) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      this.recheck = this.presence.some(ids)
        .then((rigs) => this.emit(this.rules.observePresence(rigs, this.clock.now())))
        .catch((err) => this.logger.warn('alert recheck failed', { error: err as Error }));
    }, RECHECK_DELAY_MS);
    this.recheckTimer.unref();
  }

  /** Once per snapshot on the ingest path: a loop over a few pools, no I/O. */
  onSnapshot(snapshot: MinerSnapshot): void {
    if (this.stopped) return;
    const pools = snapshot.pools.map((p) => ({ url: p.url, dead: p.status === PoolStatus.POOL_STATUS_DEAD, active: p.active }));
    const notifications = this.rules.observePools(snapshot.rigId, pools, this.clock.now());
    if (notifications.length > 0) this.emit(notifications);
  }

  private onEvent(event: RigEvent): void {
    if (this.stopped) return;
    const notifications = this.rules.observeEvent({
      rigId: event.rigId, kind: event.kind, severity: event.severity, reason: event.reason, message: event.message, at: event.at?.getTime() ?? 0,
    }, this.clock.now());
    this.emit(notifications);
  }

  private emit(notifications: AlertNotification[]): void {
    for (const n of notifications) {
      if (this.owner && OWNER_SENDS.has(n.rule) && !this.owner.owns(n.rigId)) {
        this.counters.leftToOwner++;
        continue;
      }
      (n.type === 'resolved' || n.severity === 'info' ? this.logger.info : this.logger.warn)('alert', {
        status: n.type, rule: n.rule, rig: n.rigId, severity: n.severity, reason: n.reason, summary: n.summary,
      });
      this.dispatcher?.submit(n);
    }
  }
}
