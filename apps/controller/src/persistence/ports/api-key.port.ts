import type { ApiKeyLookup, ApiKeyRecord, ApiScope } from '@rigwarden/security';

/** Everything about a key but its hash: what `rigctl keys list` shows. */
export interface ApiKeyInfoRow {
  id: string;
  name: string;
  scopes: ApiScope[];
  created: number;
  notBefore: number;
  /** Undefined: never expires. */
  expires?: number;
  revoked?: number;
  lastUsed?: number;
}

/** API keys: only HMAC(pepper, id, secret) is stored; every lookup reads the row, so a revocation holds at once. */
export interface ApiKeyStore extends ApiKeyLookup {
  insert(record: ApiKeyRecord, name: string): Promise<void>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  info(id: string): Promise<ApiKeyInfoRow | undefined>;
  list(): Promise<ApiKeyInfoRow[]>;
  /** Revokes from `now` on; idempotent (the first revocation time is kept). False for an unknown id. */
  revoke(id: string, now: number): Promise<boolean>;
  markUsed(id: string, now: number): Promise<void>;
  count(): Promise<number>;
  /** Is there an admin key that works at `now` (not revoked, within its validity)? */
  hasActiveAdmin(now: number): Promise<boolean>;
}

export const API_KEY_STORE = Symbol('ApiKeyStore');
