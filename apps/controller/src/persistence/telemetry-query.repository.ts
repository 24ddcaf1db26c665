import { MinerSnapshot } from '@rigwarden/protocol';
import type { SqliteDatabase } from './sqlite-database';

import type { RigSummary, StoredSnapshot, TelemetryQueryStore } from './ports/telemetry-query.port';

export type { StoredSnapshot } from './ports/telemetry-query.port';

/** Read-side queries of the API: raw snapshots over a range, quarantine state. Nothing here writes. */
export class TelemetryQueryRepository implements TelemetryQueryStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** A rig's raw snapshots with from <= collected_at < to, oldest first; the newest `limit` when there are more. */
  async snapshots(rigId: string, from: number, to: number, limit: number): Promise<StoredSnapshot[]> {
    const rows = await this.db.all<{ miner_id: string; collected_at: number; snapshot: string }>(
      `SELECT miner_id, collected_at, snapshot FROM snapshots WHERE rig_id = ? AND collected_at >= ? AND collected_at < ?
       ORDER BY collected_at DESC, seq DESC LIMIT ?`,
      [rigId, from, to, limit],
    );
    return rows.reverse().map((r) => ({ minerId: r.miner_id, collectedAt: r.collected_at, snapshot: MinerSnapshot.fromJSON(JSON.parse(r.snapshot)) }));
  }

  /** Rigs without their miners (id, online, labels), ordered by id: enough to filter by id, labels, status and group. */
  async rigSummaries(afterRigId: string, limit: number): Promise<RigSummary[]> {
    const rows = await this.db.all<{ rig_id: string; online: number; liveness: string; labels: string | null }>(
      'SELECT rig_id, online, liveness, labels FROM rigs WHERE rig_id > ? ORDER BY rig_id LIMIT ?', [afterRigId, limit],
    );
    return rows.map((r) => ({ rigId: r.rig_id, online: r.online === 1, liveness: r.liveness, labels: JSON.parse(r.labels || '{}') as Record<string, string> }));
  }

  /** Of these rigs, the ones the watchdog ladder quarantined: a policy.quarantine event later than any release. */
  async quarantined(rigIds: readonly string[]): Promise<Set<string>> {
    if (rigIds.length === 0) return new Set();
    const out = new Set<string>();
    for (let i = 0; i < rigIds.length; i += 500) {
      const chunk = rigIds.slice(i, i + 500);
      const rows = await this.db.all<{ rig_id: string }>(
        `SELECT rig_id FROM events
         WHERE kind IN ('policy.quarantine', 'policy.release', 'operator.release') AND rig_id IN (${chunk.map(() => '?').join(', ')})
         GROUP BY rig_id
         HAVING MAX(CASE WHEN kind = 'policy.quarantine' THEN at END) > COALESCE(MAX(CASE WHEN kind <> 'policy.quarantine' THEN at END), -1)`,
        [...chunk],
      );
      for (const r of rows) out.add(r.rig_id);
    }
    return out;
  }
}
