import { MinerSnapshot } from '@rigwarden/protocol';
import type { RigSummary, StoredSnapshot, TelemetryQueryStore } from '../ports/telemetry-query.port';
import type { PostgresDatabase } from './postgres-database';

/** Read-side queries of the API in PostgreSQL. Nothing here writes. */
export class PostgresTelemetryQueryStore implements TelemetryQueryStore {
  constructor(private readonly db: PostgresDatabase) {}

  async snapshots(rigId: string, from: number, to: number, limit: number): Promise<StoredSnapshot[]> {
    const rows = await this.db.all<{ miner_id: string; collected_at: number; snapshot: string }>(
      `SELECT miner_id, collected_at, snapshot FROM snapshots WHERE rig_id = $1 AND collected_at >= $2 AND collected_at < $3
       ORDER BY collected_at DESC, seq DESC LIMIT $4`,
      [rigId, from, to, limit],
    );
    return rows.reverse().map((r) => ({ minerId: r.miner_id, collectedAt: r.collected_at, snapshot: MinerSnapshot.fromJSON(JSON.parse(r.snapshot)) }));
  }

  async rigSummaries(afterRigId: string, limit: number): Promise<RigSummary[]> {
    const rows = await this.db.all<{ rig_id: string; online: number; liveness: string; labels: string | null }>(
      'SELECT rig_id, online, liveness, labels FROM rigs WHERE rig_id > $1 ORDER BY rig_id LIMIT $2', [afterRigId, limit],
    );
    return rows.map((r) => ({ rigId: r.rig_id, online: r.online === 1, liveness: r.liveness, labels: JSON.parse(r.labels || '{}') as Record<string, string> }));
  }

  async quarantined(rigIds: readonly string[]): Promise<Set<string>> {
    if (rigIds.length === 0) return new Set();
    const rows = await this.db.all<{ rig_id: string }>(
      `SELECT rig_id FROM events
       WHERE kind IN ('policy.quarantine', 'policy.release', 'operator.release') AND rig_id = ANY($1::text[])
       GROUP BY rig_id
       HAVING MAX(CASE WHEN kind = 'policy.quarantine' THEN at END) > COALESCE(MAX(CASE WHEN kind <> 'policy.quarantine' THEN at END), -1)`,
      [[...rigIds]],
    );
    return new Set(rows.map((r) => r.rig_id));
  }
}
