import { MinerSnapshot, RigState } from '@rigwarden/protocol';
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
}

export interface RigRecord {
  rigId: string;
  online: boolean;
  lastSeen?: Date;
  lastSeq: number;
  miners: MinerSnapshot[];
  /** The agent's labels from the retained state. */
  labels?: Record<string, string>;
}

export interface WriteResult {
  inserted: number;
  duplicates: number;
}

const INSERT_ROWS_PER_STATEMENT = 100;

/** Rigs, their latest status, and raw snapshots. */
export class RigRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** Stores a batch of decoded snapshots in one transaction. Duplicates (rig, seq) are skipped. */
  writeSnapshots(batch: MinerSnapshot[]): Promise<WriteResult> {
    if (batch.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    // Serialised once per snapshot, used by both tables.
    const json = batch.map((s) => JSON.stringify(MinerSnapshot.toJSON(s)));
    return this.db.transaction(async (tx) => {
      let inserted = 0;
      const fresh: number[] = [];
      for (let i = 0; i < batch.length; i += INSERT_ROWS_PER_STATEMENT) {
        const indexes = [...Array(Math.min(INSERT_ROWS_PER_STATEMENT, batch.length - i)).keys()].map((k) => i + k);
        // One multi-row INSERT per chunk; RETURNING tells which rows were new.
        const params: SqlValue[] = [];
        for (const k of indexes) {
          const s = batch[k]!;
          params.push(s.rigId, s.seq, s.minerId, s.collectedAt!.getTime(), s.hashrate5sHs ?? s.hashrateAvgHs ?? null, maxTemp(s), json[k]!);
        }
        const rows = await tx.all<{ rig_id: string; seq: number }>(
          `INSERT INTO snapshots (rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot) VALUES ${indexes.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
           ON CONFLICT (rig_id, seq) DO NOTHING RETURNING rig_id, seq`,
          params,
        );
        inserted += rows.length;
        const keys = new Set(rows.map((r) => `${r.rig_id}\u0000${r.seq}`));
        for (const k of indexes) if (keys.has(`${batch[k]!.rigId}\u0000${batch[k]!.seq}`)) fresh.push(k);
      }
      // Latest status: only the newest fresh snapshot per miner and per rig, written with multi-row upserts.
      const newestPerMiner = new Map<string, number>();
      const newestPerRig = new Map<string, number>();
      for (const k of fresh) {
        const s = batch[k]!;
        const mk = `${s.rigId}\u0000${s.minerId}`;
        if ((batch[newestPerMiner.get(mk) ?? -1]?.seq ?? 0) < s.seq) newestPerMiner.set(mk, k);
        if ((batch[newestPerRig.get(s.rigId) ?? -1]?.seq ?? 0) < s.seq) newestPerRig.set(s.rigId, k);
      }
      const minerRows = [...newestPerMiner.values()];
      for (let i = 0; i < minerRows.length; i += INSERT_ROWS_PER_STATEMENT) {
        const chunk = minerRows.slice(i, i + INSERT_ROWS_PER_STATEMENT);
        await tx.run(
          `INSERT INTO miner_status (rig_id, miner_id, seq, collected_at, snapshot) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}
           ON CONFLICT (rig_id, miner_id) DO UPDATE SET seq = excluded.seq, collected_at = excluded.collected_at, snapshot = excluded.snapshot
           WHERE excluded.seq > miner_status.seq`,
          chunk.flatMap((k) => { const s = batch[k]!; return [s.rigId, s.minerId, s.seq, s.collectedAt!.getTime(), json[k]!]; }),
        );
      }
      const rigRows = [...newestPerRig.values()];
      for (let i = 0; i < rigRows.length; i += INSERT_ROWS_PER_STATEMENT) {
        const chunk = rigRows.slice(i, i + INSERT_ROWS_PER_STATEMENT);
        await tx.run(
          `INSERT INTO rigs (rig_id, agent_id, online, last_seen, last_seq) VALUES ${chunk.map(() => '(?, ?, 1, ?, ?)').join(', ')}
           ON CONFLICT (rig_id) DO UPDATE SET last_seen = MAX(COALESCE(rigs.last_seen, 0), excluded.last_seen),
             last_seq = MAX(rigs.last_seq, excluded.last_seq), agent_id = excluded.agent_id`,
          chunk.flatMap((k) => { const s = batch[k]!; return [s.rigId, s.agentId || null, s.collectedAt!.getTime(), s.seq]; }),
        );
      }
      return { inserted, duplicates: batch.length - inserted };
    });
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
  }

  async listRigs(limit: number, afterRigId: string): Promise<RigRecord[]> {
    const rows = await this.db.all<RigRow>('SELECT * FROM rigs WHERE rig_id > ? ORDER BY rig_id LIMIT ?', [afterRigId, limit]);
    return this.withMiners(rows);
  }

  async getRig(rigId: string): Promise<RigRecord | undefined> {
    const row = await this.db.get<RigRow>('SELECT * FROM rigs WHERE rig_id = ?', [rigId]);
    if (!row) return undefined;
    return (await this.withMiners([row]))[0];
  }

  private async withMiners(rows: RigRow[]): Promise<RigRecord[]> {
    if (rows.length === 0) return [];
    const status = await this.db.all<{ rig_id: string; snapshot: string }>(
      `SELECT rig_id, snapshot FROM miner_status WHERE rig_id IN (${rows.map(() => '?').join(', ')}) ORDER BY rig_id, miner_id`,
      rows.map((r) => r.rig_id),
    );
    const byRig = new Map<string, MinerSnapshot[]>();
    for (const s of status) {
      const list = byRig.get(s.rig_id) ?? [];
      list.push(MinerSnapshot.fromJSON(JSON.parse(s.snapshot)));
      byRig.set(s.rig_id, list);
    }
    return rows.map((r) => ({
      rigId: r.rig_id,
      online: r.online === 1,
      lastSeen: r.last_seen === null ? undefined : new Date(r.last_seen),
      lastSeq: r.last_seq,
      miners: byRig.get(r.rig_id) ?? [],
      labels: JSON.parse(r.labels || '{}') as Record<string, string>,
    }));
  }
}

function maxTemp(s: MinerSnapshot): number | null {
  let max: number | null = null;
  for (const b of s.boards) {
    for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === null || t > max)) max = t;
  }
  return max;
}
