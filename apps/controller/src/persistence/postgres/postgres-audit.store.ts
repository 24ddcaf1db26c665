import type { AuditChain, AuditChainCheck } from '@rigwarden/security';
import { toEntry, toRow } from '../../audit/audit.repository';
import type { AuditQuery, AuditRecord, AuditRow, AuditStore } from '../ports/audit.port';
import type { PostgresDatabase } from './postgres-database';

/** Serialises appends of every controller on this database (an arbitrary, fixed key). */
const AUDIT_LOCK = 7_345_002;

/**
 * The append-only, hash-chained audit log in PostgreSQL. Each append takes a transaction-scoped advisory lock and
 * reads the tail again, so appends from several controllers still make one chain without forks; triggers refuse
 * UPDATE, DELETE and TRUNCATE.
 */
export class PostgresAuditStore implements AuditStore {
  constructor(private readonly db: PostgresDatabase, private readonly chain: AuditChain, private readonly now: () => number) {}

  append(record: AuditRecord): Promise<AuditRow> {
    return this.db.transaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const tail = await tx.get<AuditRow>('SELECT * FROM audit ORDER BY seq DESC LIMIT 1');
      const last = tail ? toEntry(tail) : undefined;
      const entry = this.chain.append({
        seq: (last?.seq ?? 0) + 1, at: this.now(), principal: record.principal, keyId: record.keyId ?? '',
        action: record.action, target: record.target, outcome: record.outcome, detail: JSON.stringify(record.detail ?? {}),
      }, last);
      await tx.run('INSERT INTO audit (seq, at, principal, key_id, action, target, outcome, detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [entry.seq, entry.at, entry.principal, entry.keyId ?? '', entry.action, entry.target, entry.outcome, entry.detail ?? '{}', entry.mac]);
      return toRow(entry);
    });
  }

  query(q: AuditQuery = {}): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    const add = (clause: string, value: string | number): void => { params.push(value); where.push(`${clause} $${params.length}`); };
    if (q.principal) add('principal =', q.principal);
    if (q.action) add('action =', q.action);
    if (q.target) add('target =', q.target);
    if (q.since !== undefined && q.since > 0) add('at >=', q.since);
    params.push(Math.min(Math.max(1, q.limit || 100), 10_000));
    return this.db.all<AuditRow>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`, params);
  }

  async anchor(): Promise<{ seq: number; hash: string }> {
    return (await this.db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')) ?? { seq: 0, hash: '' };
  }

  async verify(): Promise<AuditChainCheck> {
    return this.chain.verify((await this.db.all<AuditRow>('SELECT * FROM audit ORDER BY seq')).map(toEntry));
  }
}
