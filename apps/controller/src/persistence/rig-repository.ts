import { MinerSnapshot, RigState } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { LatestStatusCache } from './latest-status.cache';
import type { RigRecord, RigStatusStore, WriteResult } from './ports/rig-status.port';
import { SNAPSHOT_COLUMNS, SnapshotBatch, type NewestKey } from './ports/snapshot-batch';
import type { SqliteDatabase, SqlValue } from './sqlite-database';

export type { RigRecord, WriteResult } from './ports/rig-status.port';
export { SnapshotBatch, type NewestKey } from './ports/snapshot-batch';

export interface RigRow {
  rig_id: string;
  agent_id: string | null;
  online: number;
  state_at: number | null;
  last_seen: number | null;
  last_seq: number;
  /** JSON object (schema v6). */
  labels: string;
  /** The controller's liveness verdict (schema v9; '' before its first sweep). */
  liveness?: string;
}

/** Rigs whose stored agent id is remembered, so that ingest writes their rigs row only when it changes. */
const MAX_KNOWN_RIGS = 200_000;

/** Rows per multi-row statement: big enough to amortise the per-statement cost, under SQLite's 32,766 parameters. */
const ROWS_PER_STATEMENT = 250;

/** `(?, ?, ...)` repeated `rows` times. */
function valuesList(rows: number, row: string): string {
  return Array(rows).fill(row).join(', ');
}

/** A multi-row statement by its row count; the full-size text is built once. */
function statementText(build: (rows: number) => string): (rows: number) => string {
  const full = build(ROWS_PER_STATEMENT);
  return (rows) => (rows === ROWS_PER_STATEMENT ? full : build(rows));
}

const insertSnapshots = statementText((rows) =>
  `INSERT INTO snapshots (rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot) VALUES ${valuesList(rows, '(?, ?, ?, ?, ?, ?, CAST(? AS TEXT))')}
   ON CONFLICT (rig_id, seq) DO NOTHING`);
// The latest status per miner, from the rows one INSERT just stored (its rowid range): SQLite reads them back from
// its page cache instead of every value being bound once more. The newest seq of each miner wins.
const upsertMinerStatus = `INSERT INTO miner_status (rig_id, miner_id, seq, collected_at)
   SELECT rig_id, miner_id, seq, collected_at FROM snapshots WHERE id > ? AND id <= ?
   ON CONFLICT (rig_id, miner_id) DO UPDATE SET seq = excluded.seq, collected_at = excluded.collected_at
   WHERE excluded.seq > miner_status.seq`;
// Only for rigs that are new or report through another agent: last seen time and seq are read from miner_status.
const upsertRigs = statementText((rows) =>
  `INSERT INTO rigs (rig_id, agent_id, online) VALUES ${valuesList(rows, '(?, ?, 1)')}
   ON CONFLICT (rig_id) DO UPDATE SET agent_id = excluded.agent_id`);

/**
 * Rigs, their latest status, and raw snapshots in SQLite. The latest status of the rigs read is kept in a
 * LatestStatusCache (see there for its rules); this class keeps the SQL side: batch INSERTs of the payload bytes as
 * received, miner status read back from the rows just stored, a rig's row written only when it is new or reports
 * through another agent.
 */
export class RigRepository implements RigStatusStore {
  /** The agent id stored in each rig's row, for rigs this repository wrote (null: none). */
  private readonly storedAgent = new Map<string, string | null>();

  constructor(private readonly db: SqliteDatabase, readonly cache: LatestStatusCache = new LatestStatusCache()) {}

  /**
   * Stores a batch of decoded snapshots in one transaction. Duplicates (rig, seq) are skipped.
   * `json` is each snapshot's proto3 JSON text (by default serialised here); ingest gathers its batches in a
   * SnapshotBatch instead and calls writeBatch.
   */
  async writeSnapshots(batch: MinerSnapshot[], json: Array<string | Buffer> = batch.map((s) => JSON.stringify(MinerSnapshot.toJSON(s)))): Promise<WriteResult> {
    if (json.length !== batch.length) throw new RangeError(`writeSnapshots: ${batch.length} snapshots but ${json.length} JSON texts`);
    const rows = new SnapshotBatch();
    for (let k = 0; k < batch.length; k++) rows.add(batch[k]!, json[k]!);
    let result: WriteResult;
    try {
      result = await this.writeBatch(rows);
    } catch (err) {
      // Nobody retries these: a load that read them inside the rolled-back transaction must not stay cached.
      for (const s of batch) this.cache.drop(s.rigId);
      throw err;
    }
    // Older or repeated seqs change nothing, as in the upsert: a duplicate row is already in its miner's status.
    for (const s of batch) this.cache.applyStored(s);
    return result;
  }

  /** See LatestStatusCache.receive. */
  receive(s: MinerSnapshot): void {
    this.cache.receive(s);
  }

  /**
   * Stores a SnapshotBatch in one transaction (ingest's path: it calls receive for each snapshot it adds, and retries
   * a batch that fails, so a failure leaves the latest status in memory as it is). Duplicates (rig, seq) are skipped. Each table gets one multi-row
   * statement per 250 rows, through statements that stay prepared; each miner's latest status follows from the rows
   * stored (the newest seq wins), a rig's row is written when the rig is new or reports through another agent.
   */
  async writeBatch(batch: SnapshotBatch): Promise<WriteResult> {
    const size = batch.size;
    if (size === 0) return { inserted: 0, duplicates: 0 };
    let written: { inserted: number; rigAgents: SqlValue[] };
    try {
      written = await this.db.transaction(async (tx) => {
        const chunks = await this.inChunks<{ changes: number; lastID: number }>(batch.params, SNAPSHOT_COLUMNS, insertSnapshots,
          (sql, params) => tx.runCached(sql, params).then((r) => [r]), (sql, params) => tx.run(sql, params).then((r) => [r]));
        const inserted = chunks.reduce((n, c) => n + c.changes, 0);
        let newest = batch.newest();
        if (inserted < size) {
          // Duplicates were skipped; no RETURNING (one JS object per row), since they are rare. The rows inserted in
          // this transaction got consecutive rowids (max + 1, no other writer), the last one is the highest lastID.
          // A miner's newest snapshot that was a duplicate is already in its status (stored with it, or with a newer
          // one), and so is anything older of that miner in this batch: its status is left as it is.
          const lastID = Math.max(...chunks.map((c) => c.lastID));
          const stored = inserted === 0 ? [] : await tx.all<{ rig_id: string; seq: number }>('SELECT rig_id, seq FROM snapshots WHERE id > ? AND id <= ?', [lastID - inserted, lastID]);
          const isNew = new Set(stored.map((r) => `${r.rig_id}\u0000${r.seq}`));
          newest = newest.filter((s) => isNew.has(`${s.rigId}\u0000${s.seq}`));
        }
        // The newest per rig is the newest of its miners' newest (seq counts per rig).
        const newestPerRig = new Map<string, NewestKey>();
        for (const s of newest) if ((newestPerRig.get(s.rigId)?.seq ?? 0) < s.seq) newestPerRig.set(s.rigId, s);
        const rigParams: SqlValue[] = [];
        for (const s of newestPerRig.values()) if (this.storedAgent.get(s.rigId) !== (s.agentId || null)) rigParams.push(s.rigId, s.agentId || null);
        const run = (sql: string, params: SqlValue[]): Promise<unknown[]> => tx.runCached(sql, params).then(() => []);
        const runOnce = (sql: string, params: SqlValue[]): Promise<unknown[]> => tx.run(sql, params).then(() => []);
        // Each INSERT stored its rows under consecutive rowids ending at its lastID (skipped duplicates take none).
        const statusUpserts = chunks.filter((c) => c.changes > 0).map((c) => run(upsertMinerStatus, [c.lastID - c.changes, c.lastID]));
        await settleAll([...statusUpserts, this.inChunks(rigParams, 2, upsertRigs, run, runOnce)]);
        return { inserted, rigAgents: rigParams };
      });
    } catch (err) {
      this.cache.batchDone(batch, false);
      throw err;
    }
    // A getRig that read these rigs while this transaction ran may hold older status: it must not be cached.
    this.cache.batchDone(batch, true);
    for (let i = 0; i < written.rigAgents.length; i += 2) this.rememberAgent(written.rigAgents[i] as string, written.rigAgents[i + 1] as string | null);
    return { inserted: written.inserted, duplicates: size - written.inserted };
  }

  /**
   * Runs `sql(rows)` over `params` in chunks of ROWS_PER_STATEMENT rows and concatenates what they return. Full chunks
   * go through `cached` (one statement prepared for good), the last shorter one through `once`. The chunks are queued
   * together, so they run back to back on the database thread without a round trip through the event loop each.
   */
  private async inChunks<T>(
    params: SqlValue[], perRow: number, sql: (rows: number) => string,
    cached: (sql: string, params: SqlValue[]) => Promise<unknown[]>, once: (sql: string, params: SqlValue[]) => Promise<unknown[]>,
  ): Promise<T[]> {
    const size = ROWS_PER_STATEMENT * perRow;
    const results: Array<Promise<unknown[]>> = [];
    for (let i = 0; i < params.length; i += size) {
      const part = params.slice(i, i + size);
      const rows = part.length / perRow;
      results.push(rows === ROWS_PER_STATEMENT ? cached(sql(rows), part) : once(sql(rows), part));
    }
    return (await settleAll(results)).flat() as T[];
  }

  /** The agent id now stored in a rig's row (bounded: a rig forgotten is written once more). */
  private rememberAgent(rigId: string, agentId: string | null): void {
    if (!this.storedAgent.has(rigId) && this.storedAgent.size >= MAX_KNOWN_RIGS) this.storedAgent.delete(this.storedAgent.keys().next().value!);
    this.storedAgent.set(rigId, agentId);
  }

  /** Records a rig's retained state (birth or last will). Older states than the stored one are ignored. */
  async writeState(state: RigState): Promise<void> {
    const at = state.at!.getTime();
    await this.db.transaction((tx) => tx.run(
      `INSERT INTO rigs (rig_id, agent_id, online, state_at, labels) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (rig_id) DO UPDATE SET online = excluded.online, state_at = excluded.state_at, agent_id = excluded.agent_id, labels = excluded.labels
       WHERE rigs.state_at IS NULL OR excluded.state_at >= rigs.state_at`,
      [state.rigId, state.agentId || null, state.online ? 1 : 0, at, JSON.stringify(state.labels ?? {})],
    ));
    // Read again from SQLite next time (states are rare); a load running now read the old state.
    this.cache.drop(state.rigId);
    this.storedAgent.delete(state.rigId); // the state may have set another agent: the next batch writes the row again
  }

  /** Another writer changed the rig's row (the liveness sweep's online column): read it from SQLite next time. */
  forget(rigId: string): void {
    this.cache.drop(rigId);
  }

  /** A page of rigs in id order; the latest status of rigs already in memory is not read and decoded again. */
  async listRigs(limit: number, afterRigId: string): Promise<RigRecord[]> {
    const rows = await this.db.all<RigRow>('SELECT * FROM rigs_seen WHERE rig_id > ? ORDER BY rig_id LIMIT ?', [afterRigId, limit]);
    const cached = rows.map((r) => this.cache.get(r.rig_id));
    const loaded = await this.withMiners(rows.filter((_, i) => cached[i] === undefined));
    let next = 0;
    return rows.map((_, i) => cached[i] ?? loaded[next++]!);
  }

  /** The rig's latest status: from memory once read, else from SQLite. Do not change the record returned. */
  getRig(rigId: string): Promise<RigRecord | undefined> {
    return this.cache.load(rigId, async () => {
      const row = await this.db.get<RigRow>('SELECT * FROM rigs_seen WHERE rig_id = ?', [rigId]);
      return row ? (await this.withMiners([row]))[0]! : undefined;
    });
  }

  private readonly warnedRows = new Set<string>();
  private readonly logger = createLogger('controller.persistence');

  private badRow(rigId: string, err: unknown): void {
    if (this.warnedRows.has(rigId) || this.warnedRows.size > 10_000) return;
    this.warnedRows.add(rigId);
    this.logger.warn('a stored snapshot cannot be read; the rig is shown without it until its next snapshot', { rig: rigId, error: err instanceof Error ? err.message : String(err) });
  }

  private async withMiners(rows: RigRow[]): Promise<RigRecord[]> {
    if (rows.length === 0) return [];
    const status = await this.db.all<{ rig_id: string; snapshot: string }>(
      `SELECT m.rig_id, s.snapshot FROM miner_status m JOIN snapshots s ON s.rig_id = m.rig_id AND s.seq = m.seq AND s.miner_id = m.miner_id
        WHERE m.rig_id IN (${rows.map(() => '?').join(', ')}) ORDER BY m.rig_id, m.miner_id`,
      rows.map((r) => r.rig_id),
    );
    const byRig = new Map<string, MinerSnapshot[]>();
    for (const s of status) {
      const list = byRig.get(s.rig_id) ?? [];
      // One bad row (stored by a release without today's edge checks) must not break a fleet-wide read: it is left
      // out of its rig's status, with a warning, and the next snapshot of that miner replaces it.
      try {
        list.push(readStoredSnapshot(s.snapshot));
      } catch (err) {
        this.badRow(s.rig_id, err);
      }
      byRig.set(s.rig_id, list);
    }
    return rows.map((r) => ({
      rigId: r.rig_id,
      online: r.online === 1,
      lastSeen: r.last_seen === null || !Number.isFinite(r.last_seen) ? undefined : new Date(r.last_seen),
      lastSeq: Number.isSafeInteger(r.last_seq) ? r.last_seq : 0,
      miners: byRig.get(r.rig_id) ?? [],
      labels: JSON.parse(r.labels || '{}') as Record<string, string>,
      ...(r.liveness ? { liveness: r.liveness } : {}),
    }));
  }
}

/**
 * Promise.all that waits for every statement before it fails: statements queued together on the connection must all
 * have run before the transaction's ROLLBACK, or one still queued would run after it, outside any transaction.
 */
async function settleAll<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** A stored snapshot as the API will serialize it (also read by the PostgreSQL store): a seq that is no safe integer or a time that is no time throws here, not there. */
export function readStoredSnapshot(text: string): MinerSnapshot {
  const snapshot = MinerSnapshot.fromJSON(JSON.parse(text));
  if (!Number.isSafeInteger(snapshot.seq) || snapshot.seq < 0) throw new Error(`seq ${String(snapshot.seq)} is not a safe integer`);
  MinerSnapshot.toJSON(snapshot); // throws on an invalid Date ("Invalid time value")
  return snapshot;
}
