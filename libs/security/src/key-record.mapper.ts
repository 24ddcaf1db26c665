import type { SigningKey } from './key-ring';
import type { SecretSealer } from './secret.sealer';
import { SecurityError } from './security-error';

/** A rig key as one database row: the secret sealed, everything else in the clear (and safe to log). */
export interface StoredKey {
  readonly principal: string;
  readonly id: string;
  /** `rws1.…`, see SecretSealer; bound to `rig-key:<principal>:<id>`. */
  readonly sealedSecret: string;
  readonly created: number;
  readonly notBefore: number;
  readonly expires: number;
  readonly retired: boolean;
}

/** The sealing context of a key row: a sealed secret copied to another principal's or key's row does not open. */
export function keyRecordContext(principal: string, keyId: string): string {
  return `rig-key:${principal}:${keyId}`;
}

export function toStoredKey(principal: string, key: SigningKey, sealer: SecretSealer): StoredKey {
  return {
    principal, id: key.id, sealedSecret: sealer.seal(key.secret, keyRecordContext(principal, key.id)),
    created: key.created, notBefore: key.notBefore, expires: key.expires, retired: key.retired === true,
  };
}

/** Opens a row back into a SigningKey (for `KeyRing.add(row.principal, ...)`). */
export function fromStoredKey(row: StoredKey, sealer: SecretSealer): SigningKey {
  for (const field of ['created', 'notBefore', 'expires'] as const) {
    if (!Number.isSafeInteger(row[field])) {
      throw new SecurityError('invalid_argument', `fromStoredKey: key ${row.id} of ${row.principal}: ${field} must be epoch milliseconds`, { principal: row.principal, keyId: row.id, field });
    }
  }
  const secret = sealer.open(row.sealedSecret, keyRecordContext(row.principal, row.id));
  return { id: row.id, secret, created: row.created, notBefore: row.notBefore, expires: row.expires, ...(row.retired ? { retired: true } : {}) };
}
