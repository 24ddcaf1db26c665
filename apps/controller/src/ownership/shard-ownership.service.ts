import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createLogger, type Logger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { LEASE_STORE, type HeldLease, type LeaseStore } from '../persistence/ports/lease.port';
import { shardOf, shardsToRelease } from './rig-shard.policy';

export interface OwnershipTiming {
  /** How long a lease lasts without renewal (default 10 s): a dead controller's rigs are taken over after this. */
  leaseMs: number;
  /** How often leases are renewed and free shards taken (default 3 s). */
  renewMs: number;
  /**
   * Held leases count as lapsed this long before the database would let them go (default 1 s): this controller stops
   * acting before any other may start, even when its clock runs a little slow.
   */
  marginMs: number;
  /**
   * How long the controller may be without the MQTT broker before it gives its leases back (default: `leaseMs`): it
   * can neither hear its rigs nor reach their agents, while a controller that has the broker can.
   */
  brokerGraceMs?: number;
}

/** The controller's link to the MQTT broker (TelemetryIngestService): whether it is up now. */
export interface BrokerLink {
  readonly brokerConnected: boolean;
}

export const BROKER_LINK = Symbol('BrokerLink');

/** currentEpoch() while this controller's leases have lapsed: nothing is sent until its next round. */
export class LeasesLapsedError extends Error {
  constructor(replicaId: string) {
    super(`not sent: the shard leases of this controller (${replicaId}) lapsed (it was paused or cut off from PostgreSQL); its next lease round tells which rigs it still owns`);
    this.name = 'LeasesLapsedError';
  }
}

export const DEFAULT_OWNERSHIP_TIMING: OwnershipTiming = { leaseMs: 10_000, renewMs: 3000, marginMs: 1000 };

/** Counted since start, for /metrics. */
export interface OwnershipCounters {
  /** Shards taken under a new epoch (free at start, lapsed after another controller died or paused, or handed back). */
  takeovers: number;
  /** Lease rounds that failed (PostgreSQL unreachable or refusing): the leases held were not renewed. */
  renewFailures: number;
  /** Times this controller gave its leases back because it had lost the MQTT broker for `brokerGraceMs`. */
  brokerReleases: number;
}

export interface OwnershipView {
  replicaId: string;
  held: HeldLease[];
  live: string[];
  shards: number;
}

/**
 * Which rigs this controller may act on. Without `--replica-id` (one controller: SQLite, or PostgreSQL alone) it owns
 * every rig and commands carry no epoch (0). With one, controllers sharing a PostgreSQL database hold shard leases
 * (LeaseStore), renewed every `renewMs`; a rig is owned while its shard's lease is held and, on this process's
 * monotonic clock, not older than `leaseMs - marginMs` since the round that renewed it, so a controller that was
 * paused or cut off from the database stops acting on its own, before another controller can take the shard.
 * `epochFor` is the fencing token commands of the rig carry.
 */
@Injectable()
export class ShardOwnership implements OnModuleInit, OnModuleDestroy {
  readonly replicaId: string | undefined;
  private readonly timing: OwnershipTiming;
  private readonly logger: Logger = createLogger('controller.ownership');
  private held = new Map<number, number>();
  private draining = new Set<number>();
  private validUntil = 0;
  private live: string[] = [];
  private shards = 1;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private first = true;
  private stopped = false;
  /** Monotonic ms since the broker was first seen down (undefined while it is up). */
  private brokerDownSince: number | undefined;
  /** The leases were given back for want of the broker: no rounds until it is back. */
  private awayFromBroker = false;
  private readonly listeners: Array<(change: { gained: number[]; lost: number[] }) => void> = [];
  readonly counters: OwnershipCounters = { takeovers: 0, renewFailures: 0, brokerReleases: 0 };
  /** The monotonic clock (performance.now()); tests replace it. */
  monotonic: () => number = () => performance.now();

  constructor(
    @Inject(CONTROLLER_CONFIG) config: Pick<ControllerConfig, 'replicaId' | 'ownership'>,
    @Optional() @Inject(LEASE_STORE) private readonly leases?: LeaseStore,
    @Optional() @Inject(BROKER_LINK) private readonly broker?: BrokerLink,
  ) {
    this.replicaId = config.replicaId;
    this.timing = { ...DEFAULT_OWNERSHIP_TIMING, ...config.ownership };
    if (this.replicaId !== undefined && !this.leases) throw new Error('--replica-id needs the shared PostgreSQL database (--database): leases live there');
  }

  /** Whether this controller shares the fleet through leases (else it owns every rig). */
  get shared(): boolean {
    return this.replicaId !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.shared) return;
    await this.round();
    this.timer = setInterval(() => { void this.round(); }, this.timing.renewMs);
    this.timer.unref();
  }

  // Before the database closes (PersistenceModule closes it at application shutdown); owns() is false from here on,
  // so a reconcile still running acts on nothing.
  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Stops renewing and gives every lease back, so the other controllers take the rigs at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    if (!this.shared) return;
    const lost = [...this.held.keys()];
    this.held.clear();
    this.validUntil = 0;
    if (lost.length > 0) this.emit([], lost);
    await this.leases!.leave(this.replicaId!).catch((err: unknown) => this.logger.warn('cannot give the leases back; they lapse on their own', { error: err as Error }));
  }

  /** Called after each change of the shards held (gained: newly taken; lost: given up, taken away or lapsed). */
  onChange(listener: (change: { gained: number[]; lost: number[] }) => void): void {
    this.listeners.push(listener);
  }

  shardOf(rigId: string): number {
    return shardOf(rigId, this.shards);
  }

  owns(rigId: string): boolean {
    return this.epochFor(rigId) !== undefined;
  }

  /** The fencing token for a command to this rig while this controller owns it (0: no leases in use); undefined if not owned. */
  epochFor(rigId: string): number | undefined {
    if (!this.shared) return 0;
    if (this.stopped || this.monotonic() >= this.validUntil) return undefined;
    const shard = shardOf(rigId, this.shards);
    return this.draining.has(shard) ? undefined : this.held.get(shard);
  }

  /**
   * The epoch of the rig's current lease, whoever holds it (a command this controller sends for another's rig).
   * Refused while this controller's own leases have lapsed (it was paused or cut off from PostgreSQL and no round has
   * run since): it does not know yet which shards it lost, and a command it took up as their owner must be left to
   * the new owner (its next round says which were taken; the dispatcher then drops them), not sent under their epoch.
   */
  async currentEpoch(rigId: string): Promise<number> {
    if (!this.shared) return 0;
    const own = this.epochFor(rigId);
    if (own !== undefined) return own;
    if (this.lapsed()) throw new LeasesLapsedError(this.replicaId!);
    return this.leases!.epochOf(shardOf(rigId, this.shards));
  }

  /** Whether this controller held leases whose time has passed on its own clock with no round renewing them. */
  lapsed(): boolean {
    return this.shared && !this.stopped && this.held.size > 0 && this.monotonic() >= this.validUntil;
  }

  view(): OwnershipView {
    const held = this.monotonic() < this.validUntil ? [...this.held].map(([shard, epoch]) => ({ shard, epoch })) : [];
    return { replicaId: this.replicaId ?? '', held, live: [...this.live], shards: this.shards };
  }

  /** One lease round (also run by the timer); rounds never overlap. */
  round(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.runRound().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async runRound(): Promise<void> {
    if (this.stopped || !this.shared) return;
    if (await this.withoutBroker()) return;
    const startedAt = this.monotonic();
    const lapsed = startedAt >= this.validUntil;
    const release = [...this.draining];
    try {
      const result = await this.leases!.round({ replicaId: this.replicaId!, leaseMs: this.timing.leaseMs, release, reclaim: this.first });
      if (this.stopped) return;
      this.first = false;
      const before = this.held;
      const now = new Map(result.held.map((l) => [l.shard, l.epoch]));
      this.held = now;
      this.shards = result.shards;
      this.live = result.live;
      this.validUntil = startedAt + this.timing.leaseMs - this.timing.marginMs;
      // Beyond the fair share (another controller joined): stop acting on the extra shards now, give them back next round.
      this.draining = new Set(shardsToRelease([...now.keys()], result.target));
      // Gained: new, taken again under a new epoch, or held again after the leases had lapsed here (a pause).
      const gained = [...now.keys()].filter((s) => lapsed || !before.has(s) || before.get(s) !== now.get(s));
      const lost = [...before.keys()].filter((s) => !now.has(s));
      this.counters.takeovers += [...now].filter(([s, epoch]) => before.get(s) !== epoch).length;
      if (gained.length > 0 || lost.length > 0 || release.length > 0) {
        this.logger.info('shard leases', { replica: this.replicaId, held: now.size, gained: gained.length, lost: lost.length, released: release.length, draining: this.draining.size, live: result.live.join(',') });
      }
      if (gained.length > 0 || lost.length > 0) this.emit(gained, lost);
    } catch (err) {
      this.counters.renewFailures++;
      this.logger.warn('lease round failed; the leases held lapse unless the next round renews them', { replica: this.replicaId, error: err as Error });
      if (this.monotonic() >= this.validUntil && this.held.size > 0) {
        const lost = [...this.held.keys()];
        this.held = new Map();
        this.emit([], lost);
      }
    }
  }

  /**
   * True while this controller stays out of the lease rounds for want of the broker: once it has been down for
   * `brokerGraceMs`, the leases are given back (the others take the rigs at their next round) and no round runs (the
   * controller leaves the live list) until the broker is back; then the next round takes a fair share again.
   */
  private async withoutBroker(): Promise<boolean> {
    if (!this.broker) return false;
    const now = this.monotonic();
    if (this.broker.brokerConnected) {
      if (this.awayFromBroker) this.logger.info('the MQTT broker is back: taking a share of the shard leases again', { replica: this.replicaId });
      this.brokerDownSince = undefined;
      this.awayFromBroker = false;
      return false;
    }
    this.brokerDownSince ??= now;
    if (now - this.brokerDownSince < (this.timing.brokerGraceMs ?? this.timing.leaseMs)) return false;
    if (this.awayFromBroker) return true;
    this.awayFromBroker = true;
    this.counters.brokerReleases++;
    const lost = [...this.held.keys()];
    this.held = new Map();
    this.draining = new Set();
    this.validUntil = 0;
    this.logger.warn('no MQTT broker: giving the shard leases back so that a controller that has it acts on the rigs', { replica: this.replicaId, downForMs: Math.round(now - this.brokerDownSince), shards: lost.length });
    if (lost.length > 0) this.emit([], lost);
    await this.leases!.leave(this.replicaId!).catch((err: unknown) => this.logger.warn('cannot give the leases back; they lapse on their own', { error: err as Error }));
    return true;
  }

  private emit(gained: number[], lost: number[]): void {
    for (const l of this.listeners) {
      try {
        l({ gained, lost });
      } catch (err) {
        this.logger.error('an ownership listener failed', { error: err as Error });
      }
    }
  }
}
