import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RigEvent, type AgentStatus, type MinerSnapshot, type RigState } from '@rigwarden/protocol';
import { createLogger, systemClock, type Clock } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { DEFAULT_OWNERSHIP_TIMING, ShardOwnership } from '../ownership/shard-ownership.service';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import { LIVENESS_STORE, type LivenessStore } from '../persistence/ports/liveness.port';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import {
  DEFAULT_LIVENESS_PARAMS, isReporting, judgeLiveness, livenessBounds, livenessMessage,
  type AgentPresence, type LivenessParams, type LivenessState, type LivenessVerdict,
} from './rig-liveness';
import { TelemetryCadence } from './telemetry-cadence';

/** Status gaps kept per agent for its cadence. */
const STATUS_GAPS = 5;

interface RigEntry {
  readonly rigId: string;
  agentId?: string;
  lastTelemetryAt?: number;
  readonly cadence: TelemetryCadence;
  retained?: { online: boolean; at: number };
  /** Miners whose newest snapshot could not read them, with why. */
  unreachable?: Map<string, string>;
  verdict?: LivenessVerdict;
  /** When the current state began (the controller's clock). */
  since: number;
  /** `state/reason` last written to the rigs row; undefined: not yet (or the row did not exist). */
  persisted?: string;
  /** `state/reason` in a write queued or under way: not marked dirty again for the same verdict meanwhile. */
  writingKey?: string;
  /** Whether a transition from it records an event (false for the first verdict after start without a stored one). */
  known: boolean;
  /** While online with fresh telemetry: until when the sweep need not judge it again (its stale bound). */
  freshUntil?: number;
  /** Transitions judged while another controller owned the rig (its owner records them), kept for a takeover. */
  unrecorded?: Array<{ verdict: LivenessVerdict; message: string; at: number }>;
}

/** What the service needs of shard ownership: whether this controller records a rig's events. */
export type LivenessOwner = Pick<ShardOwnership, 'shared' | 'owns' | 'shardOf' | 'onChange'>;

interface AgentEntry {
  agentId: string;
  downAt?: number;
  downCause?: 'last-will' | 'shutdown';
  statusAt?: number;
  readonly statusGaps: number[];
  /** The rigs its statuses listed. */
  readonly rigIds: Set<string>;
}

/** A rig's liveness as the API shows it. */
export interface RigLiveness {
  readonly state: LivenessState;
  readonly reason: string;
  readonly message: string;
  /** Epoch ms (controller clock) when the rig entered this state. */
  readonly since: number;
  readonly expectedIntervalMs: number;
  readonly agentId?: string;
  /** online or miner-unreachable: the agent reports for the rig. */
  readonly online: boolean;
}

const SEVERITY: Record<LivenessState, string> = { online: 'info', stale: 'warning', offline: 'warning', 'miner-unreachable': 'warning' };

/**
 * The controller's own judgement of every rig's liveness (rig-liveness.ts has the rules). Ingest tells it when
 * telemetry, states and agent statuses arrive (a Map update per snapshot, no I/O); a sweep every `sweepMs` judges
 * every rig against the clock, writes each transition to the rigs row (online, liveness, reason, since), records a
 * `liveness.<state>` event with the reason, and tells listeners (watch streams). A rig that is not online is judged
 * at once when telemetry for it arrives, and an agent's last will takes every rig it reported offline at once.
 */
@Injectable()
export class LivenessService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.liveness');
  clock: Clock = systemClock;
  readonly params: LivenessParams;
  private readonly rigs = new Map<string, RigEntry>();
  private readonly agents = new Map<string, AgentEntry>();
  private readonly listeners: Array<(rigId: string, liveness: RigLiveness) => void> = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** A verdict write is queued and has not started: rigs marked now go with it. */
  private flushQueued = false;
  private readonly dirty = new Set<string>();
  private stopped = false;
  /**
   * leftToOwner: transitions of rigs another controller owns, judged here and left to it to record;
   * recordedOnTakeover: such transitions recorded here after taking the rig because no event of them was stored.
   */
  readonly counters = { sweeps: 0, transitions: 0, writeErrors: 0, leftToOwner: 0, recordedOnTakeover: 0 };
  /** How long a transition left to another owner is kept in case this controller takes the rig. */
  private readonly takeoverWindowMs: number;

  constructor(
    @Inject(CONTROLLER_CONFIG) config: Pick<ControllerConfig, 'liveness' | 'mqttSharedGroup'> & Partial<Pick<ControllerConfig, 'ownership'>>,
    @Inject(TelemetryIngestService) private readonly ingest: Pick<TelemetryIngestService, 'onSnapshotAccepted' | 'onRigState' | 'onAgentStatus'> & Partial<Pick<TelemetryIngestService, 'onTelemetryElsewhere'>>,
    @Inject(LIVENESS_STORE) private readonly repository: LivenessStore,
    @Inject(EVENT_STORE) private readonly events: Pick<EventStore, 'recordEvent' | 'listAgentStatus' | 'eventsForRig'>,
    @Optional() @Inject(RIG_STATUS_STORE) private readonly rigRecords?: Pick<RigStatusStore, 'forget'>,
    @Optional() @Inject(ShardOwnership) private readonly owner?: LivenessOwner,
  ) {
    this.params = { ...DEFAULT_LIVENESS_PARAMS, telemetryShared: config.mqttSharedGroup !== undefined, ...config.liveness };
    const timing = { ...DEFAULT_OWNERSHIP_TIMING, ...config.ownership };
    // A rig's previous owner recorded its transitions until its lease lapsed: the gap before a takeover is at most a
    // lease plus a round, and one round more covers a sweep that judged the transition late.
    this.takeoverWindowMs = timing.leaseMs + 2 * timing.renewMs;
    this.owner?.onChange(({ gained }) => { if (gained.length > 0) this.guard(() => this.takenOver(new Set(gained))); });
    // Subscribed at once, not in onModuleInit: the retained states arrive as soon as ingest subscribes.
    this.ingest.onSnapshotAccepted((s) => this.guard(() => this.snapshot(s)));
    // With a shared group: telemetry another controller took and stored is telemetry that arrived.
    this.ingest.onTelemetryElsewhere?.((n) => this.guard(() => this.observe(n.rigId, n.agentId, n.minerId, n.collectedAt || undefined, n.unreachable)));
    this.ingest.onRigState((s, retained) => this.guard(() => this.state(s, retained)));
    this.ingest.onAgentStatus((s, retained) => this.guard(() => this.agentStatus(s, retained)));
  }

  async onModuleInit(): Promise<void> {
    await this.restore();
    this.sweepTimer = setInterval(() => void this.sweep(), this.params.sweepMs);
    this.sweepTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    await this.writing;
  }

  /** Called after each transition (and a change of reason), with the rig's liveness now. */
  onChanged(listener: (rigId: string, liveness: RigLiveness) => void): void {
    this.listeners.push(listener);
  }

  /** The rig's liveness judged now; undefined for a rig the controller never heard of. */
  get(rigId: string): RigLiveness | undefined {
    const entry = this.rigs.get(rigId);
    if (!entry) return undefined;
    const now = this.clock.now();
    const verdict = this.judge(entry, now);
    const since = entry.verdict?.state === verdict.state ? entry.since : now;
    return toLiveness(verdict, since, entry.agentId);
  }

  /** Count of rigs per state as of the last sweep (metrics). */
  counts(): Record<LivenessState, number> {
    const out: Record<LivenessState, number> = { online: 0, stale: 0, offline: 0, 'miner-unreachable': 0 };
    for (const e of this.rigs.values()) if (e.verdict) out[e.verdict.state]++;
    return out;
  }

  /** Every rig's state and reason as of the last sweep (metrics). */
  *states(): IterableIterator<{ rigId: string; state: LivenessState; reason: string }> {
    for (const e of this.rigs.values()) if (e.verdict) yield { rigId: e.rigId, state: e.verdict.state, reason: e.verdict.reason };
  }

  /**
   * Judges every rig whose state time alone can change, writes and records the transitions; resolves when they are
   * stored (tests call it). An offline rig leaves that state only on news (telemetry, a birth, a status), which is
   * judged as it arrives; an online rig with fresh telemetry is judged again when its stale bound passes.
   */
  sweep(): Promise<void> {
    if (this.stopped) return this.writing;
    this.counters.sweeps++;
    const now = this.clock.now();
    for (const e of this.rigs.values()) {
      if (e.verdict?.state === 'offline' && e.persisted !== undefined) continue;
      if (e.freshUntil !== undefined && now <= e.freshUntil) continue;
      this.update(e, now);
    }
    return this.flush();
  }

  /** Resolves once every transition judged so far is stored. */
  idle(): Promise<void> {
    return this.flush();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('liveness bookkeeping failed', { error: err as Error });
    }
  }

  private entry(rigId: string): RigEntry {
    let e = this.rigs.get(rigId);
    if (!e) {
      e = { rigId, cadence: new TelemetryCadence(), since: this.clock.now(), known: false };
      this.rigs.set(rigId, e);
    }
    return e;
  }

  private agent(agentId: string): AgentEntry {
    let a = this.agents.get(agentId);
    if (!a) {
      a = { agentId, statusGaps: [], rigIds: new Set() };
      this.agents.set(agentId, a);
    }
    return a;
  }

  private snapshot(s: MinerSnapshot): void {
    const unreachable = s.errors.length > 0 && hasNoData(s) ? s.errors.map((x) => `${x.kind}: ${x.message}`).join('; ') : undefined;
    this.observe(s.rigId, s.agentId, s.minerId, s.collectedAt?.getTime(), unreachable);
  }

  /** Telemetry of one miner arrived (here or, announced, at another controller of the group). */
  private observe(rigId: string, agentId: string, minerId: string, collectedAt: number | undefined, unreachable: string | undefined): void {
    const e = this.entry(rigId);
    if (agentId) e.agentId = agentId;
    e.lastTelemetryAt = this.clock.now();
    if (collectedAt !== undefined) e.cadence.observe(minerId, collectedAt);
    const wasUnreachable = e.unreachable !== undefined;
    if (unreachable !== undefined) {
      (e.unreachable ??= new Map()).set(minerId, unreachable);
    } else if (e.unreachable?.delete(minerId) && e.unreachable.size === 0) {
      e.unreachable = undefined;
    }
    // Recovery and what a snapshot says of the miner are news at once; going quiet is the sweep's to notice.
    if (e.verdict?.state !== 'online' || wasUnreachable !== (e.unreachable !== undefined)) {
      this.update(e, e.lastTelemetryAt);
      void this.flush();
    }
  }

  private state(s: RigState, retained: boolean): void {
    const now = this.clock.now();
    const e = this.entry(s.rigId);
    if (s.agentId) e.agentId = s.agentId;
    e.retained = { online: s.online, at: now };
    // The state write set rigs.online from the agent's claim: write the verdict again (a write queued before may
    // have gone before that state write).
    e.persisted = undefined;
    e.writingKey = undefined;
    if (s.agentId) {
      const a = this.agent(s.agentId);
      const wasDown = a.downAt !== undefined;
      if (!s.online) {
        // One rig's state carries the connection's last will: the agent is gone, and with it every rig it reported.
        if (a.downAt === undefined) {
          a.downAt = now;
          a.downCause = 'last-will';
        }
      } else if (!retained) {
        // A live birth: the agent is back. (A retained birth is older news than any will that followed it.)
        a.downAt = undefined;
        a.downCause = undefined;
      }
      // The agent's rigs are judged again when the agent's presence changed; otherwise (the other 999 states of an
      // agent's restart) only this rig: judging every rig per state made an agent restart O(rigs²).
      if (wasDown !== (a.downAt !== undefined)) this.updateAgentRigs(a, now);
      else this.update(e, now);
    } else {
      this.update(e, now);
    }
    void this.flush();
  }

  private agentStatus(s: AgentStatus, retained: boolean): void {
    const now = this.clock.now();
    const a = this.agent(s.agentId);
    const at = retained ? Math.min(now, s.at?.getTime() ?? now) : now;
    if (!retained && a.statusAt !== undefined && at > a.statusAt) {
      a.statusGaps.push(at - a.statusAt);
      if (a.statusGaps.length > STATUS_GAPS) a.statusGaps.shift();
    }
    a.statusAt = Math.max(a.statusAt ?? 0, at);
    for (const rigId of s.rigIds) {
      a.rigIds.add(rigId);
      const e = this.entry(rigId);
      e.agentId ??= s.agentId;
    }
    if (!s.online) {
      a.downAt = a.downAt ?? at;
      a.downCause = 'shutdown';
    } else if (!retained) {
      a.downAt = undefined;
      a.downCause = undefined;
    }
    this.updateAgentRigs(a, now);
    void this.flush();
  }

  private updateAgentRigs(a: AgentEntry, now: number): void {
    for (const rigId of a.rigIds) this.update(this.entry(rigId), now);
    for (const e of this.rigs.values()) if (e.agentId === a.agentId && !a.rigIds.has(e.rigId)) this.update(e, now);
  }

  private judge(e: RigEntry, now: number): LivenessVerdict {
    const a = e.agentId === undefined ? undefined : this.agents.get(e.agentId);
    const agent: AgentPresence | undefined = a && {
      agentId: a.agentId,
      ...(a.downAt !== undefined ? { downAt: a.downAt, downCause: a.downCause ?? 'last-will' } : {}),
      ...(a.statusAt !== undefined ? { statusAt: a.statusAt } : {}),
      ...(a.statusGaps.length > 0 ? { statusIntervalMs: median(a.statusGaps) } : {}),
    };
    const learned = e.cadence.intervalMs();
    return judgeLiveness({
      rigId: e.rigId,
      ...(e.lastTelemetryAt !== undefined ? { lastTelemetryAt: e.lastTelemetryAt } : {}),
      ...(learned !== undefined ? { learnedIntervalMs: learned } : {}),
      ...(e.retained ? { retained: e.retained } : {}),
      ...(agent ? { agent } : {}),
      ...(e.unreachable ? { unreachable: [...e.unreachable.values()].join('; ') } : {}),
    }, now, this.params);
  }

  /** Judges one rig; a transition (or a new reason) marks it for the next write. */
  private update(e: RigEntry, now: number): void {
    const verdict = this.judge(e, now);
    const previous = e.verdict;
    e.verdict = verdict;
    e.freshUntil = verdict.reason === 'telemetry-fresh' && e.lastTelemetryAt !== undefined && !e.unreachable
      ? e.lastTelemetryAt + livenessBounds(verdict.expectedIntervalMs, this.params).staleAfterMs
      : undefined;
    if (previous?.state !== verdict.state) {
      const known = e.known && previous !== undefined;
      e.since = now;
      e.known = true;
      if (known) {
        this.counters.transitions++;
        const message = livenessMessage(verdict);
        this.logger.info('rig liveness', { rig: e.rigId, from: previous.state, to: verdict.state, reason: verdict.reason, message });
        if (this.owner?.shared && !this.owner.owns(e.rigId)) {
          // Every controller judges every rig (the API and metrics show them all); the rig's owner records the event.
          this.counters.leftToOwner++;
          e.unrecorded = [...(e.unrecorded ?? []).filter((u) => u.at >= now - this.takeoverWindowMs), { verdict, message, at: now }];
        } else {
          e.unrecorded = undefined;
          this.record(e.rigId, verdict, message, now);
        }
      }
    }
    const key = `${verdict.state}/${verdict.reason}`;
    if (e.persisted !== key && e.writingKey !== key) this.dirty.add(e.rigId);
  }

  /**
   * Shards taken (after a controller died, paused or handed them over): the transitions of their rigs judged here
   * while they had another owner, in the last lease and round, may have been recorded by nobody (the owner was dead,
   * or draining). Each is recorded unless an event of that state for the rig is stored since shortly before it.
   */
  private takenOver(shards: Set<number>): void {
    const now = this.clock.now();
    for (const e of this.rigs.values()) {
      if (!e.unrecorded || !shards.has(this.owner!.shardOf(e.rigId))) continue;
      const pending = e.unrecorded.filter((u) => u.at >= now - this.takeoverWindowMs);
      e.unrecorded = undefined;
      if (pending.length === 0) continue;
      const rigId = e.rigId;
      this.writing = this.writing.then(async () => {
        const stored = await this.events.eventsForRig(rigId, 50, pending[0]!.at - this.takeoverWindowMs);
        for (const u of pending) {
          const kind = `liveness.${u.verdict.state}`;
          if (stored.some((r) => r.kind === kind && r.at >= u.at - this.takeoverWindowMs)) continue;
          this.counters.recordedOnTakeover++;
          await this.events.recordEvent(this.event(rigId, u.verdict, u.message, u.at), 'controller');
        }
      }).then(() => undefined, (err) => {
        this.logger.warn('cannot record the liveness events of a rig taken over', { rig: rigId, error: err as Error });
      });
    }
  }

  private event(rigId: string, verdict: LivenessVerdict, message: string, at: number): RigEvent {
    return RigEvent.fromPartial({
      eventId: randomUUID(), rigId, kind: `liveness.${verdict.state}`, severity: SEVERITY[verdict.state], reason: verdict.reason, message, at: new Date(at),
    });
  }

  private record(rigId: string, verdict: LivenessVerdict, message: string, now: number): void {
    const event = this.event(rigId, verdict, message, now);
    this.writing = this.writing.then(() => this.events.recordEvent(event, 'controller')).then(() => undefined, (err) => {
      this.logger.warn('cannot record a liveness event', { rig: rigId, error: err as Error });
    });
  }

  /** Writes the marked rigs' verdicts (one transaction), then tells listeners. */
  private flush(): Promise<void> {
    // Once stopped, the database closes after the last module: a verdict judged from ingest's final batch is not
    // written (it is judged again from telemetry after the restart) instead of failing on a closed handle.
    if (this.dirty.size === 0 || this.stopped) return this.writing;
    // One write waits at a time and takes every rig marked until it starts: a burst of states (an agent's restart)
    // is one transaction, not one per message.
    if (this.flushQueued) return this.writing;
    this.flushQueued = true;
    this.writing = this.writing.then(async () => {
      this.flushQueued = false;
      if (this.stopped) return;
      const ids = [...this.dirty];
      this.dirty.clear();
      const rows = ids.flatMap((rigId) => {
        const e = this.rigs.get(rigId);
        if (!e?.verdict) return [];
        const v = e.verdict;
        e.writingKey = `${v.state}/${v.reason}`;
        return [{ rigId, key: e.writingKey, verdict: { state: v.state, reason: v.reason, message: livenessMessage(v), since: e.since, online: isReporting(v.state) } }];
      });
      if (rows.length === 0) return;
      try {
        const written = await this.repository.write(rows);
        // Records cached before this write hold the old online column.
        for (const rigId of written) this.rigRecords?.forget(rigId);
        for (const row of rows) {
          const e = this.rigs.get(row.rigId);
          if (written.has(row.rigId) && e && e.verdict && `${e.verdict.state}/${e.verdict.reason}` === row.key) e.persisted = row.key;
        }
      } catch (err) {
        this.counters.writeErrors++;
        this.logger.warn('cannot store liveness; will retry on the next sweep', { rigs: rows.length, error: err as Error });
      }
      for (const row of rows) {
        const e = this.rigs.get(row.rigId);
        if (e?.writingKey === row.key) e.writingKey = undefined;
        if (!e?.verdict) continue;
        const liveness = toLiveness(e.verdict, e.since, e.agentId);
        for (const l of this.listeners) {
          try { l(row.rigId, liveness); } catch { /* a listener's failure is its own */ }
        }
      }
    });
    return this.writing;
  }

  /** After a restart: each rig's stored state, agent and newest snapshot time; each agent's stored status. */
  private async restore(): Promise<void> {
    const now = this.clock.now();
    for (const seed of await this.repository.seeds()) {
      // What ingest delivered meanwhile is newer than what is stored: seeds fill only what is still unknown.
      const e = this.entry(seed.rigId);
      if (seed.agentId) e.agentId ??= seed.agentId;
      if (seed.lastSeen !== undefined) e.lastTelemetryAt ??= Math.min(now, seed.lastSeen);
      if (seed.stateAt !== undefined) e.retained ??= { online: seed.stateOnline, at: Math.min(now, seed.stateAt) };
      if (seed.liveness !== '' && !e.verdict) {
        e.known = true;
        e.verdict = { state: seed.liveness as LivenessState, reason: 'telemetry-fresh', expectedIntervalMs: this.params.defaultIntervalMs };
      }
    }
    for (const status of await this.events.listAgentStatus()) {
      const a = this.agent(status.agentId);
      for (const rigId of status.rigIds) a.rigIds.add(rigId);
      if (a.statusAt !== undefined) continue;
      a.statusAt = Math.min(now, status.at?.getTime() ?? 0);
      if (!status.online) {
        a.downAt = a.statusAt;
        a.downCause = 'shutdown';
      }
    }
  }
}

function toLiveness(v: LivenessVerdict, since: number, agentId: string | undefined): RigLiveness {
  return {
    state: v.state, reason: v.reason, message: livenessMessage(v), since, expectedIntervalMs: v.expectedIntervalMs,
    online: isReporting(v.state), ...(agentId ? { agentId } : {}),
  };
}

/** A snapshot with errors and none of the data a reading has: the miner could not be read at all. */
function hasNoData(s: MinerSnapshot): boolean {
  return s.hashrate5sHs === undefined && s.hashrateAvgHs === undefined && s.hashrateWindows.length === 0 && s.pools.length === 0 && s.boards.length === 0 && s.uptimeS === undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
