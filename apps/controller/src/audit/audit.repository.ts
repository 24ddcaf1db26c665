import type { AuditChain, AuditChainCheck, ChainedAuditEntry } from '@rigwarden/security';
import type { AuditQuery, AuditRecord, AuditRow, AuditStore } from '../persistence/ports/audit.port';
import type { SqliteDatabase } from '../persistence/sqlite-database';

export type { AuditQuery, AuditRecord, AuditRow } from '../persistence/ports/audit.port';

/**
 * The append-only audit table (schema v7): triggers refuse UPDATE and DELETE, and each row's hash is an HMAC
 * (AuditChain) over the previous row's hash and its own fields, so an edit made around the triggers (another
 * SQLite client dropping them) is still detected by `verify()`. Appends run one at a time in the database's write
 * queue, so the chain has no forks.
 */
export class AuditRepository implements AuditStore {
  private last: ChainedAuditEntry | undefined;
  private loaded = false;

  constructor(private readonly db: SqliteDatabase, private readonly chain: AuditChain, private readonly now: () => number) {}

  async append(record: AuditRecord): Promise<AuditRow> {
    return this.db.transaction(async (tx) => {
      if (!this.loaded) {
        const row = await tx.get<AuditRow>('SELECT * FROM audit ORDER BY seq DESC LIMIT 1');
        this.last = row ? toEntry(row) : undefined;
        this.loaded = true;
      }
      const entry = this.chain.append({
        seq: (this.last?.seq ?? 0) + 1, at: this.now(), principal: record.principal, keyId: record.keyId ?? '',
        action: record.action, target: record.target, outcome: record.outcome, detail: JSON.stringify(record.detail ?? {}),
      }, this.last);
      await tx.run('INSERT INTO audit (seq, at, principal, key_id, action, target, outcome, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [entry.seq, entry.at, entry.principal, entry.keyId ?? '', entry.action, entry.target, entry.outcome, entry.detail ?? '{}', entry.mac]);
      this.last = entry;
      return toRow(entry);
    }).catch((err: unknown) => {
      this.loaded = false; // re-read the tail next time: the insert may or may not have happened
      throw err;
    });
  }

  /** Newest first. */
  query(q: AuditQuery = {}): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (q.principal) { where.push('principal = ?'); params.push(q.principal); }
    if (q.action) { where.push('action = ?'); params.push(q.action); }
    if (q.target) { where.push('target = ?'); params.push(q.target); }
    if (q.since !== undefined && q.since > 0) { where.push('at >= ?'); params.push(q.since); }
    const limit = Math.min(Math.max(1, q.limit || 100), 10_000);
    return this.db.all<AuditRow>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`, [...params, limit]);
  }

  /** The newest row's seq and hash: logged at start so rows cut off the end later can be noticed against it. */
  async anchor(): Promise<{ seq: number; hash: string }> {
    const row = await this.db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    return row ?? { seq: 0, hash: '' };
  }

  /** Checks the whole chain, oldest first: where it first breaks, or the anchor (last seq and hash). */
  async verify(): Promise<AuditChainCheck> {
    const rows = await this.db.all<AuditRow>('SELECT * FROM audit ORDER BY seq');
    return this.chain.verify(rows.map(toEntry));
  }
}

export function toEntry(row: AuditRow): ChainedAuditEntry {
  return {
    seq: row.seq, at: row.at, principal: row.principal, keyId: row.key_id, action: row.action, target: row.target,
    outcome: row.outcome, detail: row.detail, mac: row.hash,
  };
}

export function toRow(entry: ChainedAuditEntry): AuditRow {
  return {
    seq: entry.seq, at: entry.at, principal: entry.principal, key_id: entry.keyId ?? '', action: entry.action, target: entry.target,
    outcome: entry.outcome, detail: entry.detail ?? '{}', hash: entry.mac,
  };
}
