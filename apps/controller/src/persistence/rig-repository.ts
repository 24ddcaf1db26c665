import { MinerSnapshot, RigState } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import type { SqliteDatabase, SqlValue } from './sqlite-database';

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

export interface RigRecord {
  rigId: string;
  online: boolean;
  lastSeen?: Date;
  lastSeq: number;
  miners: MinerSnapshot[];
  /** The agent's labels from the retained state. */
  labels?: Record<string, string>;
  /** The liveness verdict stored by the controller's sweep (LivenessService has the current one). */
  liveness?: string;
}

export interface WriteResult {
  inserted: number;
  duplicates: number;
}

/** Rigs whose latest status is kept in memory (about 3 kB each with one miner). */
const MAX_CACHED_RIGS = 50_000;
/**
 * Rigs whose stored agent id is remembered, so that ingest writes their rigs row only when it changes; and rigs
 * with snapshots accepted and not yet stored that are tracked (past it the oldest entry is forgotten).
 */
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
 * A number bound as its decimal text: the column's INTEGER or REAL affinity stores it as a number again (also in an
 * upsert's `excluded` row). node-sqlite3 checks every parameter that is not a string against RegExp through a global
 * lookup before it looks at its type (about 0.4 µs each, on the event loop); a string skips that, and ingest binds
 * some ten numbers per snapshot.
 */
function numeric(n: number): string;
function numeric(n: number | null | undefined): string | null;
function numeric(n: number | null | undefined): string | null {
  return n === null || n === undefined ? null : String(n);
}

/** Columns of one snapshot row in a SnapshotBatch's parameters. */
const SNAPSHOT_COLUMNS = 7;

/** What a batch keeps of each miner's newest snapshot: enough to write the rig's row. */
export interface NewestKey {
  readonly rigId: string;
  readonly minerId: string;
  readonly seq: number;
  readonly agentId: string;
}

/**
 * Snapshots gathered for one batch write, held as they will be bound: the INSERT parameters of each row (its
 * payload as received) plus the keys of each miner's newest snapshot. Ingest keeps thousands of snapshots waiting
 * for SQLite under load, and whatever they hold outlives young-generation collections: a handful of values per row
 * instead of each decoded snapshot (some thirty objects) keeps what the garbage collector must copy and promote small.
 * The latest status in memory takes each snapshot when ingest accepts it (RigRepository.receive), not from here.
 */
export class SnapshotBatch {
  readonly params: SqlValue[] = [];
  /** Per rig, the newest snapshot of each of its miners (usually one: no key string built per message). */
  private readonly newestPerRig = new Map<string, NewestKey[]>();

  get size(): number {
    return this.params.length / SNAPSHOT_COLUMNS;
  }

  add(s: MinerSnapshot, json: string | Buffer): void {
    this.params.push(s.rigId, numeric(s.seq), s.minerId, numeric(s.collectedAt!.getTime()), numeric(s.hashrate5sHs ?? s.hashrateAvgHs), numeric(maxTemp(s)), json);
    this.keepNewest({ rigId: s.rigId, minerId: s.minerId, seq: s.seq, agentId: s.agentId });
  }

  private keepNewest(s: NewestKey): void {
    const miners = this.newestPerRig.get(s.rigId);
    if (miners === undefined) {
      this.newestPerRig.set(s.rigId, [s]);
      return;
    }
    const i = miners.findIndex((m) => m.minerId === s.minerId);
    // On a repeated seq the first one is kept: it is the row the INSERT stores.
    if (i < 0) miners.push(s);
    else if (miners[i]!.seq < s.seq) miners[i] = s;
  }

  /** This batch followed by `later` (a failed batch goes back in front of what arrived meanwhile). */
  concat(later: SnapshotBatch): SnapshotBatch {
    const both = new SnapshotBatch();
    for (const p of this.params) both.params.push(p);
    for (const p of later.params) both.params.push(p);
    for (const s of this.newest()) both.keepNewest(s);
    for (const s of later.newest()) both.keepNewest(s);
    return both;
  }

  /** The newest snapshot of each miner in the batch. */
  newest(): NewestKey[] {
    return [...this.newestPerRig.values()].flat();
  }

  /** Every rig with a snapshot in the batch. */
  rigIds(): Set<string> {
    return new Set(this.newestPerRig.keys());
  }
}

/**
 * Rigs, their latest status, and raw snapshots.
 *
 * Latest status is also kept in memory for the rigs that were read (the reconciler reads each rig after every batch):
 * a record enters the cache when getRig loads it; a snapshot ingest accepts updates it at once (receive), with the
 * same rules as the SQL upserts, and writeSnapshots after it is stored; a retained state drops it (read again next
 * time). Records are never changed in place: a newer one replaces them.
 *
 * Ingest's snapshots reach the cache when they arrive rather than when their batch commits: a decoded snapshot held
 * until then, thousands of messages later, outlived two young-generation collections and was promoted, and at 15,000
 * messages/s that copying was the largest cost of ingest over the bare MQTT-to-SQLite floor. Ingest retries a batch
 * that fails until it is stored, so a status it accepted is not taken back; a getRig that reads SQLite while a rig
 * has snapshots accepted and not yet stored returns what is stored without caching it.
 */
export class RigRepository {
  private readonly latest = new Map<string, RigRecord>();
  /** The agent id stored in each rig's row, for rigs this repository wrote (null: none). */
  private readonly storedAgent = new Map<string, string | null>();
  /** The newest seq receive accepted per rig, until a batch stores it (a load older than that is not cached). */
  private readonly unstoredSeq = new Map<string, number>();
  /** Rigs being loaded by getRig, and whether a write touched them meanwhile (then the load is not cached). */
  private readonly loading = new Map<string, { loads: number; stale: boolean }>();

  constructor(private readonly db: SqliteDatabase) {}

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
      for (const s of batch) this.latest.delete(s.rigId);
      throw err;
    }
    // Older or repeated seqs change nothing, as in the upsert: a duplicate row is already in its miner's status.
    for (const s of batch) this.rememberMiner(s);
    return result;
  }

  /**
   * A validated snapshot that ingest has accepted and will write (retrying until it is stored): a cached rig's latest
   * status takes it now. Call it once per snapshot, in arrival order, besides adding it to a SnapshotBatch.
   */
  receive(s: MinerSnapshot): void {
    this.touch(s.rigId);
    this.rememberMiner(s);
    // Also for a cached rig: it may leave the cache (MAX_CACHED_RIGS) before its batch is stored.
    const unstored = this.unstoredSeq.get(s.rigId);
    if (unstored === undefined && this.unstoredSeq.size >= MAX_KNOWN_RIGS) this.unstoredSeq.delete(this.unstoredSeq.keys().next().value!);
    if (unstored === undefined || unstored < s.seq) this.unstoredSeq.set(s.rigId, s.seq);
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
      for (const rigId of batch.rigIds()) this.touch(rigId);
      throw err;
    }
    // A getRig that read these rigs while this transaction ran may hold older status: it must not be cached.
    for (const rigId of batch.rigIds()) this.touch(rigId);
    // What receive accepted of these rigs is stored now, unless a newer snapshot arrived meanwhile.
    for (const s of batch.newest()) if ((this.unstoredSeq.get(s.rigId) ?? Infinity) <= s.seq) this.unstoredSeq.delete(s.rigId);
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

  /** A write is about to change this rig: a getRig load running now must not be cached. */
  private touch(rigId: string): void {
    const load = this.loading.get(rigId);
    if (load) load.stale = true;
  }

  /**
   * A miner's snapshot, applied to a cached record as the miner_status upsert applies it (a newer seq wins); the rig's last
   * seen time and seq follow from its miners as the rigs_seen view derives them.
   */
  private rememberMiner(s: MinerSnapshot): void {
    const record = this.latest.get(s.rigId);
    if (!record) return;
    const i = record.miners.findIndex((m) => m.minerId === s.minerId);
    if (i >= 0 && record.miners[i]!.seq >= s.seq) return;
    const miners = i >= 0 ? record.miners.map((m, k) => (k === i ? s : m)) : [...record.miners, s].sort((a, b) => (a.minerId < b.minerId ? -1 : a.minerId > b.minerId ? 1 : 0));
    let lastSeen = -Infinity;
    let lastSeq = 0;
    for (const m of miners) {
      lastSeen = Math.max(lastSeen, m.collectedAt!.getTime());
      lastSeq = Math.max(lastSeq, m.seq);
    }
    this.latest.set(s.rigId, { ...record, miners, lastSeen: record.lastSeen?.getTime() === lastSeen ? record.lastSeen : new Date(lastSeen), lastSeq });
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
    this.touch(state.rigId);
    this.latest.delete(state.rigId);
    this.storedAgent.delete(state.rigId); // the state may have set another agent: the next batch writes the row again
  }

  /** Another writer changed the rig's row (the liveness sweep's online column): read it from SQLite next time. */
  forget(rigId: string): void {
    this.touch(rigId);
    this.latest.delete(rigId);
  }

  /** A page of rigs in id order; the latest status of rigs already in memory is not read and decoded again. */
  async listRigs(limit: number, afterRigId: string): Promise<RigRecord[]> {
    const rows = await this.db.all<RigRow>('SELECT * FROM rigs_seen WHERE rig_id > ? ORDER BY rig_id LIMIT ?', [afterRigId, limit]);
    const cached = rows.map((r) => this.latest.get(r.rig_id));
    const loaded = await this.withMiners(rows.filter((_, i) => cached[i] === undefined));
    let next = 0;
    return rows.map((_, i) => cached[i] ?? loaded[next++]!);
  }

  /** The rig's latest status: from memory once read, else from SQLite. Do not change the record returned. */
  async getRig(rigId: string): Promise<RigRecord | undefined> {
    const cached = this.latest.get(rigId);
    if (cached) return cached;
    const load = this.loading.get(rigId) ?? { loads: 0, stale: false };
    load.loads++;
    this.loading.set(rigId, load);
    try {
      const row = await this.db.get<RigRow>('SELECT * FROM rigs_seen WHERE rig_id = ?', [rigId]);
      if (!row) return undefined;
      const record = (await this.withMiners([row]))[0]!;
      if (!load.stale && !this.latest.has(rigId) && (this.unstoredSeq.get(rigId) ?? 0) <= record.lastSeq) {
        this.unstoredSeq.delete(rigId);
        // Bounded: past MAX_CACHED_RIGS the rig cached longest ago is read from SQLite again next time.
        if (this.latest.size >= MAX_CACHED_RIGS) this.latest.delete(this.latest.keys().next().value!);
        this.latest.set(rigId, record);
      }
      return this.latest.get(rigId) ?? record;
    } finally {
      if (--load.loads === 0) this.loading.delete(rigId);
    }
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

function maxTemp(s: MinerSnapshot): number | null {
  let max: number | null = null;
  for (const b of s.boards) {
    for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === null || t > max)) max = t;
  }
  return max;
}

/** A stored snapshot as the API will serialize it: a seq that is no safe integer or a time that is no time throws here, not there. */
function readStoredSnapshot(text: string): MinerSnapshot {
  const snapshot = MinerSnapshot.fromJSON(JSON.parse(text));
  if (!Number.isSafeInteger(snapshot.seq) || snapshot.seq < 0) throw new Error(`seq ${String(snapshot.seq)} is not a safe integer`);
  MinerSnapshot.toJSON(snapshot); // throws on an invalid Date ("Invalid time value")
  return snapshot;
}
