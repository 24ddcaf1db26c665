import { CommandState, commandStateFromJSON, isValidRigId, type CommandStatus, type PoolTarget } from '@rigwarden/protocol';
import { FleetError } from '../fleet/fleet-error';
import type { RigRecord } from '../persistence/rig-repository';
import type { CommandPayload, CommandRecord } from './command-repository';

export const DEFAULT_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 3600;
export const MAX_POOLS = 8;
const MAX_REASON = 500;
/** stratum+tcp://host:port, stratum+ssl://, stratum2+tcp://, or a bare tcp:// endpoint; the port is required. */
const POOL_URL = /^(stratum2?\+(tcp|ssl|tls)|stratum|tcp|ssl):\/\/[^\s/:@]+:(\d{1,5})\/?$/;
const PROFILE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Commands that address the whole rig: they need no miner. */
export const RIG_LEVEL: ReadonlySet<CommandPayload['$case']> = new Set(['rebootHost', 'powerCycle']);

export function invalid(field: string, message: string): FleetError {
  return new FleetError('invalid_argument', `${field} ${message}`, field);
}

/** The deadline in ms from `timeout_seconds` (0 = default). */
export function timeoutMs(seconds: number, field: string): number {
  if (seconds === 0) return DEFAULT_TIMEOUT_SECONDS * 1000;
  if (seconds > MAX_TIMEOUT_SECONDS) throw invalid(field, `must be at most ${MAX_TIMEOUT_SECONDS} seconds, got ${seconds}`);
  return seconds * 1000;
}

export function checkRigId(rigId: string, field: string): void {
  if (rigId === '') throw invalid(field, 'is required');
  if (!isValidRigId(rigId)) throw invalid(field, `${JSON.stringify(rigId)} is not a valid rig id (letters, digits, . _ - up to 128)`);
}

export function checkReason(reason: string, field: string): void {
  if (reason.length > MAX_REASON) throw invalid(field, `must be at most ${MAX_REASON} characters, got ${reason.length}`);
}

export function checkPools(pools: readonly PoolTarget[], field: string): void {
  if (pools.length === 0) throw invalid(field, 'is empty: give at least one pool (url, user, password)');
  if (pools.length > MAX_POOLS) throw invalid(field, `has ${pools.length} pools; a miner takes at most ${MAX_POOLS}`);
  pools.forEach((p, i) => {
    const match = POOL_URL.exec(p.url);
    if (!match || Number(match[3]) < 1 || Number(match[3]) > 65535) {
      throw invalid(`${field}[${i}].url`, `${JSON.stringify(p.url)} is not a pool URL like stratum+tcp://pool.example.com:3333`);
    }
    if (p.user.trim() === '') throw invalid(`${field}[${i}].user`, 'is required (the worker name)');
  });
}

export function checkProfile(profile: string, field: string): void {
  if (profile === '') throw invalid(field, 'is required (a profile name from the agent config or fleet spec)');
  if (!PROFILE.test(profile)) throw invalid(field, `${JSON.stringify(profile)} is not a profile name (letters, digits, . _ - up to 64)`);
}

/**
 * The miner a command goes to: the one named (it must be on the rig), or the rig's only/first miner. Rig-level
 * commands may go to a rig whose miners are unknown.
 */
export function resolveMiner(rig: RigRecord, minerId: string, payload: CommandPayload, field: string): string {
  const known = rig.miners.map((m) => m.minerId);
  if (minerId !== '') {
    if (known.length > 0 && !known.includes(minerId)) {
      throw new FleetError('not_found', `${field}: rig ${rig.rigId} has no miner "${minerId}"; it has: ${known.join(', ')}`, field);
    }
    return minerId;
  }
  if (known.length > 0) return known[0]!;
  if (RIG_LEVEL.has(payload.$case)) return '';
  throw invalid(field, `is required: rig ${rig.rigId} has reported no miner yet`);
}

function ts(ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(ms);
}

export function toCommandStatus(c: CommandRecord): CommandStatus {
  return {
    commandId: c.id, rigId: c.rigId, minerId: c.minerId, type: c.type, state: commandStateFromJSON(`COMMAND_STATE_${c.state}`),
    attempts: c.attempts, createdAt: ts(c.createdAt), deadline: ts(c.deadline), finishedAt: ts(c.finishedAt), cause: c.cause,
    requestedBy: c.requestedBy, reason: c.reason,
    observedOutcome: c.observedOutcome ?? '', observedAt: ts(c.observedAt), observedNote: c.observedNote ?? '',
  };
}

/** A per-rig status for a rig the bulk command did not send to (dry run, or a rig it cannot address). */
export function notSentStatus(rigId: string, minerId: string, type: string, state: CommandState, cause: string, requestedBy: string, reason: string): CommandStatus {
  return {
    commandId: '', rigId, minerId, type, state, attempts: 0, createdAt: undefined, deadline: undefined, finishedAt: undefined, cause, requestedBy, reason,
    observedOutcome: '', observedAt: undefined, observedNote: '',
  };
}

/** "operator:<api key id>" (or the principal when the call was not authenticated). */
export function operatorOf(principal: { principal: string; keyId: string }): string {
  return `operator:${principal.keyId || principal.principal}`;
}
