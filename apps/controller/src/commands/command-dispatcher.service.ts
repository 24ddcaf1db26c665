import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CommandEnvelope, CommandOutcome, RigTopics, encodeJson, type CommandResult } from '@rigwarden/protocol';
import { CommandSigner, RigKeyFile, sealSetPools } from '@rigwarden/security';
import { backoffDelayMs, createLogger, systemClock, type Clock } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { ShardOwnership } from '../ownership/shard-ownership.service';
import { COMMAND_STORE, TERMINAL_STATES as TERMINAL, type CommandPayload, type CommandRecord, type CommandSender, type CommandStateName, type CommandStore } from '../persistence/ports/command.port';

export interface DispatchRequest {
  rigId: string;
  /** Empty for rig-level commands (reboot, power-cycle) on a rig whose miner is unknown. */
  minerId: string;
  payload: CommandPayload;
  /** Why: the policy decision or the operator's note. Travels in the envelope and is stored. */
  reason: string;
  /** "policy:<name>", "operator:<principal>". */
  requestedBy: string;
  /** From now to the deadline; default `commands.defaultTimeoutMs`. */
  timeoutMs?: number;
}

export interface CommandCounters {
  dispatched: number;
  /** Publishes after the first one, under the same command id. */
  retried: number;
  succeeded: number;
  failed: number;
  rejected: number;
  timedOut: number;
  /** Commands that could not be signed (no active key for the rig): finished FAILED without being sent. */
  unsigned: number;
}

export interface CommandDispatchOptions {
  /** Deadline of a command when the request gives none. */
  defaultTimeoutMs: number;
  /** First retry this long after the first publish; doubling up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
  /**
   * Fraction of each retry wait drawn at random (0-1, default 0.25: a wait of 4 s is 3-4 s), so that the commands a
   * round or a bulk request sent together are not all retried in the same tick.
   */
  retryJitter?: number;
  /** How often deadlines and retries are checked; 0 = only when tick() is called (tests with a manual clock). */
  tickMs: number;
  /** Longest life of one signed envelope (the agents' freshness window). */
  envelopeTtlMs: number;
  /** How long one publish may wait for the broker's acknowledgement before the attempt counts as not published. */
  publishTimeoutMs: number;
}

export const DEFAULT_COMMAND_OPTIONS: CommandDispatchOptions = {
  defaultTimeoutMs: 60_000, retryInitialMs: 2_000, retryMaxMs: 15_000, tickMs: 250, envelopeTtlMs: 30_000, publishTimeoutMs: 5_000,
};

/**
 * Rejections that concern one delivery, not the command: a copy of an earlier attempt (`replayed_nonce`), an attempt
 * that sat in the broker too long (`too_old`, `expired`) or a skewed clock (`issued_in_future`). The command is
 * retried under the same id with a fresh envelope; if the deadline passes first the command ends REJECTED with this
 * cause.
 */
const PER_ATTEMPT_REJECTIONS = /^(replayed_nonce|too_old|expired|issued_in_future)\b/;

interface Active {
  record: CommandRecord;
  nextAttemptAt: number;
  /** Publishes of this entry so far (the retry backoff grows with it). */
  tries: number;
  busy: boolean;
  /** The last per-attempt rejection, reported if the deadline passes. */
  rejection?: string;
}

/**
 * Sends commands to agents so that each one runs at most once and its outcome is known: the command is stored
 * (PENDING) before anything is published; each attempt is a freshly signed envelope (new nonce) under the SAME
 * command id, published at QoS 1 (SENT); attempts repeat with backoff until the agent's CommandResult arrives or the
 * deadline passes (TIMED_OUT). Agents journal command ids and answer a repeated id with the stored result, so a
 * retry never runs a command twice. After a restart, unfinished commands are resumed from the table.
 */
@Injectable()
export class CommandDispatcher implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = createLogger('controller.commands');
  private readonly topics: RigTopics;
  private readonly active = new Map<string, Active>();
  private readonly waiters = new Map<string, Array<(record: CommandRecord) => void>>();
  private readonly finishedListeners: Array<(record: CommandRecord) => void> = [];
  private keys: RigKeyFile | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  readonly options: CommandDispatchOptions;
  readonly counters: CommandCounters = { dispatched: 0, retried: 0, succeeded: 0, failed: 0, rejected: 0, timedOut: 0, unsigned: 0 };
  clock: Clock = systemClock;
  /** Draws the retry jitter; tests replace it. */
  random: () => number = Math.random;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(TelemetryIngestService) private readonly transport: TelemetryIngestService,
    @Inject(COMMAND_STORE) private readonly commands: CommandStore,
    // Controllers sharing the fleet (--replica-id): only the rig's owner resumes and retries its commands, and every
    // envelope carries the lease epoch. Absent (tests of the commands feature alone): this controller owns every rig.
    @Optional() @Inject(ShardOwnership) private readonly ownership?: ShardOwnership,
  ) {
    this.topics = new RigTopics(config.topicRoot);
    this.options = { ...DEFAULT_COMMAND_OPTIONS, ...config.commands };
  }

  onModuleInit(): void {
    if (this.config.keysFile) this.keys = new RigKeyFile(this.config.keysFile);
    this.transport.onCommandResult((result) => { void this.onResult(result); });
    this.ownership?.onChange(({ gained, lost }) => {
      // Lost: the new owner resumes these from the table; nothing is finished here. Gained: resume the table's.
      if (lost.length > 0) this.forgetShards(new Set(lost));
      if (gained.length > 0 && !this.stopped) {
        const shards = new Set(gained);
        void this.resume((record) => shards.has(this.ownership!.shardOf(record.rigId)))
          .catch((err: unknown) => this.logger.error('cannot resume the commands of the shards taken over', { error: err as Error }));
      }
    });
  }

  private forgetShards(shards: Set<number>): void {
    let dropped = 0;
    for (const [id, entry] of this.active) {
      if (!shards.has(this.ownership!.shardOf(entry.record.rigId)) || entry.busy) continue;
      this.active.delete(id);
      dropped++;
    }
    if (dropped > 0) this.logger.info('left unfinished commands to the rigs\' new owner', { commands: dropped });
  }

  /** After every module is up (the broker subscription included): resume what a previous run left unfinished. */
  async onApplicationBootstrap(): Promise<void> {
    await this.resume();
    if (this.options.tickMs > 0) {
      this.timer = setInterval(() => { void this.tick(); }, this.options.tickMs);
      this.timer.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    // Callers waiting on a result get the state as it is; the next start resumes the command.
    for (const [id, waiting] of this.waiters) {
      const record = this.active.get(id)?.record ?? await this.commands.get(id).catch(() => undefined);
      if (record) for (const w of waiting) w(record);
    }
    this.waiters.clear();
    this.active.clear();
  }

  /** Called with every command once it is finished (any final state). */
  onFinished(listener: (record: CommandRecord) => void): void {
    this.finishedListeners.push(listener);
  }

  /** Persists the command, then signs and publishes its first attempt. Resolves with the stored record. */
  async dispatch(request: DispatchRequest): Promise<CommandRecord> {
    if (this.stopped) throw new Error('the controller is shutting down; the command was not stored');
    const now = this.clock.now();
    const id = randomUUID();
    const record = await this.commands.insert({
      id, rigId: request.rigId, minerId: request.minerId, payload: this.sealPasswords(request.rigId, id, request.payload, now), reason: request.reason,
      requestedBy: request.requestedBy, createdAt: now, deadline: now + (request.timeoutMs ?? this.options.defaultTimeoutMs),
    });
    this.counters.dispatched++;
    const entry: Active = { record, nextAttemptAt: now, tries: 0, busy: false };
    this.active.set(record.id, entry);
    this.logger.info('command stored', { command: record.id, rig: record.rigId, type: record.type, by: record.requestedBy, reason: record.reason || undefined });
    await this.attempt(entry);
    return { ...entry.record };
  }

  /**
   * Pool passwords are sealed to the rig's signing key before the command is stored, so neither the commands table,
   * nor the broker, nor a log line ever holds one in clear; only the agent of that rig opens them. Without a key for
   * the rig the passwords are dropped: the command cannot be signed either and ends FAILED without being sent.
   */
  private sealPasswords(rigId: string, commandId: string, payload: CommandPayload, now: number): CommandPayload {
    if (payload.$case !== 'setPools' || payload.value.pools.every((p) => p.password === '')) return payload;
    let key;
    try {
      key = this.keys?.keyRing().signingKey(rigId, now);
    } catch {
      key = undefined;
    }
    if (!key) return { $case: 'setPools', value: { ...payload.value, pools: payload.value.pools.map((p) => ({ ...p, password: '' })) } };
    return { $case: 'setPools', value: sealSetPools(payload.value, key, rigId, commandId) };
  }

  /** Resolves once the command is finished (or the controller stops); undefined for an unknown id. */
  async waitFor(commandId: string): Promise<CommandRecord | undefined> {
    const entry = this.active.get(commandId);
    if (entry) {
      return new Promise((resolve) => {
        const list = this.waiters.get(commandId) ?? [];
        list.push(resolve);
        this.waiters.set(commandId, list);
      });
    }
    return this.commands.get(commandId);
  }

  /** The command as stored (with the attempts made so far). */
  get(commandId: string): Promise<CommandRecord | undefined> {
    const entry = this.active.get(commandId);
    return entry ? Promise.resolve({ ...entry.record }) : this.commands.get(commandId);
  }

  /** Times out commands past their deadline and re-publishes those due for a retry. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.runTick().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const now = this.clock.now();
    const due = [...this.active.values()].filter((e) => !e.busy && !this.stopped && (now >= e.record.deadline || now >= e.nextAttemptAt));
    await Promise.all(due.map(async (entry) => {
      try {
        if (now >= entry.record.deadline) await this.expire(entry);
        else await this.attempt(entry);
      } catch (err) {
        this.logger.error('command bookkeeping failed; will retry', { command: entry.record.id, error: err as Error });
      }
    }));
  }

  /** Takes up the table's unfinished commands of the rigs this controller owns (all of them without leases). */
  private async resume(include: (record: CommandRecord) => boolean = () => true): Promise<void> {
    const now = this.clock.now();
    const unfinished = (await this.commands.unfinished())
      .filter((record) => include(record) && !this.active.has(record.id) && (this.ownership?.owns(record.rigId) ?? true));
    let resumed = 0;
    for (const record of unfinished) {
      if (record.deadline <= now) {
        await this.finish({ record, nextAttemptAt: 0, tries: 0, busy: false }, 'TIMED_OUT',
          `no result from rig ${record.rigId} before the deadline (${new Date(record.deadline).toISOString()}); the controller was stopped meanwhile`);
      } else {
        this.active.set(record.id, { record, nextAttemptAt: now, tries: 0, busy: false });
        resumed++;
      }
    }
    if (unfinished.length > 0) this.logger.info('resumed unfinished commands', { resumed, timedOut: unfinished.length - resumed });
    if (resumed > 0) await this.tick();
  }

  private async attempt(entry: Active): Promise<void> {
    const { record } = entry;
    entry.busy = true;
    try {
      const now = this.clock.now();
      entry.nextAttemptAt = now + backoffDelayMs(entry.tries++, {
        initialMs: this.options.retryInitialMs, maxMs: this.options.retryMaxMs, jitter: this.options.retryJitter ?? 0.25, random: this.random,
      });
      // Fencing: the owner's lease epoch. A command of a rig this controller does not own (any longer) is left to the
      // owner, which resumes it from the table; an operator's command issued here goes out under the owner's epoch.
      let leaseEpoch = this.ownership ? this.ownership.epochFor(record.rigId) : 0;
      if (leaseEpoch === undefined && !record.requestedBy.startsWith('policy:')) leaseEpoch = await this.ownership!.currentEpoch(record.rigId);
      if (leaseEpoch === undefined) {
        if (record.attempts === 0 && record.state === 'PENDING') {
          await this.finish(entry, 'FAILED', `not sent: this controller (${this.ownership!.replicaId}) no longer owns rig ${record.rigId} (its lease moved to another controller)`);
        } else {
          this.active.delete(record.id);
        }
        return;
      }
      let envelope: CommandEnvelope;
      try {
        const ring = this.keys?.keyRing();
        if (!ring) throw new Error('no keys file');
        const expiresAt = Math.max(now + 1000, Math.min(record.deadline, now + this.options.envelopeTtlMs));
        envelope = new CommandSigner(ring).sign({
          commandId: record.id, rigId: record.rigId, minerId: record.minerId, payload: record.payload, reason: record.reason, expiresAt: new Date(expiresAt), leaseEpoch,
        }, now);
      } catch (err) {
        this.counters.unsigned++;
        await this.finish(entry, 'FAILED', `not sent: no active command key for rig ${record.rigId} (${this.config.keysFile ?? 'no --keys-file'}): ${(err as Error).message}`);
        return;
      }
      // A broker that is away would hold the publish until it is back: the attempt counts as not published (yet) after
      // publishTimeoutMs, so the caller and the deadline do not wait on it; if the client delivers it later, it is
      // counted then (same id: harmless).
      const attempt = record.attempts;
      const published = this.transport.publish(this.topics.rig(record.rigId, 'commands'), encodeJson(CommandEnvelope, envelope))
        .then(() => this.recordSent(record, this.clock.now(), { replicaId: this.ownership?.replicaId ?? '', leaseEpoch }));
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          published,
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`the broker did not acknowledge within ${this.options.publishTimeoutMs} ms`)), this.options.publishTimeoutMs); }),
        ]);
      } catch (err) {
        published.catch(() => undefined);
        const cause = `not published (attempt ${attempt + 1}): ${(err as Error).message}`;
        this.logger.warn('cannot publish a command; will retry', { command: record.id, rig: record.rigId, error: err as Error });
        if (TERMINAL.has(record.state)) return;
        record.cause = cause;
        await this.commands.noteCause(record.id, cause);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      entry.busy = false;
    }
  }

  private async recordSent(record: CommandRecord, at: number, sender: CommandSender): Promise<void> {
    if (record.attempts > 0) this.counters.retried++;
    // In memory before the row: a fast agent's result can arrive while SQLite is still busy with markSent, and the
    // command it finishes was delivered (the watchdog read "never reached the agent" and skipped its notice).
    record.attempts++;
    record.sentAt = at;
    if (sender.replicaId || sender.leaseEpoch) Object.assign(record, { sentBy: sender.replicaId, leaseEpoch: sender.leaseEpoch });
    const unfinished = await this.commands.markSent(record.id, at, sender);
    if (unfinished && record.state === 'PENDING') record.state = 'SENT';
  }

  private async expire(entry: Active): Promise<void> {
    const { record } = entry;
    if (entry.rejection) await this.finish(entry, 'REJECTED', entry.rejection);
    else await this.finish(entry, 'TIMED_OUT', `no result from rig ${record.rigId} within ${Math.round((record.deadline - record.createdAt) / 1000)} s (${record.attempts} attempt${record.attempts === 1 ? '' : 's'}); is its agent online?`);
  }

  private async onResult(result: CommandResult): Promise<void> {
    const entry = this.active.get(result.commandId);
    if (!entry || entry.record.rigId !== result.rigId) return; // not ours, or already finished (a re-sent result)
    let state: CommandStateName;
    switch (result.outcome) {
      case CommandOutcome.COMMAND_OUTCOME_SUCCEEDED: state = 'SUCCEEDED'; break;
      case CommandOutcome.COMMAND_OUTCOME_FAILED: state = 'FAILED'; break;
      case CommandOutcome.COMMAND_OUTCOME_TIMED_OUT: state = 'TIMED_OUT'; break;
      case CommandOutcome.COMMAND_OUTCOME_REJECTED: state = 'REJECTED'; break;
      default: return;
    }
    try {
      if (state === 'REJECTED' && PER_ATTEMPT_REJECTIONS.test(result.cause)) {
        entry.rejection = result.cause;
        entry.record.cause = result.cause;
        await this.commands.noteCause(result.commandId, result.cause);
        return;
      }
      await this.finish(entry, state, result.cause);
    } catch (err) {
      this.logger.error('cannot record a command result', { command: result.commandId, error: err as Error });
    }
  }

  private async finish(entry: Active, state: CommandStateName, cause: string): Promise<void> {
    const { record } = entry;
    const at = this.clock.now();
    const changed = await this.commands.finish(record.id, state, cause, at);
    this.active.delete(record.id);
    if (!changed) return;
    Object.assign(record, { state, cause, finishedAt: at });
    if (state === 'SUCCEEDED') this.counters.succeeded++;
    else if (state === 'FAILED') this.counters.failed++;
    else if (state === 'REJECTED') this.counters.rejected++;
    else this.counters.timedOut++;
    (state === 'SUCCEEDED' ? this.logger.info : this.logger.warn)('command finished', {
      command: record.id, rig: record.rigId, type: record.type, state, attempts: record.attempts, cause: cause || undefined,
    });
    const waiting = this.waiters.get(record.id) ?? [];
    this.waiters.delete(record.id);
    for (const w of waiting) w({ ...record });
    for (const l of this.finishedListeners) {
      try {
        l({ ...record });
      } catch (err) {
        this.logger.error('a command listener failed', { command: record.id, error: err as Error });
      }
    }
  }
}
