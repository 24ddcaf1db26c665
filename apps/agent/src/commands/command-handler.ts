import { randomUUID } from 'node:crypto';
import {
  CommandOutcome, CommandResult, RigEvent, decodeCommandEnvelope, encodeJson, type CommandEnvelope, type RigTopics,
} from '@rigwarden/protocol';
import {
  EnvelopeVerifier, SecurityError, TokenBucketRateLimiter, openSetPools, type KeyResolver, type NonceStore, type RigMessageSigner,
} from '@rigwarden/security';
import type { Clock, Logger } from '@rigwarden/shared';
import type { CommandExecutor, ExecutionResult } from './command-executor';
import type { CommandJournal } from './command-journal';
import type { LeaseEpochs } from './lease-epochs';
import { isRigKeyCommand, type RigKeyCommands } from './rig-key.commands';

export interface CommandHandlerOptions {
  rigIds: string[];
  topics: RigTopics;
  keys: KeyResolver;
  nonces: NonceStore;
  journal: CommandJournal;
  executor: CommandExecutor;
  /** Key rotation commands (rotate-key, retire-key): they change the key file, not a miner. */
  keyCommands?: RigKeyCommands;
  clock: Clock;
  logger: Logger;
  /** How far a command's issuedAt may be from this agent's clock. */
  windowMs: number;
  /** Sends a message (queued on disk while the broker is away). */
  send: (topic: string, payload: string) => void;
  subscribe: (topic: string, handler: (topic: string, payload: Buffer) => void) => void;
  /** Signs results and events with the rig key so the controller can tell them from forgeries; absent: unsigned. */
  signer?: RigMessageSigner;
  /** The fence: commands under a lease epoch older than one already accepted for the rig are refused. */
  leaseEpochs?: LeaseEpochs;
}

/**
 * Receives commands for this agent's rigs: decodes, verifies (signature, key,
 * freshness, rig, nonce), runs each command id at most once, one at a time per
 * rig, and publishes a CommandResult with the outcome, the cause and the duration.
 * Rejections are also reported as security events, rate-limited.
 */
export class CommandHandler {
  private readonly verifier: EnvelopeVerifier;
  private readonly eventLimiter: TokenBucketRateLimiter;
  private readonly queues = new Map<string, Promise<void>>();
  readonly counters = { received: 0, executed: 0, rejected: 0, duplicates: 0, failed: 0, staleEpoch: 0 };

  constructor(private readonly options: CommandHandlerOptions) {
    this.verifier = new EnvelopeVerifier({ keys: options.keys, nonces: options.nonces, windowMs: options.windowMs });
    this.eventLimiter = new TokenBucketRateLimiter({ burst: 10, perMinute: 10 });
  }

  start(): void {
    for (const rigId of this.options.rigIds) this.listen(rigId);
  }

  addRig(rigId: string): void {
    if (this.options.rigIds.includes(rigId)) return;
    this.options.rigIds.push(rigId);
    this.listen(rigId);
  }

  private listen(rigId: string): void {
    this.options.subscribe(this.options.topics.rig(rigId, 'commands'), (_topic, payload) => this.receive(rigId, payload));
  }

  /** Waits for the commands in progress (used at shutdown and by tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()]);
  }

  private receive(rigId: string, payload: Buffer): void {
    this.counters.received++;
    const previous = this.queues.get(rigId) ?? Promise.resolve();
    const next = previous.then(() => this.handle(rigId, payload)).catch((err: unknown) => {
      this.options.logger.error('command handling failed', { rig: rigId, error: err as Error });
    });
    this.queues.set(rigId, next);
  }

  private async handle(rigId: string, payload: Buffer): Promise<void> {
    const { clock, journal, logger } = this.options;
    const started = clock.now();
    let envelope;
    try {
      envelope = decodeCommandEnvelope(payload);
    } catch (err) {
      this.reject(rigId, '', 'malformed', (err as Error).message, started);
      return;
    }
    const verdict = this.verifier.verify(envelope, rigId, started);
    if (!verdict.ok) {
      // Only an authentic command gets a result; a forgery gets nothing but a rate-limited security event,
      // so it cannot make the agent flood the results topic.
      this.reject(rigId, verdict.authenticated ? verdict.commandId ?? envelope.commandId : '', verdict.reason, verdict.detail, started, verdict.commandId, envelope.keyId);
      return;
    }
    const id = envelope.commandId;
    // A controller that lost the rig's lease (paused, partitioned) may still send: its epoch is older than the one
    // the new owner's commands carry. Refused before anything else, a retry of a command it sent before included.
    const stale = this.options.leaseEpochs?.admit(rigId, envelope.leaseEpoch ?? 0);
    if (stale !== undefined) {
      this.counters.rejected++;
      this.counters.staleEpoch++;
      logger.warn('refused a command from a controller that no longer owns the rig', { rig: rigId, command: id, epoch: envelope.leaseEpoch, highest: this.options.leaseEpochs!.of(rigId) });
      this.result(rigId, id, { outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: stale }, started, envelope.keyId);
      return;
    }
    const seen = journal.state(id);
    if (seen !== undefined) {
      // Authentic but already run (or started before a crash): never twice. The controller retries under the same id
      // until it has a result, so a finished command is answered again with the result it had.
      this.counters.duplicates++;
      const stored = journal.result(id);
      logger.info('command id already executed; answering with its result, not running it again', { rig: rigId, command: id, state: seen });
      if (stored) {
        this.send(rigId, id, { outcome: stored.outcome as CommandOutcome, cause: stored.cause }, stored.durationMs, journal.at(id) ?? started, envelope.keyId);
        return;
      }
      this.result(rigId, id, seen === 'finished'
        ? { outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: `command ${id} was already executed` }
        : { outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: `command ${id} was started before the agent restarted; its outcome is unknown and it is not run again` }, started, envelope.keyId);
      return;
    }
    journal.record(id, 'started', started);
    const controller = new AbortController();
    const expiresIn = Math.max(1000, (envelope.expiresAt?.getTime() ?? started + 60_000) - started + 60_000);
    const timer = setTimeout(() => controller.abort(), Math.min(expiresIn, 300_000));
    let result: ExecutionResult;
    try {
      logger.info('executing command', { rig: rigId, command: id, type: envelope.payload!.$case, reason: envelope.reason || undefined });
      const opened = this.openPasswords(envelope, started);
      if ('outcome' in opened) result = opened;
      else if (isRigKeyCommand(opened) && this.options.keyCommands) result = this.options.keyCommands.execute(opened);
      else result = await this.options.executor.execute(opened, controller.signal);
    } finally {
      clearTimeout(timer);
    }
    const finished = clock.now();
    const durationMs = Math.max(0, finished - started);
    journal.record(id, 'finished', finished, { outcome: result.outcome, cause: result.cause, durationMs });
    if (result.outcome === CommandOutcome.COMMAND_OUTCOME_SUCCEEDED) this.counters.executed++;
    else this.counters.failed++;
    // The same duration and finish time as the journal keeps: a retry of this id is answered with exactly this result.
    this.send(rigId, id, result, durationMs, finished, envelope.keyId);
  }

  /**
   * SetPools passwords travel sealed to the rig key (see sealSetPools): opened here, just before executing, and never
   * logged or journaled. A clear password (or one that does not open) refuses the whole command: a controller that
   * sends passwords readable on the wire is misconfigured, and running it would hide that.
   */
  private openPasswords(envelope: CommandEnvelope, now: number): CommandEnvelope | ExecutionResult {
    const payload = envelope.payload;
    if (payload?.$case !== 'setPools') return envelope;
    try {
      return { ...envelope, payload: { $case: 'setPools', value: openSetPools(payload.value, this.options.keys, envelope.rigId, envelope.commandId, now) } };
    } catch (err) {
      if (!(err instanceof SecurityError)) throw err;
      this.options.logger.warn('set-pools refused: a pool password is not sealed to the rig key', { rig: envelope.rigId, command: envelope.commandId, detail: err.message });
      return { outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: `pool_password: ${err.message}` };
    }
  }

  /** `keyId`: the key of an authentic envelope (the result answering it is signed with that key). */
  private reject(rigId: string, commandId: string, reason: string, detail: string, started: number, claimedId?: string, keyId?: string): void {
    this.counters.rejected++;
    this.options.logger.warn('command rejected', { rig: rigId, command: commandId || claimedId || undefined, reason, detail });
    if (commandId) this.result(rigId, commandId, { outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: `${reason}: ${detail}` }, started, keyId);
    commandId = commandId || claimedId || '';
    // Limited per rig and reason, so a flood of one kind cannot hide another.
    if (this.eventLimiter.take(`${rigId}:${reason}`, this.options.clock.now()).allowed) {
      const event = RigEvent.fromPartial({
        eventId: randomUUID(), rigId, kind: 'security.command_rejected', severity: 'warning', reason,
        message: `rig ${rigId}: refused command ${commandId || '(unreadable)'}: ${detail}`, at: new Date(this.options.clock.now()),
      });
      const signed = this.options.signer?.signEvent(event, this.options.clock.now()) ?? event;
      this.options.send(this.options.topics.rig(rigId, 'events'), encodeJson(RigEvent, signed).toString('utf8'));
    }
  }

  private result(rigId: string, commandId: string, result: ExecutionResult, started: number, keyId?: string): void {
    const now = this.options.clock.now();
    this.send(rigId, commandId, result, Math.max(0, now - started), now, keyId);
  }

  /**
   * A result is signed with the key of the command it answers when that key is still active here (the controller
   * holds it for sure: a rotation's confirmation is signed with the old key, not the new one the controller adds only
   * once confirmed), else with the rig's newest key.
   */
  private send(rigId: string, commandId: string, result: ExecutionResult, durationMs: number, finishedAt: number, keyId?: string): void {
    const unsigned = CommandResult.fromPartial({ commandId, rigId, outcome: result.outcome, cause: result.cause, durationMs, finishedAt: new Date(finishedAt) });
    const message = this.options.signer?.signResult(unsigned, this.options.clock.now(), keyId) ?? unsigned;
    this.options.send(this.options.topics.rig(rigId, 'results'), encodeJson(CommandResult, message).toString('utf8'));
  }
}
