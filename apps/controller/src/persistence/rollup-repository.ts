import type { SqliteDatabase } from './sqlite-database';

import { DEFAULT_RETENTION, PERIOD_MS, type RetentionPolicy, type RollupResult, type RollupRow, type RollupStore, type Resolution } from './ports/rollup.port';

export { DEFAULT_RETENTION, type RetentionPolicy, type RollupRow, type Resolution } from './ports/rollup.port';

/**
 * Rollups: 1-minute buckets from raw snapshots, 1-hour buckets from 1-minute ones, each kept for its own time.
 * Only complete buckets (ended before `now`) are rolled up; rolling a bucket up again replaces it, so the job can
 * run as often as wanted and after a restart.
 */
export class RollupRepository implements RollupStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** Rolls up every complete bucket since `since` (epoch ms), then applies retention. Returns rows written. */
  async rollUpAndPrune(now: number, since: number, retention: RetentionPolicy = DEFAULT_RETENTION): Promise<RollupResult> {
    const minuteEnd = Math.floor(now / PERIOD_MS['1m']) * PERIOD_MS['1m'];
    const minuteFrom = Math.floor(since / PERIOD_MS['1m']) * PERIOD_MS['1m'];
    const hourEnd = Math.floor(now / PERIOD_MS['1h']) * PERIOD_MS['1h'];
    const hourFrom = Math.floor(since / PERIOD_MS['1h']) * PERIOD_MS['1h'];
    const result = await this.db.transaction(async (tx) => {
      const minute = await tx.run(
        `INSERT OR REPLACE INTO rollups (resolution, rig_id, bucket_start, samples, hashrate_avg, hashrate_min, hashrate_max, temp_max)
         SELECT '1m', rig_id, (collected_at / 60000) * 60000 AS bucket, COUNT(*), AVG(hashrate_hs), MIN(hashrate_hs), MAX(hashrate_hs), MAX(max_temp_c)
           FROM snapshots WHERE collected_at >= ? AND collected_at < ? GROUP BY rig_id, bucket`,
        [minuteFrom, minuteEnd],
      );
      const hour = await tx.run(
        `INSERT OR REPLACE INTO rollups (resolution, rig_id, bucket_start, samples, hashrate_avg, hashrate_min, hashrate_max, temp_max)
         SELECT '1h', rig_id, (bucket_start / 3600000) * 3600000 AS bucket, SUM(samples),
                SUM(hashrate_avg * samples) / NULLIF(SUM(CASE WHEN hashrate_avg IS NULL THEN 0 ELSE samples END), 0),
                MIN(hashrate_min), MAX(hashrate_max), MAX(temp_max)
           FROM rollups WHERE resolution = '1m' AND bucket_start >= ? AND bucket_start < ? GROUP BY rig_id, bucket`,
        [hourFrom, hourEnd],
      );
      // Never a miner's latest snapshot: miner_status points at it (schema v4).
      const pruned = await tx.run(
        `DELETE FROM snapshots WHERE collected_at < ?
           AND NOT EXISTS (SELECT 1 FROM miner_status m WHERE m.rig_id = snapshots.rig_id AND m.seq = snapshots.seq)`,
        [now - retention.rawMs],
      );
      await tx.run("DELETE FROM rollups WHERE resolution = '1m' AND bucket_start < ?", [now - retention.minuteMs]);
      await tx.run("DELETE FROM rollups WHERE resolution = '1h' AND bucket_start < ?", [now - retention.hourMs]);
      return { minute: minute.changes, hour: hour.changes, prunedRaw: pruned.changes };
    });
    // The pages retention freed go back to the file system (a file made with auto_vacuum = INCREMENTAL, see
    // SqliteDatabase.open; in an older file this does nothing and SQLite reuses them), so the file stops growing once
    // every tier has reached its retention.
    await this.db.exec('PRAGMA incremental_vacuum');
    return result;
  }

  series(rigId: string, resolution: Resolution, from: number, to: number): Promise<RollupRow[]> {
    return this.db.all<RollupRow>(
      'SELECT rig_id, bucket_start, samples, hashrate_avg, hashrate_min, hashrate_max, temp_max FROM rollups WHERE resolution = ? AND rig_id = ? AND bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start',
      [resolution, rigId, from, to],
    );
  }
}
