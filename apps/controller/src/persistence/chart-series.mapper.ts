import { MinerSnapshot } from '@rigwarden/protocol';
import { minerHashrate } from '../dashboard/rig-summary';
import type { SeriesPoint } from './ports/dashboard-read.port';

/** Raw snapshot rows of one rig in collection order, as both stores read them. */
export interface RawSeriesRow {
  collected_at: number;
  miner_id: string;
  snapshot: string;
}

/**
 * Raw snapshots in [from, to) grouped into `buckets` equal time slices: per slice the miners' average hashrate summed,
 * the hottest temperature, the average power summed and the slowest fan; a slice without a value keeps it null.
 */
export function bucketSnapshots(rows: readonly RawSeriesRow[], fromMs: number, toMs: number, buckets: number): SeriesPoint[] {
  const width = Math.max(1, Math.ceil((toMs - fromMs) / buckets));
  interface Acc { hash: Map<string, number[]>; power: Map<string, number[]>; temp: number | null; fan: number | null }
  const slices = new Map<number, Acc>();
  for (const row of rows) {
    const s = MinerSnapshot.fromJSON(JSON.parse(row.snapshot));
    const start = fromMs + Math.floor((row.collected_at - fromMs) / width) * width;
    let acc = slices.get(start);
    if (!acc) { acc = { hash: new Map(), power: new Map(), temp: null, fan: null }; slices.set(start, acc); }
    const h = minerHashrate(s);
    if (h !== undefined) acc.hash.set(row.miner_id, [...(acc.hash.get(row.miner_id) ?? []), h]);
    const p = s.powerW ?? (s.boards.some((b) => b.powerW !== undefined) ? s.boards.reduce((n, b) => n + (b.powerW ?? 0), 0) : undefined);
    if (p !== undefined) acc.power.set(row.miner_id, [...(acc.power.get(row.miner_id) ?? []), p]);
    for (const b of s.boards) for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (acc.temp === null || t > acc.temp)) acc.temp = t;
    for (const f of s.fans) if (f.rpm !== undefined && (acc.fan === null || f.rpm < acc.fan)) acc.fan = f.rpm;
  }
  const sumOfAverages = (m: Map<string, number[]>): number | null => (m.size === 0 ? null : [...m.values()].reduce((n, v) => n + v.reduce((a, b) => a + b, 0) / v.length, 0));
  return [...slices.entries()].sort((a, b) => a[0] - b[0]).map(([at, acc]) => ({
    at, hashrateHs: sumOfAverages(acc.hash), tempMaxC: acc.temp, powerW: sumOfAverages(acc.power), fanMinRpm: acc.fan,
  }));
}
