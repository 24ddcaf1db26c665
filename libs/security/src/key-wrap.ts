import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyResolver } from './envelope.verifier';
import type { SigningKey } from './key-ring';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

const WRAP_DOMAIN = 'rigwarden/key-wrap/v1';

/**
 * A rig key encrypted for delivery (rotation step 1) under a key the rig already holds, so the new secret is
 * unreadable to the broker, its persistence and anyone who can read the command topic. AES-256-GCM with a key derived
 * by HKDF-SHA256 from the wrapping key's secret (never the HMAC key itself); the rig id and both key ids are bound as
 * associated data, so a wrapped key cannot be replayed to another rig or relabelled. Binary fields are base64url.
 */
export interface WrappedKey {
  readonly v: 1;
  /** The rig key it is encrypted under (one the rig already holds). */
  readonly wrappingKeyId: string;
  /** The id of the key inside (public, authenticated). */
  readonly keyId: string;
  readonly salt: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

/** Encrypts `key` (id, secret, times) for `rigId` under `wrapping`, a key the rig already holds. */
export function wrapKey(key: SigningKey, wrapping: SigningKey, rigId: string): WrappedKey {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', wrapKeyFor(wrapping.secret, salt, rigId), iv);
  cipher.setAAD(associatedData(rigId, wrapping.id, key.id));
  const plaintext = Buffer.from(JSON.stringify({
    id: key.id, secret: key.secret.exposeBase64url(), created: key.created, notBefore: key.notBefore, expires: key.expires,
  }));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return {
    v: 1, wrappingKeyId: wrapping.id, keyId: key.id,
    salt: salt.toString('base64url'), iv: iv.toString('base64url'), ciphertext: ciphertext.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'),
  };
}

/**
 * Decrypts a WrappedKey received by `rigId`, with the rig's active key it names. Throws SecurityError
 * `key_unwrap_failed` (never echoing material) when the wrapping key is not usable or anything was tampered with.
 */
export function unwrapKey(wrapped: WrappedKey, keys: KeyResolver, rigId: string, now: number): SigningKey {
  const fail = (why: string, cause?: unknown) =>
    new SecurityError('key_unwrap_failed', `unwrapKey: key ${String(wrapped?.keyId)} for rig ${rigId}: ${why}`, { rigId }, { cause });
  if (wrapped?.v !== 1) throw fail('not a version 1 wrapped key');
  const wrapping = keys.lookup(rigId, wrapped.wrappingKeyId, now);
  if (!wrapping.ok) throw fail(`wrapping key ${wrapped.wrappingKeyId} is not usable (${wrapping.reason})`);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', wrapKeyFor(wrapping.key.secret, Buffer.from(wrapped.salt, 'base64url'), rigId), Buffer.from(wrapped.iv, 'base64url'));
    decipher.setAAD(associatedData(rigId, wrapped.wrappingKeyId, wrapped.keyId));
    decipher.setAuthTag(Buffer.from(wrapped.tag, 'base64url'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64url')), decipher.final()]);
  } catch (err) {
    throw fail('authentication failed (wrong rig, wrong key or tampered)', err);
  }
  try {
    const inner = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
    if (inner['id'] !== wrapped.keyId || typeof inner['secret'] !== 'string') throw fail('inconsistent contents');
    const times = ['created', 'notBefore', 'expires'].map((f) => inner[f]);
    if (!times.every((t) => Number.isSafeInteger(t))) throw fail('times are not epoch milliseconds');
    const [created, notBefore, expires] = times as [number, number, number];
    return { id: wrapped.keyId, secret: SecretBytes.fromBase64url(inner['secret']), created, notBefore, expires };
  } finally {
    plaintext.fill(0);
  }
}

function wrapKeyFor(secret: SecretBytes, salt: Buffer, rigId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret.expose(), salt, `${WRAP_DOMAIN}\0${rigId}`, 32));
}

function associatedData(rigId: string, wrappingKeyId: string, keyId: string): Buffer {
  return Buffer.from(`${WRAP_DOMAIN}\0${rigId}\0${wrappingKeyId}\0${keyId}`, 'utf8');
}
