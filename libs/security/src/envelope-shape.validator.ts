import type { CommandEnvelope } from '@rigwarden/protocol';
import { COMMAND_TYPES, encodeForSigning, type CommandType } from './command-encoding';
import { SecurityError } from './security-error';

/** A `malformed` verdict: the field at fault and what is wrong with it. */
export interface ShapeProblem {
  readonly ok: false;
  readonly reason: 'malformed';
  readonly detail: string;
  readonly field: string;
  readonly commandId?: string;
  readonly authenticated: false;
}

/** Commands that address the whole rig (its host, its outlet, its command keys), so minerId may be empty. */
const RIG_LEVEL: ReadonlySet<CommandType> = new Set(['rebootHost', 'powerCycle', 'rotateKey', 'retireKey']);
const ID = /^[\x21-\x7e]{1,128}$/; // printable ASCII, no spaces
const NONCE = /^[A-Za-z0-9+/=_-]{16,128}$/; // base64, base64url or hex; at least 96 bits of text

/** The `malformed` check: every signed field present, bounded and encodable; gives the encoding when it is. */
export function checkEnvelopeShape(envelope: CommandEnvelope): ShapeProblem | { ok: true; encoded: Buffer } {
  if (typeof envelope !== 'object' || envelope === null) return malformed('envelope', 'the command is not an object');
  const commandId = typeof envelope.commandId === 'string' && ID.test(envelope.commandId) ? envelope.commandId : undefined;
  const bad = (field: string, problem: string) => malformed(field, `command ${commandId ?? '(no id)'}: ${field} ${problem}`, commandId);
  for (const field of ['commandId', 'rigId', 'keyId'] as const) {
    const value: unknown = envelope[field];
    if (typeof value !== 'string' || value === '') return bad(field, 'is missing');
    if (!ID.test(value)) return bad(field, 'must be 1-128 printable ASCII characters');
  }
  const payload = envelope.payload;
  if (payload === undefined || payload === null || !COMMAND_TYPES.includes(payload.$case)) return bad('payload', 'is missing or of an unknown type');
  if (typeof envelope.minerId !== 'string') return bad('minerId', 'must be a string');
  if (envelope.minerId === '' && !RIG_LEVEL.has(payload.$case)) return bad('minerId', `is missing (required for ${payload.$case})`);
  if (envelope.minerId !== '' && !ID.test(envelope.minerId)) return bad('minerId', 'must be 1-128 printable ASCII characters');
  if (typeof envelope.nonce !== 'string' || envelope.nonce === '') return bad('nonce', 'is missing');
  if (!NONCE.test(envelope.nonce)) return bad('nonce', 'must be 16-128 characters of base64, base64url or hex');
  for (const field of ['issuedAt', 'expiresAt'] as const) {
    const value: unknown = envelope[field];
    if (!(value instanceof Date) || !Number.isSafeInteger(value.getTime())) return bad(field, 'is missing or not a valid time');
  }
  if ((envelope.expiresAt as Date).getTime() <= (envelope.issuedAt as Date).getTime()) return bad('expiresAt', 'is not after issuedAt');
  if (!(envelope.signature instanceof Uint8Array) || envelope.signature.length === 0) return bad('signature', 'is missing');
  try {
    return { ok: true, encoded: encodeForSigning(envelope) };
  } catch (err) {
    const field = err instanceof SecurityError ? String(err.context['field'] ?? 'payload') : 'payload';
    return bad(field, 'has no canonical encoding');
  }
}

function malformed(field: string, detail: string, commandId?: string): ShapeProblem {
  return { ok: false, reason: 'malformed', detail, field, ...(commandId ? { commandId } : {}), authenticated: false };
}
