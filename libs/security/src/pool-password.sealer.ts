import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SetPools } from '@rigwarden/protocol';
import type { KeyResolver } from './envelope.verifier';
import type { SigningKey } from './key-ring';
import type { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

const DOMAIN = 'rigwarden/pool-password/v1';
/** Padding block: the ciphertext tells a password's length only to within this many bytes. */
const BLOCK = 32;
/** Longest password that can be sealed (bytes of UTF-8). */
export const MAX_POOL_PASSWORD_BYTES = 1024;
const SEALED = /^rwp1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9._:-]{1,128})$/;

/** Where a sealed password belongs: it opens only there (bound as associated data). */
export interface PoolPasswordContext {
  readonly rigId: string;
  readonly commandId: string;
  /** The pool's position in SetPools.pools. */
  readonly poolIndex: number;
}

/** True for what `sealPoolPassword` produces (not a proof that it opens). */
export function isSealedPoolPassword(value: string): boolean {
  return SEALED.test(value);
}

/**
 * Encrypts a pool password to a rig key, so that only that rig can read it: the broker, its persistence, anyone
 * subscribed to the commands topic and the controller's commands table hold only this. AES-256-GCM under a key
 * derived by HKDF-SHA256 from the rig key's secret (a fresh salt each time; never the HMAC key itself), with the
 * rig id, command id, key id and pool index bound as associated data, so it cannot be moved to another rig, command
 * or pool. The plaintext is padded to a multiple of 32 bytes. Format (base64url fields, key id last because it may
 * hold dots): `rwp1.<salt>.<iv>.<ciphertext>.<tag>.<keyId>`. An empty password stays empty.
 */
export function sealPoolPassword(password: string, key: Pick<SigningKey, 'id' | 'secret'>, context: PoolPasswordContext): string {
  if (password === '') return '';
  const bytes = Buffer.from(password, 'utf8');
  if (bytes.length > MAX_POOL_PASSWORD_BYTES) {
    throw new SecurityError('invalid_argument', `sealPoolPassword: the password of pool ${context.poolIndex} is longer than ${MAX_POOL_PASSWORD_BYTES} bytes`, { rigId: context.rigId, field: `pools[${context.poolIndex}].password` });
  }
  const plaintext = Buffer.alloc(Math.ceil((bytes.length + 2) / BLOCK) * BLOCK);
  plaintext.writeUInt16BE(bytes.length);
  bytes.copy(plaintext, 2);
  bytes.fill(0);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(key.secret, salt, context.rigId), iv);
  cipher.setAAD(associatedData(context, key.id));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return ['rwp1', salt, iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.') + `.${key.id}`;
}

/**
 * Decrypts a sealed pool password with the rig's key it names (any key active at `now`). Throws SecurityError
 * `pool_password_unseal_failed` (never echoing material) for a clear password, an unusable key or any tampering.
 */
export function openPoolPassword(sealed: string, keys: KeyResolver, context: PoolPasswordContext, now: number): string {
  const fail = (why: string, cause?: unknown) => new SecurityError('pool_password_unseal_failed',
    `openPoolPassword: pool ${context.poolIndex} of command ${context.commandId} for rig ${context.rigId}: ${why}`, { rigId: context.rigId, field: `pools[${context.poolIndex}].password` }, { cause });
  if (sealed === '') return '';
  const match = SEALED.exec(sealed);
  if (!match) throw fail('the password is not sealed to the rig key (a clear password is refused)');
  const [, salt, iv, ciphertext, tag, keyId] = match as unknown as [string, string, string, string, string, string];
  const key = keys.lookup(context.rigId, keyId, now);
  if (!key.ok) throw fail(`it is sealed to key ${keyId}, which is not usable (${key.reason})`);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', derive(key.key.secret, Buffer.from(salt, 'base64url'), context.rigId), Buffer.from(iv, 'base64url'));
    decipher.setAAD(associatedData(context, keyId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch (err) {
    throw fail('authentication failed (wrong rig, command, pool or key, or tampered)', err);
  }
  try {
    const length = plaintext.length >= 2 ? plaintext.readUInt16BE(0) : -1;
    if (length < 0 || length + 2 > plaintext.length) throw fail('inconsistent contents');
    return plaintext.subarray(2, 2 + length).toString('utf8');
  } finally {
    plaintext.fill(0);
  }
}

/** SetPools with every password sealed to `key` for this rig and command (the controller, before storing it). */
export function sealSetPools(setPools: SetPools, key: Pick<SigningKey, 'id' | 'secret'>, rigId: string, commandId: string): SetPools {
  return {
    ...setPools,
    pools: setPools.pools.map((pool, poolIndex) => ({
      ...pool,
      password: sealPoolPassword(pool.password, key, { rigId, commandId, poolIndex }),
    })),
  };
}

/** SetPools with every password opened (the agent, just before executing). Throws like `openPoolPassword`. */
export function openSetPools(setPools: SetPools, keys: KeyResolver, rigId: string, commandId: string, now: number): SetPools {
  return {
    ...setPools,
    pools: setPools.pools.map((pool, poolIndex) => ({ ...pool, password: openPoolPassword(pool.password, keys, { rigId, commandId, poolIndex }, now) })),
  };
}

function derive(secret: SecretBytes, salt: Buffer, rigId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret.expose(), salt, `${DOMAIN}\0${rigId}`, 32));
}

function associatedData(context: PoolPasswordContext, keyId: string): Buffer {
  return Buffer.from(`${DOMAIN}\0${context.rigId}\0${context.commandId}\0${keyId}\0${context.poolIndex}`, 'utf8');
}
