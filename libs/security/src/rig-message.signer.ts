import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CommandResult, RigEvent } from '@rigwarden/protocol';
import { SIGNATURE_BYTES } from './envelope.signer';
import type { KeyResolver } from './envelope.verifier';
import type { KeyRejectionReason, KeyRing } from './key-ring';
import { INSPECT, REDACTED } from './redaction';
import { encodeEventForSigning, encodeResultForSigning } from './rig-message-encoding';
import type { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

/** What an agent sends back and signs: a command's result or an event. */
export type RigMessage =
  | { readonly type: 'result'; readonly message: CommandResult }
  | { readonly type: 'event'; readonly message: RigEvent };

/**
 * Signs what an agent publishes about a rig with that rig's newest active key (the one the controller verifies with
 * during a rotation overlap too: any active key of the ring verifies). A rig without an active key gets its messages
 * unsigned (empty keyId and signature): the controller accepts those only from a rig it has no key for.
 */
export class RigMessageSigner {
  readonly #ring: () => KeyRing;

  /** `ring` is read at every signature, so a reloaded key file (a rotation) takes effect at once. */
  constructor(ring: () => KeyRing) {
    this.#ring = ring;
  }

  /**
   * `preferKeyId`: the key of the command this result answers. Used while it is active, so that the confirmation of a
   * rotation is signed with a key the controller already holds (it adds the new key only once confirmed).
   */
  signResult(result: CommandResult, now: number, preferKeyId?: string): CommandResult {
    const key = this.#key(result.rigId, now, preferKeyId);
    if (!key) return { ...result, keyId: '', signature: Buffer.alloc(0) };
    const unsigned = { ...result, keyId: key.id };
    return { ...unsigned, signature: hmac(encodeResultForSigning(unsigned), key.secret) };
  }

  signEvent(event: RigEvent, now: number): RigEvent {
    const key = this.#key(event.rigId, now);
    if (!key) return { ...event, keyId: '', signature: Buffer.alloc(0) };
    const unsigned = { ...event, keyId: key.id };
    return { ...unsigned, signature: hmac(encodeEventForSigning(unsigned), key.secret) };
  }

  #key(rigId: string, now: number, preferKeyId?: string): { id: string; secret: SecretBytes } | undefined {
    const ring = this.#ring();
    if (preferKeyId) {
      const preferred = ring.lookup(rigId, preferKeyId, now);
      if (preferred.ok) return preferred.key;
    }
    try {
      return ring.signingKey(rigId, now);
    } catch (err) {
      if (err instanceof SecurityError && err.code === 'no_active_key') return undefined;
      throw err;
    }
  }

  toJSON(): unknown {
    return { signer: 'RigMessageSigner', keys: REDACTED };
  }

  [INSPECT](): string {
    return `RigMessageSigner { keys: ${REDACTED} }`;
  }
}

/** Why a signed result or event is refused. */
export type RigMessageRejectionReason = 'unsigned' | 'malformed' | KeyRejectionReason | 'bad_signature';

export const RIG_MESSAGE_REJECTION_REASONS: readonly RigMessageRejectionReason[] = [
  'unsigned', 'malformed', 'unknown_key', 'retired_key', 'key_not_yet_valid', 'key_expired', 'bad_signature',
];

export type RigMessageSignatureCheck =
  | { readonly ok: true; readonly keyId: string }
  | { readonly ok: false; readonly reason: RigMessageRejectionReason; readonly detail: string };

/**
 * Checks the signature of a result or event that claims to come from `message.rigId` (the caller has checked that
 * it matches the topic) against that rig's keys: any key active at `now` verifies. Constant time over the HMAC; never
 * throws for a malformed message. Whether a rig without any key may send unsigned messages is the caller's decision.
 */
export function checkRigMessageSignature(received: RigMessage, keys: KeyResolver, now: number): RigMessageSignatureCheck {
  if (!Number.isFinite(now)) throw new SecurityError('invalid_argument', `checkRigMessageSignature: now must be epoch milliseconds, got ${now}`);
  const { message } = received;
  const what = received.type === 'result' ? `result of command ${received.message.commandId}` : `event ${received.message.eventId}`;
  const signature: unknown = message.signature;
  if (message.keyId === '' || !(signature instanceof Uint8Array) || signature.length === 0) {
    return { ok: false, reason: 'unsigned', detail: `${what} from rig ${message.rigId} is not signed` };
  }
  let encoded: Buffer;
  try {
    encoded = received.type === 'result' ? encodeResultForSigning(received.message) : encodeEventForSigning(received.message);
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `${what} from rig ${message.rigId} cannot be verified: ${(err as Error).message}` };
  }
  const key = keys.lookup(message.rigId, message.keyId, Math.floor(now));
  if (!key.ok) return { ok: false, reason: key.reason, detail: `${what} from rig ${message.rigId} is signed with key ${message.keyId}: ${key.reason.replaceAll('_', ' ')}` };
  const expected = hmac(encoded, key.key.secret);
  if (signature.length !== SIGNATURE_BYTES || !timingSafeEqual(expected, signature)) {
    return { ok: false, reason: 'bad_signature', detail: `${what} from rig ${message.rigId}: the signature does not match key ${message.keyId}` };
  }
  return { ok: true, keyId: message.keyId };
}

function hmac(encoded: Buffer, secret: SecretBytes): Buffer {
  return createHmac('sha256', secret.expose()).update(encoded).digest();
}
