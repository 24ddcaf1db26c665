import type { SqliteDatabase } from './sqlite-database';

import type { LivenessSeed, LivenessStore, StoredVerdict } from './ports/liveness.port';

export type { LivenessSeed, StoredVerdict } from './ports/liveness.port';

/** The controller's liveness verdicts in the rigs table (schema v9). */
export class LivenessRepository implements LivenessStore {
  constructor(private readonly db: SqliteDatabase) {}

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

  /** Writes verdicts in one transaction; answers the rigs that have a row (a rig seen before its first batch has none yet). */
  async write(verdicts: ReadonlyArray<{ rigId: string; verdict: StoredVerdict }>): Promise<Set<string>> {
    if (verdicts.length === 0) return new Set();
    return this.db.transaction(async (tx) => {
      const written = new Set<string>();
      for (const { rigId, verdict } of verdicts) {
        const { changes } = await tx.run(
          'UPDATE rigs SET online = ?, liveness = ?, liveness_reason = ?, liveness_message = ?, liveness_since = ? WHERE rig_id = ?',
          [verdict.online ? 1 : 0, verdict.state, verdict.reason, verdict.message, verdict.since, rigId],
        );
        if (changes > 0) written.add(rigId);
      }
      return written;
    });
  }
}
