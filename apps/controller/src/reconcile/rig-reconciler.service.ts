import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  DEFAULT_HISTORY_LIMITS, EMPTY_HISTORY, actionFromDecision, appendAction, appendObservation, evaluateRig, observeSnapshot,
  reconcileActionOutcome, resolveParams, setActionOutcome, type ActionOutcome, type ActionRecord, type Decision, type ProfileSettings, type RigHistory, type RigSpec,
} from '@rigwarden/policy';
import { RigEvent, type CommandEnvelope } from '@rigwarden/protocol';
import { createLogger, systemClock, type Clock } from '@rigwarden/shared';
import { CommandDispatcher } from '../commands/command-dispatcher.service';
import { COMMAND_STORE, type CommandRecord, type CommandStateName, type CommandStore } from '../persistence/ports/command.port';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { LivenessService } from '../liveness/liveness.service';
import { ShardOwnership } from '../ownership/shard-ownership.service';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from '../persistence/ports/telemetry-query.port';
import { ChangePoints, nextReconcileAt } from './next-reconcile';
import { ReconcileSchedule } from './reconcile-schedule';
import { restoredActions } from './restored-actions.mapper';

export interface ReconcileCounters {
  reconciles: number;
  errors: number;
  timeouts: number;
  decisions: number;
  commands: number;
  unsigned: number;
}

/**
 * Command payload for a decision, or undefined when the decision has no command (alerts, quarantine). A set-pools
 * decision carries no credentials (decisions are logged): each pool's password comes from the rig's spec here, and
 * the dispatcher seals it before the command is stored.
 */
export function commandFor(d: Decision, spec?: Pick<RigSpec, 'pools'>): CommandEnvelope['payload'] | undefined {
  switch (d.kind) {
    case 'switch-pool': return { $case: 'switchPool', value: { poolIndex: d.params.poolIndex } };
    case 'set-pools': return { $case: 'setPools', value: { pools: d.params.pools.map((p) => ({
      url: p.url, user: p.user,
      password: p.password ?? spec?.pools.find((s) => s.url === p.url && s.user === p.user)?.password ?? '',
    })) } };
    case 'apply-profile':
    case 'resume-mining': return profileCommand(d.params);
    case 'restart-miner': return { $case: 'restartMiner', value: {} };
    case 'reboot-host': return { $case: 'rebootHost', value: {} };
    case 'power-cycle': return { $case: 'powerCycle', value: {} };
    default: return undefined; // stop-mining is done by the agent's own watchdog; quarantine and alert are records
  }
}

/**
 * A profile step as a command: the agent's profile by name, or, when the thermal policy chose the miner's own power
 * control (params.via: a miner without overclock), the power mode or power target the profile names.
 */
function profileCommand(p: { profile: string; settings: ProfileSettings; via?: 'power-mode' | 'power-target' }): CommandEnvelope['payload'] {
  const asic = p.settings.asic;
  if (p.via === 'power-target' && asic?.powerTargetW !== undefined) return { $case: 'setPowerTarget', value: { watts: asic.powerTargetW } };
  if (p.via === 'power-mode' && asic?.powerMode !== undefined) return { $case: 'setPowerMode', value: { mode: asic.powerMode } };
  return { $case: 'applyProfile', value: { profile: p.profile } };
}

interface Run {
  readonly rigId: string;
  /** performance.now() after which the reconcile counts as timed out. */
  readonly deadline: number;
  timedOut: boolean;
  /** Settles when the reconcile has finished executing. */
  done: Promise<void>;
}

/** A decision's parameters for its event (what the history needs after a restart), without pool passwords. */
function storedParams(d: Decision): string {
  if (d.kind === 'set-pools') return JSON.stringify({ missing: d.params.missing });
  return JSON.stringify(d.params);
}

/** The watchdog's remedies: each restarts the miner process when it works. */
const REMEDIES: ReadonlySet<string> = new Set(['restart-miner', 'reboot-host', 'power-cycle']);

const OUTCOME: Partial<Record<CommandStateName, ActionOutcome>> = {
  SUCCEEDED: 'succeeded', FAILED: 'failed', REJECTED: 'rejected', TIMED_OUT: 'timed-out',
};

/**
 * Level-based reconcile, one rig at a time: new status (or a command result) enqueues the rig id; a worker rereads
 * the rig's spec and status, runs the policies, records every decision as an event with its reason, and sends at
 * most one signed command. Ingest never decides anything.
 */
@Injectable()
export class RigReconciler implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.reconcile');
  private readonly histories = new Map<string, RigHistory>();
  /**
   * Releases and command outcomes not yet in the rig's history: taken in by its next reconcile (queued at once), so
   * a reconcile running meanwhile, which writes back the history it read, cannot lose them.
   */
  private readonly releases = new Map<string, ActionRecord[]>();
  private readonly outcomes = new Map<string, Array<{ id: string; outcome: ActionOutcome; cause: string; delivered: boolean }>>();
  /** Per rig, the commands whose outcome was already reconciled with what the miner showed. */
  private readonly observed = new Map<string, Set<string>>();
  private readonly queue = new Set<string>();
  /** Each rig's reconcile in progress, holding one of the `concurrency` slots. */
  private readonly running = new Map<string, Run>();
  private readonly again = new Set<string>();
  /** Every reconcile still executing, including ones that timed out and gave their slot back. */
  private readonly inFlight = new Set<Run>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly counters: ReconcileCounters = { reconciles: 0, errors: 0, timeouts: 0, decisions: 0, commands: 0, unsigned: 0 };
  clock: Clock = systemClock;
  /** When each rig asked to be reconciled again (cooldowns, fail-back and stability windows): one timer for all. */
  readonly schedule = new ReconcileSchedule(() => this.clock, (rigId) => this.enqueue(rigId));
  /** Per rig, where its readings last changed (the windows that start there). */
  private readonly changes = new Map<string, ChangePoints>();

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(TelemetryIngestService) private readonly ingest: TelemetryIngestService,
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CommandDispatcher) private readonly dispatcher: CommandDispatcher,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(LivenessService) private readonly liveness?: Pick<LivenessService, 'get'>,
    @Inject(COMMAND_STORE) private readonly commands?: Pick<CommandStore, 'annotateObserved'>,
    // Controllers sharing the fleet (--replica-id): only the rigs this one owns are reconciled. Absent: every rig.
    @Optional() @Inject(ShardOwnership) private readonly ownership?: Pick<ShardOwnership, 'owns' | 'onChange' | 'shardOf'>,
    // The stored telemetry a first reconcile (after a start, or a rig taken over) refills its observations from.
    @Optional() @Inject(TELEMETRY_QUERY_STORE) private readonly telemetry?: Pick<TelemetryQueryStore, 'snapshots'>,
  ) {}

  onModuleInit(): void {
    // A new spec in force: reconcile at once every rig whose spec it changes.
    this.fleet.onApplied((rigIds) => { for (const rigId of rigIds) this.enqueue(rigId); });
    this.ingest.onRigUpdated((rigId) => this.enqueue(rigId));
    this.dispatcher.onFinished((command) => this.onFinished(command));
    // Rigs taken over are reconciled at once (their history is read again from the store: the former owner acted).
    this.ownership?.onChange(({ gained }) => { if (gained.length > 0) void this.enqueueShards(new Set(gained)); });
    // One timer for every reconcile's deadline, instead of a timer and a race per reconcile (one per telemetry
    // batch and rig): a reconcile is timed out within a quarter of the timeout after its deadline.
    const every = Math.max(10, Math.min(1000, Math.floor(this.config.reconcile.timeoutMs / 4)));
    this.deadlineTimer = setInterval(() => this.expire(performance.now()), every);
    this.deadlineTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.deadlineTimer);
    this.schedule.stop();
    await Promise.allSettled([...this.inFlight].map((r) => r.done));
  }

  enqueue(rigId: string): void {
    if (this.stopped) return;
    if (this.running.has(rigId)) this.again.add(rigId);
    else this.queue.add(rigId);
    this.pump();
  }

  /** Rigs waiting for a reconcile and rigs being reconciled right now (metrics). */
  queueDepth(): { queued: number; running: number } {
    return { queued: this.queue.size + this.again.size, running: this.running.size };
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight].map((r) => r.done));
  }

  private pump(): void {
    // Stopping: what is queued waits for the next start (status is rebuilt from telemetry), not for a closed database.
    if (this.stopped) return;
    // Straight over the set (deleting the current entry is safe): a copy per call costs O(queued) on every finished run.
    for (const rigId of this.queue) {
      if (this.running.size >= this.config.reconcile.concurrency) return;
      this.queue.delete(rigId);
      const run: Run = { rigId, deadline: performance.now() + this.config.reconcile.timeoutMs, timedOut: false, done: Promise.resolve() };
      this.running.set(rigId, run);
      this.inFlight.add(run);
      run.done = this.runOne(run);
    }
  }

  /** Gives the slot of a finished (or timed-out) reconcile to the next rig; the rig again if it was enqueued meanwhile. */
  private freeSlot(run: Run): void {
    if (this.running.get(run.rigId) !== run) return;
    this.running.delete(run.rigId);
    if (this.again.delete(run.rigId)) this.queue.add(run.rigId);
    this.pump();
  }

  /** Reconciles past their deadline: counted and logged as timed out, and their slot released (they run on, unawaited). */
  private expire(now: number): void {
    for (const run of [...this.running.values()]) {
      if (now < run.deadline) continue;
      run.timedOut = true;
      this.counters.timeouts++;
      this.logger.warn('reconcile failed', { rig: run.rigId, error: new Error(`timeout: no result within ${this.config.reconcile.timeoutMs} ms`) });
      this.freeSlot(run);
    }
  }

  private async runOne(run: Run): Promise<void> {
    try {
      await this.reconcile(run.rigId);
      if (!run.timedOut) this.counters.reconciles++;
    } catch (err) {
      if (!run.timedOut) {
        this.counters.errors++;
        this.logger.warn('reconcile failed', { rig: run.rigId, error: err as Error });
      }
    } finally {
      this.inFlight.delete(run);
      this.freeSlot(run);
    }
  }

  private async enqueueShards(shards: Set<number>): Promise<void> {
    try {
      for (let after = ''; ;) {
        const page = await this.rigs.listRigs(1000, after);
        for (const rig of page) if (shards.has(this.ownership!.shardOf(rig.rigId))) this.enqueue(rig.rigId);
        if (page.length < 1000) return;
        after = page[page.length - 1]!.rigId;
      }
    } catch (err) {
      this.logger.warn('cannot list the rigs taken over; they are reconciled on their next telemetry', { error: err as Error });
    }
  }

  /** Another controller owns the rig: what this one knew of it is stale once it acts; read it again when it is back. */
  private notOwned(rigId: string): boolean {
    if (!this.ownership || this.ownership.owns(rigId)) return false;
    this.histories.delete(rigId);
    this.changes.delete(rigId);
    this.outcomes.delete(rigId);
    this.schedule.set(rigId, undefined);
    return true;
  }

  /** One level-based pass over a rig. */
  async reconcile(rigId: string): Promise<void> {
    if (this.notOwned(rigId)) return;
    const record = await this.rigs.getRig(rigId);
    const snapshot = record?.miners[0];
    if (!record || !snapshot) return this.schedule.set(rigId, undefined);
    const fleet = this.fleet.spec;
    const spec = this.fleet.specFor(record, fleet);
    if (!spec) return this.schedule.set(rigId, undefined);
    const now = this.clock.now();
    let history = this.histories.get(rigId) ?? await this.restoreHistory(rigId, snapshot.minerId, now);
    for (const release of this.releases.get(rigId) ?? []) history = appendAction(history, release);
    this.releases.delete(rigId);
    for (const { id, outcome, cause, delivered } of this.outcomes.get(rigId) ?? []) history = setActionOutcome(history, id, outcome, { cause, delivered });
    this.outcomes.delete(rigId);
    const latest = observeSnapshot(snapshot, now);
    const last = history.observations[history.observations.length - 1];
    if (!last || latest.at > last.at) history = appendObservation(history, latest);
    history = await this.reconcileOutcomes(rigId, history, now);
    // The agent's presence as the controller judges it (its last will, shutdown or silent status takes every rig it
    // reported), not the retained claim of one rig. Telemetry age itself is the policies' freshness check.
    const live = this.liveness?.get(rigId);
    const agentOnline = live ? !(live.state === 'offline' && live.reason !== 'no-telemetry') : record.online;
    const { act } = evaluateRig({ spec, status: { rigId, latest, agentOnline }, history }, now, { defaults: fleet.policy });
    for (const decision of act) {
      // The lease may have lapsed while this pass read the store (a pause, a lost database): act on nothing then.
      if (this.notOwned(rigId)) return;
      this.counters.decisions++;
      const payload = commandFor(decision, spec);
      let commandId: string | undefined;
      let note = '';
      if (payload) {
        const sent = await this.send(rigId, decision.minerId ?? snapshot.minerId, payload, decision);
        commandId = sent.commandId;
        if (!sent.ok) note = ` (${sent.why})`;
      }
      const action = actionFromDecision(decision, commandId ? { id: commandId, outcome: note ? 'failed' : 'pending' } : {});
      // A command that could not be sent (not signed) never reached the agent: it cannot have acted.
      history = appendAction(history, note ? { ...action, delivered: false, cause: note.slice(2, -1) } : action);
      await this.events.recordEvent(RigEvent.fromPartial({
        eventId: randomUUID(), rigId, kind: `policy.${decision.kind}`, severity: decision.severity, reason: decision.reason,
        message: decision.message + note, at: new Date(now),
      }), decision.policy, commandId, storedParams(decision));
      this.logger.info('policy decision', { rig: rigId, kind: decision.kind, reason: decision.reason, command: commandId, message: decision.message + note });
    }
    this.histories.set(rigId, history);
    // Reconcile again when a cooldown or window ends, not only when the next telemetry arrives.
    const params = resolveParams(fleet.policy, spec.policy);
    const changes = this.changes.get(rigId) ?? new ChangePoints();
    this.changes.set(rigId, changes);
    changes.update(history.observations, params);
    this.schedule.set(rigId, nextReconcileAt(params, history, changes, now));
  }

  /**
   * A restart, reboot or power-cycle recorded FAILED or TIMED_OUT ("no reply within 10000 ms" while the miner was
   * stopped) whose effect the readings show afterwards (the miner's uptime counting from after the command, the
   * agent's readings starting over): the policy lib's reconcileActionOutcome decides. The history then holds it as
   * succeeded, the command row is annotated succeeded-observed with the evidence, and a `command.succeeded-observed`
   * event says so, once per command.
   */
  private async reconcileOutcomes(rigId: string, history: RigHistory, now: number): Promise<RigHistory> {
    const done = this.observed.get(rigId) ?? new Set<string>();
    this.observed.set(rigId, done);
    const remedies = history.actions.filter((a) => REMEDIES.has(a.kind));
    for (const [i, action] of remedies.entries()) {
      if (!action.id || done.has(action.id) || (action.outcome !== 'failed' && action.outcome !== 'timed-out')) continue;
      const next = remedies[i + 1];
      const result = reconcileActionOutcome(action, history.observations, next ? { until: next.at } : {});
      if (!result.observed || result.outcome !== 'succeeded') continue;
      done.add(action.id);
      history = setActionOutcome(history, action.id, 'succeeded');
      const fresh = (await this.commands?.annotateObserved(action.id, 'succeeded-observed', now, result.evidence)) ?? true;
      if (!fresh) continue; // annotated before a restart: the event is on record
      const message = `${action.kind} recorded ${action.outcome}, but it ran: ${result.evidence}`;
      await this.events.recordEvent(RigEvent.fromPartial({
        eventId: randomUUID(), rigId, kind: 'command.succeeded-observed', severity: 'info', reason: 'effect-observed', message, at: new Date(now),
      }), 'controller', action.id);
      this.logger.info('command outcome reconciled', { rig: rigId, command: action.id, kind: action.kind, reported: action.outcome, evidence: result.evidence });
    }
    return history;
  }

  /**
   * An operator released the rig's quarantine (the `operator.release` event is already stored): the next reconcile,
   * queued at once, adds a release action to the history, so the watchdog ladder starts again from its first step.
   */
  release(rigId: string, at: number, reason: string): void {
    this.releases.set(rigId, [...(this.releases.get(rigId) ?? []), { at, kind: 'release', reason, by: 'operator', params: {} }]);
    this.enqueue(rigId);
  }

  /**
   * The first reconcile of a rig since start, or since this controller took the rig over: its actions come back from
   * the stored decisions and their commands (as far back as the history keeps actions, plus the newest quarantine or
   * release of any age), so the ladder position, the per-hour caps, cooldowns, a quarantine and failback timers
   * survive a restart or a change of owner. Its observations come back from the stored snapshots of the last
   * minutes (the history's full-resolution window): a new owner judges a fault that began before it took the rig
   * with the evidence from before it too (which pool was earning shares before it went dead), not from its first
   * readings alone, where nothing shows which pool the miner was using.
   */
  private async restoreHistory(rigId: string, minerId: string, now: number): Promise<RigHistory> {
    const rows = await this.events.policyActionsForRig(rigId, now - DEFAULT_HISTORY_LIMITS.maxActionAgeMs);
    let history = EMPTY_HISTORY;
    for (const action of restoredActions(rows)) history = appendAction(history, action);
    let observed = 0;
    if (this.telemetry) {
      try {
        const stored = await this.telemetry.snapshots(rigId, now - DEFAULT_HISTORY_LIMITS.fullResolutionMs, now + 1, DEFAULT_HISTORY_LIMITS.maxObservations);
        for (const s of stored) {
          if (s.minerId !== minerId) continue;
          history = appendObservation(history, observeSnapshot(s.snapshot, s.collectedAt));
          observed++;
        }
      } catch (err) {
        this.logger.warn('cannot read the rig\'s stored telemetry; its observations start from the next readings', { rig: rigId, error: err as Error });
      }
    }
    if (history.actions.length > 0 || observed > 0) this.logger.info('policy history restored', { rig: rigId, actions: history.actions.length, observations: observed });
    return history;
  }

  /** Through the dispatcher: stored, signed, sent and retried under one id until the agent answers or the deadline. */
  private async send(rigId: string, minerId: string, payload: NonNullable<CommandEnvelope['payload']>, decision: Decision): Promise<{ ok: boolean; commandId: string; why: string }> {
    const command = await this.dispatcher.dispatch({ rigId, minerId, payload, reason: `${decision.reason}: ${decision.message}`, requestedBy: `policy:${decision.policy}` });
    if (command.state === 'FAILED') {
      this.counters.unsigned++;
      return { ok: false, commandId: command.id, why: command.cause };
    }
    this.counters.commands++;
    return { ok: true, commandId: command.id, why: '' };
  }

  private onFinished(command: CommandRecord): void {
    const outcome = OUTCOME[command.state];
    if (!outcome || !command.requestedBy.startsWith('policy:')) return;
    // Never published (not signed): it cannot have acted, whatever the miner does next.
    const delivered = command.attempts > 0 || command.sentAt !== undefined;
    this.outcomes.set(command.rigId, [...(this.outcomes.get(command.rigId) ?? []), { id: command.id, outcome, cause: command.cause, delivered }]);
    this.enqueue(command.rigId);
  }
}
