import type { LivenessSeed, LivenessStore, StoredVerdict } from '../ports/liveness.port';
import type { PostgresDatabase } from './postgres-database';

/** The controller's liveness verdicts in the rigs table, in PostgreSQL. */
export class PostgresLivenessStore implements LivenessStore {
  constructor(private readonly db: PostgresDatabase) {}

  async seeds(): Promise<LivenessSeed[]> {
    const rows = await this.db.all<{ rig_id: string; agent_id: string | null; last_seen: number | null; online: number; state_at: number | null; liveness: string }>(
      'SELECT rig_id, agent_id, last_seen, online, state_at, liveness FROM rigs_seen',
    );
    return rows.map((r) => ({
      rigId: r.rig_id,
      ...(r.agent_id ? { agentId: r.agent_id } : {}),
      ...(r.last_seen === null ? {} : { lastSeen: r.last_seen }),
      stateOnline: r.online === 1,
      ...(r.state_at === null ? {} : { stateAt: r.state_at }),
      liveness: r.liveness,
    }));
  }

  /** One UPDATE for all verdicts (a rig listed twice takes its last verdict). */
  async write(verdicts: ReadonlyArray<{ rigId: string; verdict: StoredVerdict }>): Promise<Set<string>> {
    if (verdicts.length === 0) return new Set();
    const last = new Map(verdicts.map((v) => [v.rigId, v.verdict]));
    const ids = [...last.keys()];
    const v = [...last.values()];
    const rows = await this.db.all<{ rig_id: string }>(
      `UPDATE rigs SET online = t.online, liveness = t.state, liveness_reason = t.reason, liveness_message = t.message, liveness_since = t.since
         FROM UNNEST($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS t(rig_id, online, state, reason, message, since)
        WHERE rigs.rig_id = t.rig_id RETURNING rigs.rig_id`,
      [ids, v.map((x) => (x.online ? 1 : 0)), v.map((x) => x.state), v.map((x) => x.reason), v.map((x) => x.message), v.map((x) => x.since)],
    );
    return new Set(rows.map((r) => r.rig_id));
  }
}
