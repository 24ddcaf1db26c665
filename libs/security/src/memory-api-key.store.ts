import type { ApiKeyRecord } from './api-key.hasher';
import type { ApiKeyLookup } from './api-key.authenticator';
import { SecurityError } from './security-error';

/** API keys in memory: for tests, the simulator farm and as the reference for the controller's SQLite repository. */
export class MemoryApiKeyStore implements ApiKeyLookup {
  readonly #records = new Map<string, ApiKeyRecord>();

  add(record: ApiKeyRecord): void {
    if (this.#records.has(record.id)) throw new SecurityError('duplicate_key', `MemoryApiKeyStore.add: key ${record.id} exists`, { keyId: record.id });
    this.#records.set(record.id, record);
  }

  findById(id: string): ApiKeyRecord | undefined {
    return this.#records.get(id);
  }

  /** Revokes a key from `now` on. Idempotent: the first revocation time is kept. */
  revoke(id: string, now: number): void {
    const record = this.#records.get(id);
    if (!record) throw new SecurityError('unknown_key', `MemoryApiKeyStore.revoke: no key ${id}`, { keyId: id });
    if (record.revoked === undefined) this.#records.set(id, { ...record, revoked: now });
  }

  /** The last-used hook for ApiKeyAuthenticator. */
  markUsed(id: string, now: number): void {
    const record = this.#records.get(id);
    if (record) this.#records.set(id, { ...record, lastUsed: now });
  }

  /** A principal's keys, for `rigctl keys list`. Records hold their hash as redacted SecretBytes. */
  listByPrincipal(principal: string): ApiKeyRecord[] {
    return [...this.#records.values()].filter((r) => r.principal === principal).sort((a, b) => a.created - b.created);
  }
}
