import { parseApiKeyToken, type ApiKeyHasher, type ApiKeyRecord } from './api-key.hasher';
import { allows, type ApiScope } from './api-scope';
import { INSPECT } from './redaction';
import { SecurityError } from './security-error';

/** Where the authenticator reads keys: the controller's repository (SQLite), or the in-memory store. */
export interface ApiKeyLookup {
  findById(id: string): ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined>;
}

export const API_KEY_REJECTIONS = [
  'missing', 'malformed', 'unknown_key', 'bad_secret', 'revoked', 'key_not_yet_valid', 'expired', 'insufficient_scope',
] as const;

export type ApiKeyRejectionReason = (typeof API_KEY_REJECTIONS)[number];

export interface ApiKeyAccepted {
  readonly ok: true;
  readonly principal: string;
  readonly keyId: string;
  readonly scope: ApiScope;
}

export interface ApiKeyRejection {
  readonly ok: false;
  readonly reason: ApiKeyRejectionReason;
  /** gRPC UNAUTHENTICATED / HTTP 401, or PERMISSION_DENIED / 403 (a valid key without the scope). */
  readonly status: 'unauthenticated' | 'permission_denied';
  /** Set when the key id was readable: for the audit log, never the secret. */
  readonly keyId?: string;
  /** Set only for `insufficient_scope`, where the caller proved who they are. */
  readonly principal?: string;
}

export type ApiKeyAuthentication = ApiKeyAccepted | ApiKeyRejection;

export interface ApiKeyAuthenticatorOptions {
  readonly keys: ApiKeyLookup;
  readonly hasher: ApiKeyHasher;
  /** Called after a successful authentication so the caller can record last-used time. Awaited. */
  readonly onUsed?: (record: ApiKeyRecord, now: number) => void | Promise<void>;
  /** onUsed is skipped while the record's lastUsed is younger than this. Default 60,000 ms (0: every call). */
  readonly lastUsedResolutionMs?: number;
}

/**
 * Checks a presented API key against the stored hash and the scope an RPC requires. The secret is compared before
 * anything about the key's state is revealed, so without the secret every failure looks alike (`unknown_key` and
 * `bad_secret` take the same time). Reads the record on every call, so a revocation takes effect on the next call.
 */
export class ApiKeyAuthenticator {
  readonly #keys: ApiKeyLookup;
  readonly #hasher: ApiKeyHasher;
  readonly #onUsed: ApiKeyAuthenticatorOptions['onUsed'];
  readonly #resolution: number;

  constructor(options: ApiKeyAuthenticatorOptions) {
    this.#keys = options.keys;
    this.#hasher = options.hasher;
    this.#onUsed = options.onUsed;
    this.#resolution = options.lastUsedResolutionMs ?? 60_000;
  }

  async authenticate(presented: string | undefined, required: ApiScope, now: number): Promise<ApiKeyAuthentication> {
    if (!Number.isFinite(now)) throw new SecurityError('invalid_argument', `ApiKeyAuthenticator.authenticate: now must be epoch milliseconds, got ${now}`);
    if (presented === undefined || presented === '') return unauthenticated('missing');
    const parsed = parseApiKeyToken(presented);
    if (!parsed) return unauthenticated('malformed');
    const keyId = parsed.id;
    const record = await this.#keys.findById(keyId);
    const matches = this.#hasher.matches(record?.id === keyId ? record : undefined, keyId, parsed.secret);
    if (!record) return unauthenticated('unknown_key', keyId);
    if (!matches) return unauthenticated('bad_secret', keyId);
    if (record.revoked !== undefined) return unauthenticated('revoked', keyId);
    if (now < record.notBefore) return unauthenticated('key_not_yet_valid', keyId);
    if (now >= record.expires) return unauthenticated('expired', keyId);
    if (!allows(record.scope, required)) {
      return { ok: false, reason: 'insufficient_scope', status: 'permission_denied', keyId, principal: record.principal };
    }
    if (this.#onUsed && (record.lastUsed === undefined || now - record.lastUsed >= this.#resolution)) {
      await this.#onUsed(record, now);
    }
    return { ok: true, principal: record.principal, keyId, scope: record.scope };
  }

  [INSPECT](): string {
    return 'ApiKeyAuthenticator {}';
  }
}

function unauthenticated(reason: ApiKeyRejectionReason, keyId?: string): ApiKeyRejection {
  return { ok: false, reason, status: 'unauthenticated', ...(keyId ? { keyId } : {}) };
}
