import type { CommandResult, RigEvent } from '@rigwarden/protocol';
import { isWellFormedString } from './canonical-json';
import { SecurityError } from './security-error';

/**
 * Domain-separation tags of what an agent signs. Each is the first field of its signed bytes, and differs from the
 * command envelope's (`rigwarden/command-envelope/v1`) in the bytes of that first field, so no result or event can
 * ever be replayed as a command (or the reverse), nor a result as an event.
 */
export const RESULT_ENCODING_TAG = 'rigwarden/command-result/v1';
export const EVENT_ENCODING_TAG = 'rigwarden/rig-event/v1';

/** The CommandResult fields its signature covers: all of them but the signature. */
export type SignedResultFields = Pick<CommandResult, 'commandId' | 'rigId' | 'outcome' | 'cause' | 'durationMs' | 'finishedAt' | 'keyId'>;

/** The RigEvent fields its signature covers: all of them but the signature. */
export type SignedEventFields = Pick<RigEvent, 'eventId' | 'rigId' | 'kind' | 'severity' | 'reason' | 'message' | 'at' | 'keyId'>;

/**
 * The bytes a CommandResult's HMAC is computed over (encoding v1). Eight fields, each a 4-byte big-endian length
 * followed by that many bytes of UTF-8:
 *
 *  1. the tag `rigwarden/command-result/v1`   2. commandId   3. rigId
 *  4. outcome as the decimal number of the CommandOutcome enum (`2` for FAILED)   5. cause
 *  6. durationMs in decimal   7. finishedAt in decimal milliseconds since the Unix epoch   8. keyId
 *
 * Throws SecurityError `unsignable_envelope` (with the field) when a field is missing or has no canonical form.
 */
export function encodeResultForSigning(result: SignedResultFields): Buffer {
  return lengthPrefixed('encodeResultForSigning', [
    ['tag', RESULT_ENCODING_TAG],
    ['commandId', result.commandId],
    ['rigId', result.rigId],
    ['outcome', integer(result.outcome, 'outcome', 'encodeResultForSigning')],
    ['cause', result.cause],
    ['durationMs', integer(result.durationMs, 'durationMs', 'encodeResultForSigning')],
    ['finishedAt', epochMs(result.finishedAt, 'finishedAt', 'encodeResultForSigning')],
    ['keyId', result.keyId],
  ]);
}

/**
 * The bytes a RigEvent's HMAC is computed over (encoding v1), written like a result's:
 *
 *  1. the tag `rigwarden/rig-event/v1`   2. eventId   3. rigId   4. kind   5. severity   6. reason   7. message
 *  8. at in decimal milliseconds since the Unix epoch   9. keyId
 */
export function encodeEventForSigning(event: SignedEventFields): Buffer {
  return lengthPrefixed('encodeEventForSigning', [
    ['tag', EVENT_ENCODING_TAG],
    ['eventId', event.eventId],
    ['rigId', event.rigId],
    ['kind', event.kind],
    ['severity', event.severity],
    ['reason', event.reason],
    ['message', event.message],
    ['at', epochMs(event.at, 'at', 'encodeEventForSigning')],
    ['keyId', event.keyId],
  ]);
}

function lengthPrefixed(operation: string, fields: ReadonlyArray<readonly [string, unknown]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    if (typeof value !== 'string') throw unsignable(operation, name, `must be a string, got ${typeof value}`);
    if (!isWellFormedString(value)) throw unsignable(operation, name, 'contains a lone UTF-16 surrogate');
    const bytes = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

function integer(value: unknown, field: string, operation: string): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw unsignable(operation, field, 'is not an integer');
  return String(value);
}

function epochMs(date: Date | undefined, field: string, operation: string): string {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isSafeInteger(ms)) throw unsignable(operation, field, 'is missing or not a valid time');
  return String(ms);
}

function unsignable(operation: string, field: string, problem: string): SecurityError {
  return new SecurityError('unsignable_envelope', `${operation}: ${field} ${problem}`, { field });
}
