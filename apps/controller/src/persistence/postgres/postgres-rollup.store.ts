import { DEFAULT_RETENTION, PERIOD_MS, type RetentionPolicy, type Resolution, type RollupResult, type RollupRow, type RollupStore } from '../ports/rollup.port';
import type { PostgresDatabase } from './postgres-database';

const UPSERT = `ON CONFLICT (resolution, rig_id, bucket_start) DO UPDATE SET samples = excluded.samples, hashrate_avg = excluded.hashrate_avg,
  hashrate_min = excluded.hashrate_min, hashrate_max = excluded.hashrate_max, temp_max = excluded.temp_max`;

/** Rollups and retention in PostgreSQL: the same buckets and rules as the SQLite RollupRepository. */
export class PostgresRollupStore implements RollupStore {
  constructor(private readonly db: PostgresDatabase) {}

  rollUpAndPrune(now: number, since: number, retention: RetentionPolicy = DEFAULT_RETENTION): Promise<RollupResult> {
    const minuteEnd = Math.floor(now / PERIOD_MS['1m']) * PERIOD_MS['1m'];
    const minuteFrom = Math.floor(since / PERIOD_MS['1m']) * PERIOD_MS['1m'];
    const hourEnd = Math.floor(now / PERIOD_MS['1h']) * PERIOD_MS['1h'];
    const hourFrom = Math.floor(since / PERIOD_MS['1h']) * PERIOD_MS['1h'];
    return this.db.transaction(async (tx) => {
      const minute = await tx.run(
        `INSERT INTO rollups (resolution, rig_id, bucket_start, samples, hashrate_avg, hashrate_min, hashrate_max, temp_max)
         SELECT '1m', rig_id, (collected_at / 60000) * 60000 AS bucket, COUNT(*), AVG(hashrate_hs), MIN(hashrate_hs), MAX(hashrate_hs), MAX(max_temp_c)
           FROM snapshots WHERE collected_at >= $1 AND collected_at < $2 GROUP BY rig_id, bucket ${UPSERT}`,
        [minuteFrom, minuteEnd],
      );
      const hour = await tx.run(
        `INSERT INTO rollups (resolution, rig_id, bucket_start, samples, hashrate_avg, hashrate_min, hashrate_max, temp_max)
         SELECT '1h', rig_id, (bucket_start / 3600000) * 3600000 AS bucket, SUM(samples),
                SUM(hashrate_avg * samples) / NULLIF(SUM(CASE WHEN hashrate_avg IS NULL THEN 0 ELSE samples END), 0),
                MIN(hashrate_min), MAX(hashrate_max), MAX(temp_max)
           FROM rollups WHERE resolution = '1m' AND bucket_start >= $1 AND bucket_start < $2 GROUP BY rig_id, bucket ${UPSERT}`,
        [hourFrom, hourEnd],
      );
      // Never a miner's latest snapshot: miner_status points at it.
      const prunedRaw = await tx.run(
        `DELETE FROM snapshots WHERE collected_at < $1
           AND NOT EXISTS (SELECT 1 FROM miner_status m WHERE m.rig_id = snapshots.rig_id AND m.seq = snapshots.seq)`,
        [now - retention.rawMs],
      );
      await tx.run("DELETE FROM rollups WHERE resolution = '1m' AND bucket_start < $1", [now - retention.minuteMs]);
      await tx.run("DELETE FROM rollups WHERE resolution = '1h' AND bucket_start < $1", [now - retention.hourMs]);
      return { minute, hour, prunedRaw };
    });
  }

  series(rigId: string, resolution: Resolution, from: number, to: number): Promise<RollupRow[]> {
    return this.db.all<RollupRow>(
      `SELECT rig_id, bucket_start, samples, hashrate_avg, hashrate_min, hashrate_max, temp_max FROM rollups
        WHERE resolution = $1 AND rig_id = $2 AND bucket_start >= $3 AND bucket_start < $4 ORDER BY bucket_start`,
      [resolution, rigId, from, to],
    );
  }
}
