import { INSPECT, REDACTED } from './redaction';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

/** One HMAC key of a principal (a rig, or an API client). Times are epoch milliseconds. */
export interface SigningKey {
  /** Unique within its principal; travels in the envelope's keyId. */
  readonly id: string;
  readonly secret: SecretBytes;
  readonly created: number;
  /** First instant the key may be used. */
  readonly notBefore: number;
  /** First instant the key may no longer be used. */
  readonly expires: number;
  /** Set when the key was retired by a rotation: it never signs or verifies again. */
  readonly retired?: boolean;
}

/** What a key looks like from outside: everything but the secret. */
export type KeyInfo = Omit<SigningKey, 'secret'> & { readonly state: KeyState };

export type KeyState = 'active' | 'retired' | 'not_yet_valid' | 'expired';

/** Why a key id cannot be used now. */
export type KeyRejectionReason = 'unknown_key' | 'retired_key' | 'key_not_yet_valid' | 'key_expired';

export type KeyLookup =
  | { readonly ok: true; readonly key: SigningKey }
  | { readonly ok: false; readonly reason: KeyRejectionReason };

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Rig ids (see isValidRigId) and API principals such as `alice@example.com`: printable ASCII, no spaces. */
const PRINCIPAL = /^[\x21-\x7e]{1,128}$/;

/** The state of a key at `now`. Retirement wins over time. */
export function keyState(key: Pick<SigningKey, 'notBefore' | 'expires' | 'retired'>, now: number): KeyState {
  if (key.retired) return 'retired';
  if (now < key.notBefore) return 'not_yet_valid';
  if (now >= key.expires) return 'expired';
  return 'active';
}

/**
 * Several keys per principal, so a rotation has an overlap window: add the new key, sign with it (the newest active
 * key signs), keep verifying with the old one until every command it signed has expired, then retire the old one.
 * Pure state: the caller persists it and passes `now`.
 */
export class KeyRing {
  readonly #keys = new Map<string, Map<string, SigningKey>>();

  /** Adds a key. A key id is never reused within a principal, even after retirement or removal of that key. */
  add(principal: string, key: SigningKey): void {
    if (!PRINCIPAL.test(principal)) throw new SecurityError('invalid_argument', `KeyRing.add: principal ${JSON.stringify(principal)} must be 1-128 printable ASCII characters`);
    if (!ID.test(key.id)) throw new SecurityError('invalid_argument', `KeyRing.add: key id ${JSON.stringify(key.id)} must match ${ID}`, { principal });
    if (!(key.secret instanceof SecretBytes)) throw new SecurityError('invalid_secret', `KeyRing.add: key ${key.id} of ${principal} has no SecretBytes secret`, { principal, keyId: key.id });
    for (const field of ['created', 'notBefore', 'expires'] as const) {
      if (!Number.isSafeInteger(key[field])) {
        throw new SecurityError('invalid_argument', `KeyRing.add: key ${key.id} of ${principal}: ${field} must be epoch milliseconds`, { principal, keyId: key.id, field });
      }
    }
    if (key.expires <= key.notBefore) {
      throw new SecurityError('invalid_argument', `KeyRing.add: key ${key.id} of ${principal} expires before it becomes valid`, { principal, keyId: key.id });
    }
    let keys = this.#keys.get(principal);
    if (!keys) this.#keys.set(principal, (keys = new Map()));
    if (keys.has(key.id)) throw new SecurityError('duplicate_key', `KeyRing.add: ${principal} already has a key ${key.id}`, { principal, keyId: key.id });
    keys.set(key.id, { ...key });
  }

  /** Retires a key: from now on it neither signs nor verifies. Idempotent. */
  retire(principal: string, keyId: string): void {
    const key = this.#keys.get(principal)?.get(keyId);
    if (!key) throw new SecurityError('unknown_key', `KeyRing.retire: ${principal} has no key ${keyId}`, { principal, keyId });
    this.#keys.get(principal)?.set(keyId, { ...key, retired: true });
  }

  /** Forgets a key entirely (e.g. long after retirement). Verification then reports `unknown_key`. */
  remove(principal: string, keyId: string): boolean {
    return this.#keys.get(principal)?.delete(keyId) ?? false;
  }

  /** The key to sign with: the newest (by `created`, then `notBefore`, then id) active key. */
  signingKey(principal: string, now: number): SigningKey {
    checkNow(now, 'KeyRing.signingKey');
    let best: SigningKey | undefined;
    for (const key of this.#keys.get(principal)?.values() ?? []) {
      if (keyState(key, now) !== 'active') continue;
      if (!best || newer(key, best)) best = key;
    }
    if (!best) throw new SecurityError('no_active_key', `KeyRing.signingKey: ${principal} has no active key`, { principal, now });
    return best;
  }

  /** The key a received envelope names, if it may verify at `now`. */
  lookup(principal: string, keyId: string, now: number): KeyLookup {
    checkNow(now, 'KeyRing.lookup');
    const key = this.#keys.get(principal)?.get(keyId);
    if (!key) return { ok: false, reason: 'unknown_key' };
    switch (keyState(key, now)) {
      case 'active': return { ok: true, key };
      case 'retired': return { ok: false, reason: 'retired_key' };
      case 'not_yet_valid': return { ok: false, reason: 'key_not_yet_valid' };
      case 'expired': return { ok: false, reason: 'key_expired' };
    }
  }

  /** The principal's keys without their secrets, oldest first. */
  list(principal: string, now: number): KeyInfo[] {
    return [...(this.#keys.get(principal)?.values() ?? [])]
      .sort((a, b) => (newer(a, b) ? 1 : -1))
      .map(({ secret: _secret, ...info }) => ({ ...info, state: keyState(info, now) }));
  }

  principals(): string[] {
    return [...this.#keys.keys()];
  }

  toJSON(): unknown {
    return { principals: Object.fromEntries([...this.#keys].map(([p, keys]) => [p, [...keys.keys()]])), secrets: REDACTED };
  }

  [INSPECT](): string {
    return `KeyRing { principals: ${this.#keys.size}, secrets: ${REDACTED} }`;
  }
}

/** A NaN clock would make every key look active. */
function checkNow(now: number, operation: string): void {
  if (!Number.isFinite(now)) throw new SecurityError('invalid_argument', `${operation}: now must be epoch milliseconds, got ${now}`);
}

function newer(a: SigningKey, b: SigningKey): boolean {
  if (a.created !== b.created) return a.created > b.created;
  if (a.notBefore !== b.notBefore) return a.notBefore > b.notBefore;
  return a.id > b.id;
}
