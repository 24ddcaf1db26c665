import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CommandEnvelope } from '@rigwarden/protocol';
import { encodeForSigning, type SignedFields } from './command-encoding';
import { checkEnvelopeShape } from './envelope-shape.validator';
import type { KeyRing } from './key-ring';
import { INSPECT, REDACTED } from './redaction';
import type { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

/** HMAC-SHA256 output length: every valid signature has exactly this many bytes. */
export const SIGNATURE_BYTES = 32;

/** HMAC-SHA256 of the v1 canonical encoding under `secret`. */
export function computeSignature(envelope: SignedFields, secret: SecretBytes): Buffer {
  return createHmac('sha256', secret.expose()).update(encodeForSigning(envelope)).digest();
}

/** Constant-time check of `envelope.signature` against `secret`. False (never a throw) for any malformed input. */
export function signatureMatches(envelope: SignedFields & { signature: Uint8Array }, secret: SecretBytes): boolean {
  let encoded: Buffer;
  try {
    encoded = encodeForSigning(envelope);
  } catch {
    return false;
  }
  return encodedSignatureMatches(encoded, envelope.signature, secret);
}

/** Constant-time check of a signature over already encoded bytes (the verifier encodes once). */
export function encodedSignatureMatches(encoded: Buffer, signature: Uint8Array, secret: SecretBytes): boolean {
  const expected = createHmac('sha256', secret.expose()).update(encoded).digest();
  if (!(signature instanceof Uint8Array) || signature.length !== expected.length) return false;
  return timingSafeEqual(expected, signature);
}

/** A fresh 128-bit nonce as base64url (22 characters). */
export function generateNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** What the controller fills in before signing: everything but key id and signature; nonce and times optional. */
export type CommandDraft = Omit<CommandEnvelope, 'keyId' | 'signature' | 'nonce' | 'issuedAt' | 'expiresAt' | 'leaseEpoch'> &
  Partial<Pick<CommandEnvelope, 'nonce' | 'issuedAt' | 'expiresAt' | 'leaseEpoch'>>;

export interface CommandSignerOptions {
  /** How long a command stays executable when the draft has no expiresAt. Default 30 s (the freshness window). */
  readonly ttlMs?: number;
  /** Nonce source; tests inject a deterministic one. */
  readonly nonce?: () => string;
}

/**
 * Signs commands on the controller side: picks the rig's newest active key, fills nonce, issuedAt and expiresAt
 * when the draft leaves them out, and returns the envelope with keyId and signature set.
 */
export class CommandSigner {
  readonly #keys: KeyRing;
  readonly #ttlMs: number;
  readonly #nonce: () => string;

  constructor(keys: KeyRing, options: CommandSignerOptions = {}) {
    this.#keys = keys;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#nonce = options.nonce ?? generateNonce;
    if (!(this.#ttlMs > 0)) throw new SecurityError('invalid_argument', `CommandSigner: ttlMs must be positive, got ${this.#ttlMs}`);
  }

  sign(draft: CommandDraft, now: number): CommandEnvelope {
    const key = this.#keys.signingKey(draft.rigId, now);
    const issuedAt = draft.issuedAt ?? new Date(now);
    const unsigned: CommandEnvelope = {
      ...draft,
      nonce: draft.nonce ?? this.#nonce(),
      issuedAt,
      expiresAt: draft.expiresAt ?? new Date(issuedAt.getTime() + this.#ttlMs),
      keyId: key.id,
      leaseEpoch: draft.leaseEpoch ?? 0,
      signature: Buffer.alloc(0),
    };
    const signed = { ...unsigned, signature: computeSignature(unsigned, key.secret) };
    // Never publish what every agent would refuse as malformed: fail here, naming the field.
    const shape = checkEnvelopeShape(signed);
    if (!shape.ok) throw new SecurityError('unsignable_envelope', `CommandSigner.sign: ${shape.detail}`, { field: shape.field, rigId: draft.rigId });
    return signed;
  }

  toJSON(): unknown {
    return { signer: 'CommandSigner', keys: REDACTED };
  }

  [INSPECT](): string {
    return `CommandSigner { keys: ${REDACTED} }`;
  }
}
