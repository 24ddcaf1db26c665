import { API_SCOPES, SecretBytes, isApiScope, type ApiKeyRecord, type ApiScope } from '@rigwarden/security';
import type { ApiKeyInfoRow, ApiKeyStore } from '../persistence/ports/api-key.port';
import type { SqliteDatabase } from '../persistence/sqlite-database';

/** A key that never expires is stored with expires NULL and read back as this. */
export const NEVER_EXPIRES = Number.MAX_SAFE_INTEGER;

export interface ApiKeyRow {
  id: string;
  name: string;
  scopes: string;
  hash: string;
  created: number;
  not_before: number;
  expires: number | null;
  revoked: number | null;
  last_used: number | null;
}

export type { ApiKeyInfoRow } from '../persistence/ports/api-key.port';

/** The scopes a key with `scope` holds (each scope includes the ones before it). */
export function impliedScopes(scope: ApiScope): ApiScope[] {
  return API_SCOPES.slice(0, API_SCOPES.indexOf(scope) + 1);
}

/** The widest of several scopes; undefined for an empty or invalid list. */
export function widestScope(scopes: readonly string[]): ApiScope | undefined {
  if (scopes.length === 0 || !scopes.every(isApiScope)) return undefined;
  return API_SCOPES[Math.max(...scopes.map((s) => API_SCOPES.indexOf(s as ApiScope)))];
}

/**
 * API keys in SQLite (table api_keys, schema v7). Reads the row on every lookup, so a revocation takes effect on the
 * next call. The hash column holds HMAC(pepper, id, secret): useless without the pepper, which is not in the database.
 */
export class ApiKeyRepository implements ApiKeyStore {
  constructor(private readonly db: SqliteDatabase) {}

  async insert(record: ApiKeyRecord, name: string): Promise<void> {
    await this.db.transaction((tx) => tx.run(
      `INSERT INTO api_keys (id, name, scopes, hash, created, not_before, expires, revoked, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
      [record.id, name, impliedScopes(record.scope).join(','), record.hash.exposeBase64url(), record.created, record.notBefore,
        record.expires >= NEVER_EXPIRES ? null : record.expires],
    ));
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?', [id]);
    return row ? toRecord(row) : undefined;
  }

  async info(id: string): Promise<ApiKeyInfoRow | undefined> {
    const row = await this.db.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?', [id]);
    return row ? toInfo(row) : undefined;
  }

  async list(): Promise<ApiKeyInfoRow[]> {
    const rows = await this.db.all<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created, id');
    return rows.map(toInfo);
  }

  /** Revokes from `now` on; idempotent (the first revocation time is kept). False for an unknown id. */
  async revoke(id: string, now: number): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) => tx.run('UPDATE api_keys SET revoked = COALESCE(revoked, ?) WHERE id = ?', [now, id]));
    return changes > 0;
  }

  async markUsed(id: string, now: number): Promise<void> {
    await this.db.transaction((tx) => tx.run('UPDATE api_keys SET last_used = MAX(COALESCE(last_used, 0), ?) WHERE id = ?', [now, id]));
  }

  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM api_keys'))?.n ?? 0;
  }

  /** Is there an admin key that works at `now` (not revoked, within its validity)? */
  async hasActiveAdmin(now: number): Promise<boolean> {
    const row = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM api_keys WHERE revoked IS NULL AND not_before <= ? AND (expires IS NULL OR expires > ?)
         AND (',' || scopes || ',') LIKE '%,admin,%'`,
      [now, now],
    );
    return (row?.n ?? 0) > 0;
  }
}

export function toRecord(row: ApiKeyRow): ApiKeyRecord {
  const scope = widestScope(row.scopes.split(','));
  return {
    id: row.id,
    principal: row.name,
    // A row with an unreadable scope list grants nothing: read is the least, and the key is also marked expired.
    scope: scope ?? 'read',
    hash: SecretBytes.fromBase64url(row.hash),
    created: row.created,
    notBefore: row.not_before,
    expires: scope === undefined ? row.not_before : row.expires ?? NEVER_EXPIRES,
    ...(row.revoked !== null ? { revoked: row.revoked } : {}),
    ...(row.last_used !== null ? { lastUsed: row.last_used } : {}),
  };
}

export function toInfo(row: ApiKeyRow): ApiKeyInfoRow {
  return {
    id: row.id, name: row.name, scopes: row.scopes.split(',').filter(isApiScope), created: row.created, notBefore: row.not_before,
    ...(row.expires !== null ? { expires: row.expires } : {}),
    ...(row.revoked !== null ? { revoked: row.revoked } : {}),
    ...(row.last_used !== null ? { lastUsed: row.last_used } : {}),
  };
}
