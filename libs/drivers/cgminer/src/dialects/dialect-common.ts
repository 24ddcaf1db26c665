import { PoolStatus, type Fan, type Pool } from '@rigwarden/protocol';
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

/** The shortest hashrate window a firmware reports: 5s (cgminer), 20s (bfgminer), 30s (Avalon), 1m. */
export function shortWindowHs(record: Record<string, unknown>, factorOverride?: number): number | undefined {
  for (const window of ['5s', '20s', '30s', '1m', 'rolling']) {
    const value = factorOverride === undefined ? hashrateHs(record, window) : labelled(record, window, factorOverride);
    if (value !== undefined) return value;
  }
  return undefined;
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

/** A temperature in °C, or undefined for sensor placeholders (0, -273, -83 on a broken sensor, 255). */
export function temperature(value: unknown): number | undefined {
  const t = num(value);
  if (t === undefined || t <= 0 || t >= 200) return undefined;
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

/** Pools as the miner numbers them (0-based on cgminer, 1-based on Whatsminer). */
export function mapPools(replies: CollectedReplies): Pool[] {
  const mapped: Pool[] = records(replies['pools'], 'POOLS').map((pool, i) => {
    const status = str(pool['Status']);
    const lastShare = num(pool['Last Share Time']);
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
      active: pool['Stratum Active'] === true,
      activeEvidence: pool['Stratum Active'] === true ? 'stratum-active' : '',
      accepted: count(pool['Accepted']),
      rejected: count(pool['Rejected']),
      stale: count(pool['Stale']),
      // Unix seconds; "0:00:27" (time since, Vnish) or a date string (StrongU) is not a timestamp: left out.
      lastShareTime: lastShare !== undefined && lastShare > 0 ? new Date(lastShare * 1000) : undefined,
    };
  });
  const stratumFlags = mapped.filter((p) => p.active);
  if (stratumFlags.length > 1) {
    // Several "Stratum Active" (an idle connection kept open): the in-use pool is the best-priority one among them.
    const inUse = [...stratumFlags].sort((a, b) => (a.priority ?? Infinity) - (b.priority ?? Infinity))[0]!;
    for (const p of mapped) p.active = p === inUse;
  } else if (stratumFlags.length === 0) {
    // No "Stratum Active" flag (getwork or old firmware): the best-priority alive pool is in use.
    const candidate = mapped
      .filter((p) => p.status === PoolStatus.POOL_STATUS_ALIVE)
      .sort((a, b) => (a.priority ?? Infinity) - (b.priority ?? Infinity))[0];
    if (candidate) candidate.active = true;
  }
  return mapped;
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
