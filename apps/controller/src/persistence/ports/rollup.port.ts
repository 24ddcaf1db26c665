export type Resolution = '1m' | '1h';

export const PERIOD_MS: Readonly<Record<Resolution, number>> = { '1m': 60_000, '1h': 3_600_000 };

export interface RetentionPolicy {
  /** Raw snapshots older than this are deleted. */
  rawMs: number;
  /** 1-minute rollups older than this are deleted. */
  minuteMs: number;
  /** 1-hour rollups older than this are deleted. */
  hourMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { rawMs: 2 * 86_400_000, minuteMs: 14 * 86_400_000, hourMs: 400 * 86_400_000 };

export interface RollupRow {
  rig_id: string;
  bucket_start: number;
  samples: number;
  hashrate_avg: number | null;
  hashrate_min: number | null;
  hashrate_max: number | null;
  temp_max: number | null;
}

export interface RollupResult {
  minute: number;
  hour: number;
  prunedRaw: number;
}

/**
 * 1-minute buckets from raw snapshots, 1-hour buckets from 1-minute ones, each kept for its own time. Only complete
 * buckets (ended before `now`) are rolled up; rolling a bucket up again replaces it.
 */
export interface RollupStore {
  rollUpAndPrune(now: number, since: number, retention?: RetentionPolicy): Promise<RollupResult>;
  series(rigId: string, resolution: Resolution, from: number, to: number): Promise<RollupRow[]>;
}

export const ROLLUP_STORE = Symbol('RollupStore');
