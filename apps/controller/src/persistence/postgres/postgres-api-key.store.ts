import type { ApiKeyRecord } from '@rigwarden/security';
import { impliedScopes, NEVER_EXPIRES, toInfo, toRecord, type ApiKeyRow } from '../../security/api-key.repository';
import type { ApiKeyInfoRow, ApiKeyStore } from '../ports/api-key.port';
import type { PostgresDatabase } from './postgres-database';

/** API keys in PostgreSQL: the same rows as the SQLite ApiKeyRepository (only the HMAC of each secret). */
export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: PostgresDatabase) {}

  async insert(record: ApiKeyRecord, name: string): Promise<void> {
    await this.db.run(
      'INSERT INTO api_keys (id, name, scopes, hash, created, not_before, expires, revoked, last_used) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)',
      [record.id, name, impliedScopes(record.scope).join(','), record.hash.exposeBase64url(), record.created, record.notBefore,
        record.expires >= NEVER_EXPIRES ? null : record.expires],
    );
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    return row ? toRecord(row) : undefined;
  }

  async info(id: string): Promise<ApiKeyInfoRow | undefined> {
    const row = await this.db.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    return row ? toInfo(row) : undefined;
  }

  async list(): Promise<ApiKeyInfoRow[]> {
    return (await this.db.all<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created, id')).map(toInfo);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked = COALESCE(revoked, $1) WHERE id = $2', [now, id])) > 0;
  }

  async markUsed(id: string, now: number): Promise<void> {
    await this.db.run('UPDATE api_keys SET last_used = GREATEST(COALESCE(last_used, 0), $1) WHERE id = $2', [now, id]);
  }

  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM api_keys'))?.n ?? 0;
  }

  async hasActiveAdmin(now: number): Promise<boolean> {
    const row = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM api_keys WHERE revoked IS NULL AND not_before <= $1 AND (expires IS NULL OR expires > $1)
         AND (',' || scopes || ',') LIKE '%,admin,%'`,
      [now],
    );
    return (row?.n ?? 0) > 0;
  }
}
