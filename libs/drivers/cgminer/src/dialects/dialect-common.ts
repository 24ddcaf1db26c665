import { PoolStatus, type Fan, type FieldWarning, type HashrateWindow, type Pool } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import type { CgminerReply } from '../cgminer.client';
import { count, hashrateHs, num, section, str } from '../cgminer-values.util';
import type { CollectedReplies } from './dialect';

/** The first record of a section ("SUMMARY", "VERSION") of a reply, or {}. */
export function first(reply: CgminerReply | undefined, key: string): Record<string, unknown> {
  return reply ? section(reply, key)[0] ?? {} : {};
}

export function records(reply: CgminerReply | undefined, key: string): Record<string, unknown>[] {
  return reply ? section(reply, key) : [];
}

/**
 * The miner's 5-second hashrate, only from a window it labels 5s ("MHS 5s", "GHS 5s"): bfgminer's "MHS 20s" and
 * Avalon's "MHS 30s" are other windows (see hashrateWindows), not a 5 s rate.
 */
export function shortWindowHs(record: Record<string, unknown>, factorOverride?: number): number | undefined {
  return factorOverride === undefined ? hashrateHs(record, '5s') : labelled(record, '5s', factorOverride);
}

const WINDOW_KEY = /^([KMGT])HS (\d+)([smhd])$|^([KMGT])HS (av|rolling)$/;
const UNIT_FACTOR: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Every hashrate window a record reports, by the miner's own label ("MHS 5s", "MHS 20s" on bfgminer, "MHS 1m",
 * "MHS 5m", "MHS 15m", "GHS 30m", "MHS 24h", "MHS rolling", "MHS av"), in H/s, shortest first, "rolling" and "av"
 * (no fixed length) last. A value the miner did not send as a number (nan) is left out.
 */
export function hashrateWindows(record: Record<string, unknown>, factorOverride?: number): HashrateWindow[] {
  const out: HashrateWindow[] = [];
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(record)) {
    const m = WINDOW_KEY.exec(key);
    if (!m) continue;
    const label = m[2] !== undefined ? `${m[2]}${m[3]}` : m[5]!;
    if (seen.has(label)) continue;
    const value = num(raw);
    if (value === undefined) continue;
    seen.add(label);
    const factor = factorOverride ?? UNIT_FACTOR[m[1] ?? m[4]!]!;
    const windowS = m[2] !== undefined ? Number(m[2]) * SECONDS[m[3]!]! : undefined;
    out.push({ label, windowS, hashrateHs: value * factor });
  }
  const rank = (w: HashrateWindow): number => w.windowS ?? (w.label === 'rolling' ? Number.MAX_SAFE_INTEGER - 1 : Number.MAX_SAFE_INTEGER);
  return out.sort((a, b) => rank(a) - rank(b));
}

export function averageHs(record: Record<string, unknown>, factorOverride?: number): number | undefined {
  return factorOverride === undefined ? hashrateHs(record, 'av') : labelled(record, 'av', factorOverride);
}

/** A "<unit> <window>" field read with a forced factor (Antminer L3+/D3 label GHS but send MH/s). */
function labelled(record: Record<string, unknown>, window: string, factor: number): number | undefined {
  for (const unit of ['KHS', 'MHS', 'GHS', 'THS']) {
    const value = num(record[`${unit} ${window}`]);
    if (value !== undefined) return value * factor;
  }
  return undefined;
}

/**
 * A temperature in °C, or undefined for the sensor placeholders firmware sends (0, -273, -83 on a broken sensor,
 * 255, 127). Anything else is returned as sent: an absurd value (7e18) is refused with a warning by the reading
 * sanitizer rather than silently dropped here.
 */
export function temperature(value: unknown): number | undefined {
  const t = num(value);
  if (t === undefined || t <= 0 || t === 255 || t === 127 || t === 256) return undefined;
  return t;
}

/** The highest valid temperature in a "55-66-78-91" or "37-60" string. */
export function maxOfDashed(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  const temps = text.split('-').map((part) => temperature(part)).filter((t): t is number => t !== undefined);
  return temps.length ? Math.max(...temps) : undefined;
}

export function maxDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.max(...defined) : undefined;
}

/** Summary counters shared by every cgminer-derived firmware. */
export function summaryCounters(summary: Record<string, unknown>): Pick<MinerReading,
  'uptimeS' | 'accepted' | 'rejected' | 'stale' | 'hwErrors' | 'powerW'> {
  return {
    uptimeS: count(summary['Elapsed']),
    accepted: count(summary['Accepted']),
    rejected: count(summary['Rejected']),
    stale: count(summary['Stale']),
    hwErrors: count(summary['Hardware Errors']),
    powerW: num(summary['Power']),
  };
}

export function emptyReading(driver: string): MinerReading {
  return {
    host: '', port: 0, vendor: '', model: '', firmware: '',
    uptimeS: undefined, hashrate5sHs: undefined, hashrateAvgHs: undefined,
    accepted: undefined, rejected: undefined, stale: undefined, hwErrors: undefined, powerW: undefined,
    boards: [], fans: [], pools: [], errors: [], driver, algorithm: '',
    hashrateWindows: [], fieldWarnings: [], software: '', softwareVersion: '', currentPoolUrl: '',
  };
}

/** Bitcoin's genesis block (2009-01-03) and 2100-01-01: a share time outside is not a time this miner saw. */
export const EARLIEST_SHARE_S = 1_231_006_505;
export const LATEST_SHARE_S = 4_102_444_800;

/** A field the decoder refused, as the miner sent it (at most 64 characters). */
export function refused(field: string, value: unknown, reason: string): FieldWarning {
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return { field, value: text.length > 64 ? `${text.slice(0, 61)}...` : text, reason };
}

/**
 * A cgminer "Last Share Time" (Unix seconds) as a Date. 0 means no share yet; "0:00:27" (time since, Vnish) or a date
 * string (StrongU) is not a timestamp: left out. A number outside 2009-2100 (cgminer 2.11.4's uninitialised
 * 7221068133453555255, which made `new Date()` invalid and the encoder throw) is refused with a warning.
 */
export function shareTime(value: unknown, field: string, warnings?: FieldWarning[]): Date | undefined {
  const seconds = num(value);
  if (seconds === undefined || seconds === 0) return undefined;
  if (seconds < 0) {
    warnings?.push(refused(field, value, 'negative'));
    return undefined;
  }
  if (seconds < EARLIEST_SHARE_S || seconds > LATEST_SHARE_S) {
    warnings?.push(refused(field, value, 'out of range'));
    return undefined;
  }
  return new Date(Math.round(seconds * 1000));
}

/** lcd's "Current Pool" and "User" (cgminer 4.x): the pool the miner says it is on. */
export function lcdCurrentPool(replies: CollectedReplies): { url: string; user: string } | undefined {
  const lcd = first(replies['lcd'], 'LCD');
  const url = str(lcd['Current Pool'])?.trim();
  return url ? { url, user: str(lcd['User'])?.trim() ?? '' } : undefined;
}

const byPriority = (a: Pool, b: Pool): number => (a.priority ?? Infinity) - (b.priority ?? Infinity);

/**
 * Pools as the miner numbers them (0-based on cgminer, 1-based on Whatsminer). `active` is the driver's best guess
 * and `activeEvidence` says what it rests on, so the controller can weigh it:
 * - "lcd-current-pool": lcd names the pool (cgminer 4.x); the firmware's own word.
 * - "stratum-active": exactly one pool has "Stratum Active": true.
 * - "last-share": several pools are stratum-active (bfgminer keeps the pool it failed over from connected for
 *   minutes, cgminer after a switchpool), and one has the latest share: a guess, the deltas over time decide.
 * - "priority": nothing tells: the best-priority pool among the stratum-active (or alive) ones. A weak guess.
 */
export function mapPools(replies: CollectedReplies, warnings?: FieldWarning[]): Pool[] {
  const raw = records(replies['pools'], 'POOLS');
  const mapped: Pool[] = raw.map((pool, i) => {
    const status = str(pool['Status']);
    const stratum = pool['Stratum Active'];
    return {
      index: count(pool['POOL']) ?? i,
      url: str(pool['URL']) ?? '',
      user: str(pool['User']) ?? '',
      status: status === 'Alive' ? PoolStatus.POOL_STATUS_ALIVE
        : status === 'Dead' ? PoolStatus.POOL_STATUS_DEAD
        : status === 'Disabled' ? PoolStatus.POOL_STATUS_DISABLED
        : status === 'Rejecting' ? PoolStatus.POOL_STATUS_REJECTING
        : PoolStatus.POOL_STATUS_UNKNOWN,
      priority: count(pool['Priority']),
      active: false,
      activeEvidence: '',
      accepted: count(pool['Accepted']),
      rejected: count(pool['Rejected']),
      stale: count(pool['Stale']),
      lastShareTime: shareTime(pool['Last Share Time'], `pools[${i}].Last Share Time`, warnings),
      stratumActive: typeof stratum === 'boolean' ? stratum : undefined,
      lastShareDifficulty: num(pool['Last Share Difficulty']),
      difficultyAccepted: num(pool['Difficulty Accepted']),
      getworks: count(pool['Getworks']),
      diff1Shares: num(pool['Diff1 Shares']),
    };
  });
  const decide = (pool: Pool | undefined, evidence: string): Pool[] => {
    if (!pool) return mapped;
    pool.active = true;
    for (const p of mapped) p.activeEvidence = evidence;
    return mapped;
  };
  const current = lcdCurrentPool(replies);
  if (current) {
    const same = mapped.filter((p) => p.url.trim() === current.url);
    const named = same.find((p) => p.user.trim() === current.user) ?? same[0];
    if (named) return decide(named, 'lcd-current-pool');
  }
  const flagged = mapped.filter((p) => p.stratumActive === true && p.status !== PoolStatus.POOL_STATUS_DISABLED);
  if (flagged.length === 1) return decide(flagged[0], 'stratum-active');
  if (flagged.length > 1) {
    const latest = [...flagged].sort((a, b) => (b.lastShareTime?.getTime() ?? 0) - (a.lastShareTime?.getTime() ?? 0));
    const [best, next] = latest;
    if (best?.lastShareTime && (next?.lastShareTime?.getTime() ?? 0) < best.lastShareTime.getTime()) return decide(best, 'last-share');
    return decide([...flagged].sort(byPriority)[0], 'priority');
  }
  // No "Stratum Active" flag (getwork or old firmware): the best-priority alive pool.
  return decide(mapped.filter((p) => p.status === PoolStatus.POOL_STATUS_ALIVE).sort(byPriority)[0], 'priority');
}

/** fan1..fanN keys of bitmain-family stats; 0 RPM is "no fan on this header" unless fan_num says a fan is missing. */
export function bitmainFans(stats: Record<string, unknown>[]): Fan[] {
  const fans: Fan[] = [];
  for (const record of stats) {
    const zero: number[] = [];
    let nonZero = 0;
    for (const [key, value] of Object.entries(record)) {
      const match = /^fan(\d+)$/.exec(key);
      if (!match) continue;
      const rpm = count(value);
      if (rpm === undefined) continue;
      if (rpm === 0) {
        zero.push(Number(match[1]));
        continue;
      }
      nonZero++;
      fans.push({ index: Number(match[1]), rpm, percent: undefined });
    }
    const declared = count(record['fan_num']);
    if (declared !== undefined && declared > nonZero && nonZero > 0) {
      // A declared fan that reports 0 RPM has failed: report it, lowest headers first.
      for (const index of zero.sort((a, b) => a - b).slice(0, declared - nonZero)) fans.push({ index, rpm: 0, percent: undefined });
    }
  }
  return fans.sort((a, b) => a.index - b.index);
}
