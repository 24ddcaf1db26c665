import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { INSPECT, REDACTED } from './redaction';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

const SEAL_DOMAIN = 'rigwarden/sealed-secret/v1';
const PREFIX = 'rws1';
const MASTER_ID = /^[A-Za-z0-9_-]{1,32}$/;
const SEALED = /^rws1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/;

/** One master key: `id` travels in every sealed value so old values stay readable after a master-key rotation. */
export interface MasterKey {
  readonly id: string;
  readonly secret: SecretBytes;
}

/**
 * Encrypts secrets that must be stored readable (a rig's HMAC secret: the controller signs with it) so database rows,
 * backups and dumps hold none in the clear. AES-256-GCM under a key derived by HKDF-SHA256 from a master key kept
 * outside the database; `context` (e.g. `rig-key:rig-7:k1`) is bound as associated data, so a sealed value copied to
 * another row does not open there. Format, one text column: `rws1.<masterKeyId>.<iv>.<ciphertext>.<tag>` (base64url).
 *
 * Several master keys: the first seals, any opens; `needsReseal` tells which values to rewrite after a rotation.
 */
export class SecretSealer {
  readonly #keys: ReadonlyMap<string, SecretBytes>;
  readonly #sealingId: string;

  constructor(masterKeys: readonly MasterKey[]) {
    if (masterKeys.length === 0) throw new SecurityError('invalid_argument', 'SecretSealer: at least one master key is needed');
    const keys = new Map<string, SecretBytes>();
    for (const key of masterKeys) {
      if (!MASTER_ID.test(key.id)) throw new SecurityError('invalid_argument', `SecretSealer: master key id ${JSON.stringify(key.id)} must be 1-32 of A-Z a-z 0-9 _ -`);
      if (!(key.secret instanceof SecretBytes)) throw new SecurityError('invalid_secret', `SecretSealer: master key ${key.id} has no SecretBytes secret`);
      if (keys.has(key.id)) throw new SecurityError('duplicate_key', `SecretSealer: master key ${key.id} appears twice`, { keyId: key.id });
      keys.set(key.id, key.secret);
    }
    this.#keys = keys;
    this.#sealingId = (masterKeys[0] as MasterKey).id;
  }

  seal(secret: SecretBytes, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#derive(this.#sealingId), iv);
    cipher.setAAD(aad(this.#sealingId, context));
    const ciphertext = Buffer.concat([cipher.update(secret.expose()), cipher.final()]);
    return [PREFIX, this.#sealingId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Opens a sealed value for `context`; `secret_unseal_failed` for a wrong context, an unknown master key or tampering. */
  open(sealed: string, context: string): SecretBytes {
    const match = typeof sealed === 'string' ? SEALED.exec(sealed) : null;
    const fail = (why: string, cause?: unknown) =>
      new SecurityError('secret_unseal_failed', `SecretSealer.open: ${why} (context ${JSON.stringify(context)})`, { context }, { cause });
    if (!match) throw fail('not a sealed secret (rws1.<key>.<iv>.<ciphertext>.<tag>)');
    const [, masterId, iv, ciphertext, tag] = match as unknown as [string, string, string, string, string];
    if (!this.#keys.has(masterId)) throw fail(`master key ${masterId} is not configured`);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#derive(masterId), Buffer.from(iv, 'base64url'));
      decipher.setAAD(aad(masterId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    } catch (err) {
      throw fail('authentication failed (wrong context, wrong master key or tampered)', err);
    }
    try {
      return SecretBytes.from(plaintext, 1);
    } finally {
      plaintext.fill(0);
    }
  }

  /** True when `sealed` was sealed with another master key than the current one: rewrite it with `seal(open(..))`. */
  needsReseal(sealed: string): boolean {
    return SEALED.exec(sealed)?.[1] !== this.#sealingId;
  }

  #derive(masterId: string): Buffer {
    return Buffer.from(hkdfSync('sha256', (this.#keys.get(masterId) as SecretBytes).expose(), Buffer.alloc(0), `${SEAL_DOMAIN}\0${masterId}`, 32));
  }

  toJSON(): unknown {
    return { sealer: 'aes-256-gcm', masterKeys: [...this.#keys.keys()], secrets: REDACTED };
  }

  [INSPECT](): string {
    return `SecretSealer { masterKeys: ${JSON.stringify([...this.#keys.keys()])}, secrets: ${REDACTED} }`;
  }
}

function aad(masterId: string, context: string): Buffer {
  return Buffer.from(`${SEAL_DOMAIN}\0${masterId}\0${context}`, 'utf8');
}
