import type { CommandEnvelope } from '@rigwarden/protocol';
import type { CommandType } from './command-encoding';
import { checkEnvelopeShape } from './envelope-shape.validator';
import { SIGNATURE_BYTES, encodedSignatureMatches } from './envelope.signer';
import type { KeyLookup, KeyRejectionReason } from './key-ring';
import type { NonceStore } from './nonce-store';
import { INSPECT } from './redaction';
import { SecurityError } from './security-error';

/** Every way a received command can be refused, in the order the verifier checks them. */
export const REJECTION_REASONS = [
  'malformed',
  'wrong_rig',
  'unknown_key',
  'retired_key',
  'key_not_yet_valid',
  'key_expired',
  'bad_signature',
  'issued_in_future',
  'too_old',
  'expired',
  'replayed_nonce',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Why a command was refused: `reason` for code and counters, `detail` for the operator (never secret material). */
export interface EnvelopeRejection {
  readonly ok: false;
  readonly reason: RejectionReason;
  readonly detail: string;
  /** The field at fault, for `malformed`. */
  readonly field?: string;
  /** As claimed by the envelope: unauthenticated unless `authenticated` is true. */
  readonly commandId?: string;
  readonly keyId?: string;
  /**
   * True when the signature was valid (`issued_in_future`, `too_old`, `expired`, `replayed_nonce`): the controller
   * really sent it, so answering with a CommandResult is safe. False for everything else: anyone could have sent it,
   * so answer at most with a rate-limited security event, never one message per forgery.
   */
  readonly authenticated: boolean;
}

export interface EnvelopeAccepted {
  readonly ok: true;
  readonly envelope: CommandEnvelope;
  readonly commandType: CommandType;
  readonly keyId: string;
}

export type EnvelopeVerification = EnvelopeAccepted | EnvelopeRejection;

/** Where the verifier finds keys: a KeyRing, or anything that answers the same way. */
export interface KeyResolver {
  lookup(principal: string, keyId: string, now: number): KeyLookup;
}

export interface EnvelopeVerifierOptions {
  readonly keys: KeyResolver;
  readonly nonces: NonceStore;
  /** How far issuedAt may be from `now`, both ways. Default 30,000 ms. */
  readonly windowMs?: number;
  /** Overrides windowMs for the past side: older commands are `too_old`. */
  readonly maxAgeMs?: number;
  /** Overrides windowMs for the future side: commands issued later than now + this are `issued_in_future`. */
  readonly maxFutureMs?: number;
}

export const DEFAULT_FRESHNESS_WINDOW_MS = 30_000;

/**
 * Decides whether a received command may run. Pure apart from the injected nonce store: no clock, no I/O of its own.
 *
 * Checks, in order (the first failure is the answer): shape (`malformed`), addressee (`wrong_rig`), key
 * (`unknown_key`, `retired_key`, `key_not_yet_valid`, `key_expired`), HMAC (`bad_signature`, constant time),
 * freshness (`issued_in_future`, `too_old`, `expired`), and last the nonce (`replayed_nonce`). The nonce is only
 * recorded for an authentic, fresh command, so forged traffic can neither fill the cache nor burn a real nonce.
 */
export class EnvelopeVerifier {
  readonly #keys: KeyResolver;
  readonly #nonces: NonceStore;
  readonly maxAgeMs: number;
  readonly maxFutureMs: number;

  constructor(options: EnvelopeVerifierOptions) {
    this.#keys = options.keys;
    this.#nonces = options.nonces;
    this.maxAgeMs = options.maxAgeMs ?? options.windowMs ?? DEFAULT_FRESHNESS_WINDOW_MS;
    this.maxFutureMs = options.maxFutureMs ?? options.windowMs ?? DEFAULT_FRESHNESS_WINDOW_MS;
    for (const [name, value] of [['maxAgeMs', this.maxAgeMs], ['maxFutureMs', this.maxFutureMs]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new SecurityError('invalid_argument', `EnvelopeVerifier: ${name} must be a non-negative integer of milliseconds, got ${value}`, { field: name });
      }
    }
  }

  /** `now` is epoch milliseconds from the caller's clock. */
  verify(envelope: CommandEnvelope, expectedRigId: string, clockNow: number): EnvelopeVerification {
    // A NaN clock would pass every time comparison: refuse it loudly rather than accept everything.
    if (!Number.isFinite(clockNow)) throw new SecurityError('invalid_argument', `EnvelopeVerifier.verify: now must be epoch milliseconds, got ${clockNow}`);
    const now = Math.floor(clockNow);
    const shape = checkEnvelopeShape(envelope);
    if (!shape.ok) return shape;
    const claimed = { commandId: envelope.commandId, keyId: envelope.keyId };
    let authenticated = false;
    const reject = (reason: RejectionReason, detail: string): EnvelopeRejection => ({ ok: false, reason, detail, ...claimed, authenticated });

    if (envelope.rigId !== expectedRigId) {
      return reject('wrong_rig', `command ${envelope.commandId} is addressed to rig ${envelope.rigId}, this is rig ${expectedRigId}`);
    }
    const key = this.#keys.lookup(expectedRigId, envelope.keyId, now);
    if (!key.ok) return reject(key.reason, KEY_DETAIL[key.reason](envelope.keyId, expectedRigId));
    if (envelope.signature.length !== SIGNATURE_BYTES || !encodedSignatureMatches(shape.encoded, envelope.signature, key.key.secret)) {
      return reject('bad_signature', `command ${envelope.commandId}: the signature does not match key ${envelope.keyId}`);
    }
    authenticated = true;

    const issuedAt = (envelope.issuedAt as Date).getTime();
    const expiresAt = (envelope.expiresAt as Date).getTime();
    if (issuedAt > now + this.maxFutureMs) {
      return reject('issued_in_future', `command ${envelope.commandId} was issued ${issuedAt - now} ms in the future (limit ${this.maxFutureMs} ms): check the clocks`);
    }
    if (issuedAt < now - this.maxAgeMs) {
      return reject('too_old', `command ${envelope.commandId} was issued ${now - issuedAt} ms ago (limit ${this.maxAgeMs} ms)`);
    }
    if (now >= expiresAt) {
      return reject('expired', `command ${envelope.commandId} expired ${now - expiresAt} ms ago`);
    }

    // Past this instant every copy is refused for its age, whatever the store says; the margin covers a clock
    // stepped back by up to maxFutureMs.
    const until = Math.min(issuedAt + this.maxAgeMs, expiresAt) + this.maxFutureMs + 1;
    const verdict = this.#nonces.remember(nonceKey(envelope.rigId, envelope.nonce), until, now);
    if (verdict === 'seen') return reject('replayed_nonce', `command ${envelope.commandId}: nonce already used`);
    if (verdict === 'saturated') {
      return reject('replayed_nonce', `command ${envelope.commandId}: the nonce cache is saturated and cannot prove this nonce unused`);
    }
    return { ok: true, envelope, commandType: (envelope.payload as { $case: CommandType }).$case, keyId: envelope.keyId };
  }

  [INSPECT](): string {
    return `EnvelopeVerifier { maxAgeMs: ${this.maxAgeMs}, maxFutureMs: ${this.maxFutureMs} }`;
  }
}

/** The nonce store key: length-prefixed so no (rig, nonce) pair can collide with another. */
export function nonceKey(rigId: string, nonce: string): string {
  return `${rigId.length}:${rigId}:${nonce}`;
}

const KEY_DETAIL: Record<KeyRejectionReason, (keyId: string, rigId: string) => string> = {
  unknown_key: (k, r) => `key ${k} is not a key of rig ${r}`,
  retired_key: (k, r) => `key ${k} of rig ${r} has been retired`,
  key_not_yet_valid: (k, r) => `key ${k} of rig ${r} is not valid yet`,
  key_expired: (k, r) => `key ${k} of rig ${r} has expired`,
};
