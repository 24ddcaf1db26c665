import { MinerSnapshot, type RigState } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { LatestStatusCache } from '../latest-status.cache';
import type { RigRecord, RigStatusStore, WriteResult } from '../ports/rig-status.port';
import { SNAPSHOT_COLUMNS, SnapshotBatch, type NewestKey } from '../ports/snapshot-batch';
import { readStoredSnapshot, type RigRow } from '../rig-repository';
import type { PostgresDatabase } from './postgres-database';

/** Rigs whose stored agent id is remembered, so that a batch writes their rigs row only when it changes. */
const MAX_KNOWN_RIGS = 200_000;

// One statement per batch: the rows as columns (UNNEST of seven arrays), a replayed (rig_id, seq) skipped, each
// miner's newest stored row upserted into its latest status (a newer seq wins), and the newest new row of each rig
// returned so that its rigs row can follow.
const INSERT_BATCH = `
  WITH ins AS (
    INSERT INTO snapshots (rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot)
      SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::float8[], $7::text[])
      ON CONFLICT (rig_id, seq) DO NOTHING
      RETURNING rig_id, miner_id, seq, collected_at
  ), newest AS (
    SELECT DISTINCT ON (rig_id, miner_id) rig_id, miner_id, seq, collected_at FROM ins ORDER BY rig_id, miner_id, seq DESC
  ), status AS (
    INSERT INTO miner_status (rig_id, miner_id, seq, collected_at) SELECT rig_id, miner_id, seq, collected_at FROM newest
      ON CONFLICT (rig_id, miner_id) DO UPDATE SET seq = excluded.seq, collected_at = excluded.collected_at
      WHERE excluded.seq > miner_status.seq
  )
  SELECT rig_id, seq, (SELECT COUNT(*) FROM ins) AS inserted FROM (SELECT DISTINCT ON (rig_id) rig_id, seq FROM ins ORDER BY rig_id, seq DESC) r`;

// The same with each column bound as one text of its values separated by U+001E (RECORD SEPARATOR), split again by
// the server: pg renders a text[] parameter element by element, escaping every quote of every 1.3 kB payload with two
// regular expressions (about 24 µs per row on the event loop, more than the rest of ingest); joining takes 3-6 µs, the
// payloads' bytes concatenated as they were received. A valid JSON text never holds a raw U+001E (control characters
// must be escaped in JSON strings and are no whitespace), nor does a rig id (topics.ts); a batch where another value
// does falls back to the arrays. Empty texts are NULL in the two REAL columns only.
const INSERT_BATCH_JOINED = INSERT_BATCH.replace(
  'UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::float8[], $7::text[])',
  "UNNEST(string_to_array($1::text, E'\\x1e'), string_to_array($2::text, E'\\x1e')::bigint[], string_to_array($3::text, E'\\x1e'), " +
    "string_to_array($4::text, E'\\x1e')::bigint[], string_to_array($5::text, E'\\x1e', '')::float8[], string_to_array($6::text, E'\\x1e', '')::float8[], string_to_array($7::text, E'\\x1e'))",
);
const SEPARATOR = '\x1e';
const SEPARATOR_BYTE = Buffer.from(SEPARATOR);

const UPSERT_RIGS = `INSERT INTO rigs (rig_id, agent_id, online) SELECT r, a, 1 FROM UNNEST($1::text[], $2::text[]) AS t(r, a)
  ON CONFLICT (rig_id) DO UPDATE SET agent_id = excluded.agent_id`;

/** Rigs, their latest status and raw snapshots in PostgreSQL; the latest status read is kept in a LatestStatusCache. */
export class PostgresRigStatusStore implements RigStatusStore {
  private readonly storedAgent = new Map<string, string | null>();
  private readonly warnedRows = new Set<string>();
  private readonly logger = createLogger('controller.persistence');

  constructor(private readonly db: PostgresDatabase, readonly cache: LatestStatusCache = new LatestStatusCache()) {}

  async writeSnapshots(batch: MinerSnapshot[], json: Array<string | Buffer> = batch.map((s) => JSON.stringify(MinerSnapshot.toJSON(s)))): Promise<WriteResult> {
    if (json.length !== batch.length) throw new RangeError(`writeSnapshots: ${batch.length} snapshots but ${json.length} JSON texts`);
    const rows = new SnapshotBatch();
    for (let k = 0; k < batch.length; k++) rows.add(batch[k]!, json[k]!);
    let result: WriteResult;
    try {
      result = await this.writeBatch(rows);
    } catch (err) {
      for (const s of batch) this.cache.drop(s.rigId);
      throw err;
    }
    for (const s of batch) this.cache.applyStored(s);
    return result;
  }

  receive(s: MinerSnapshot): void {
    this.cache.receive(s);
  }

  async writeBatch(batch: SnapshotBatch): Promise<WriteResult> {
    const size = batch.size;
    if (size === 0) return { inserted: 0, duplicates: 0 };
    const joined = joinColumns(batch);
    const sql = joined ? INSERT_BATCH_JOINED : INSERT_BATCH;
    const columns = joined ?? arrayColumns(batch);
    const agentOf = new Map<string, NewestKey>();
    for (const s of batch.newest()) if ((agentOf.get(s.rigId)?.seq ?? -1) < s.seq) agentOf.set(s.rigId, s);
    let written: { inserted: number; rigs: Array<[string, string | null]> };
    try {
      written = await this.db.transaction(async (tx) => {
        const stored = await tx.all<{ rig_id: string; seq: number; inserted: number }>(sql, columns);
        const rigs: Array<[string, string | null]> = [];
        for (const r of stored) {
          // The agent of the rig's newest new row (a duplicate newest leaves the row as it is, as in SQLite).
          const newest = agentOf.get(r.rig_id);
          if (newest === undefined || newest.seq !== r.seq) continue;
          const agent = newest.agentId || null;
          if (this.storedAgent.get(r.rig_id) !== agent) rigs.push([r.rig_id, agent]);
        }
        if (rigs.length > 0) await tx.run(UPSERT_RIGS, [rigs.map((r) => r[0]), rigs.map((r) => r[1])]);
        return { inserted: stored[0]?.inserted ?? 0, rigs };
      });
    } catch (err) {
      this.cache.batchDone(batch, false);
      throw err;
    }
    this.cache.batchDone(batch, true);
    for (const [rigId, agent] of written.rigs) this.rememberAgent(rigId, agent);
    return { inserted: written.inserted, duplicates: size - written.inserted };
  }

  private rememberAgent(rigId: string, agentId: string | null): void {
    if (!this.storedAgent.has(rigId) && this.storedAgent.size >= MAX_KNOWN_RIGS) this.storedAgent.delete(this.storedAgent.keys().next().value!);
    this.storedAgent.set(rigId, agentId);
  }

  async writeState(state: RigState): Promise<void> {
    await this.db.run(
      `INSERT INTO rigs (rig_id, agent_id, online, state_at, labels) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (rig_id) DO UPDATE SET online = excluded.online, state_at = excluded.state_at, agent_id = excluded.agent_id, labels = excluded.labels
       WHERE rigs.state_at IS NULL OR excluded.state_at >= rigs.state_at`,
      [state.rigId, state.agentId || null, state.online ? 1 : 0, state.at!.getTime(), JSON.stringify(state.labels ?? {})],
    );
    this.cache.drop(state.rigId);
    this.storedAgent.delete(state.rigId);
  }

  forget(rigId: string): void {
    this.cache.drop(rigId);
  }

  async listRigs(limit: number, afterRigId: string): Promise<RigRecord[]> {
    const rows = await this.db.all<RigRow>('SELECT * FROM rigs_seen WHERE rig_id > $1 ORDER BY rig_id LIMIT $2', [afterRigId, limit]);
    const cached = rows.map((r) => this.cache.get(r.rig_id));
    const loaded = await this.withMiners(rows.filter((_, i) => cached[i] === undefined));
    let next = 0;
    return rows.map((_, i) => cached[i] ?? loaded[next++]!);
  }

  getRig(rigId: string): Promise<RigRecord | undefined> {
    return this.cache.load(rigId, async () => {
      const row = await this.db.get<RigRow>('SELECT * FROM rigs_seen WHERE rig_id = $1', [rigId]);
      return row ? (await this.withMiners([row]))[0]! : undefined;
    });
  }

  private async withMiners(rows: RigRow[]): Promise<RigRecord[]> {
    if (rows.length === 0) return [];
    const status = await this.db.all<{ rig_id: string; snapshot: string }>(
      `SELECT m.rig_id, s.snapshot FROM miner_status m JOIN snapshots s ON s.rig_id = m.rig_id AND s.seq = m.seq AND s.miner_id = m.miner_id
        WHERE m.rig_id = ANY($1::text[]) ORDER BY m.rig_id, m.miner_id`,
      [rows.map((r) => r.rig_id)],
    );
    const byRig = new Map<string, MinerSnapshot[]>();
    for (const s of status) {
      const list = byRig.get(s.rig_id) ?? [];
      try {
        list.push(readStoredSnapshot(s.snapshot));
      } catch (err) {
        if (!this.warnedRows.has(s.rig_id) && this.warnedRows.size <= 10_000) {
          this.warnedRows.add(s.rig_id);
          this.logger.warn('a stored snapshot cannot be read; the rig is shown without it until its next snapshot', { rig: s.rig_id, error: err instanceof Error ? err.message : String(err) });
        }
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

/** The batch's rows as seven arrays (text[] parameters). */
function arrayColumns(batch: SnapshotBatch): Array<Array<string | number | null>> {
  const size = batch.size;
  const columns: Array<Array<string | number | null>> = Array.from({ length: SNAPSHOT_COLUMNS }, () => new Array<string | number | null>(size));
  const params = batch.params;
  for (let row = 0, i = 0; row < size; row++) {
    for (let c = 0; c < SNAPSHOT_COLUMNS; c++, i++) {
      const v = params[i]!;
      columns[c]![row] = Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'bigint' ? String(v) : v;
    }
  }
  return columns;
}

/**
 * The batch's columns each as one text of its values joined by U+001E (the payloads as one buffer of their bytes),
 * or undefined when a value cannot be joined: it holds the separator, or is an empty text where empty means none.
 */
function joinColumns(batch: SnapshotBatch): [string, string, string, string, string, string, Buffer] | undefined {
  const size = batch.size;
  const params = batch.params;
  const texts: string[][] = Array.from({ length: SNAPSHOT_COLUMNS - 1 }, () => new Array<string>(size));
  const payloads = new Array<Buffer>(2 * size - 1);
  for (let row = 0, i = 0; row < size; row++, i += SNAPSHOT_COLUMNS) {
    for (let c = 0; c < SNAPSHOT_COLUMNS - 1; c++) {
      const v = params[i + c];
      const text = v === null || v === undefined ? '' : String(v);
      // rig_id and miner_id must not be empty (string_to_array would make '' of one row no element at all).
      if (text.includes(SEPARATOR) || (text === '' && (c === 0 || c === 2))) return undefined;
      texts[c]![row] = text;
    }
    const p = params[i + SNAPSHOT_COLUMNS - 1];
    const bytes = Buffer.isBuffer(p) ? p : Buffer.from(String(p), 'utf8');
    if (bytes.length === 0 || bytes.indexOf(0x1e) >= 0) return undefined;
    if (row > 0) payloads[2 * row - 1] = SEPARATOR_BYTE;
    payloads[2 * row] = bytes;
  }
  const [rig, seq, miner, at, hashrate, temp] = texts.map((t) => t.join(SEPARATOR)) as [string, string, string, string, string, string];
  return [rig, seq, miner, at, hashrate, temp, Buffer.concat(payloads)];
}
