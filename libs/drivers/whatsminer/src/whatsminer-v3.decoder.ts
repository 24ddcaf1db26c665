import {
  Board, BoardStatus, MinerSnapshot, Pool, PoolStatus, type Fan, type HashrateWindow,
} from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { isRecord } from './whatsminer-v3.client';

/** v3 reports hash rates in TH/s (v2: MH/s). */
const TH = 1e12;

/** The msg of each read a collect makes; any may be missing when the miner refused or failed that read. */
export interface V3Replies {
  /** get.device.info (no param): miner, network, power, salt, system, and error-code when there are errors. */
  deviceInfo?: unknown;
  /** get.miner.status "summary": msg.summary. */
  summary?: unknown;
  /** get.miner.status "pools": msg.pools. */
  pools?: unknown;
  /** get.miner.status "edevs": msg.edevs. */
  edevs?: unknown;
}

/** One entry of get.device.info's "error-code" list: {"541":"Slot 1 error reading chip id.","reason":"hashboard"}. */
export interface V3MinerErrorCode {
  code: number;
  /** The text the miner gives with the code: a description, or the time it was raised. */
  text: string;
  reason?: string;
}

/** Settings read back after writes: what the miner says it is set to. */
export interface V3Settings {
  /** "low" | "normal" | "high" when the miner says. */
  powerMode?: 'low' | 'normal' | 'high';
  powerLimitW?: number;
  /** system.ledstatus: "auto" when the firmware drives the light. */
  ledStatus?: string;
  /** miner.working: false while btminer is stopped. */
  working?: boolean;
}

/** What one get.device.info says about the machine (for scans and probe). */
export interface WhatsminerV3Identity {
  vendor: 'whatsminer';
  model: string;
  firmware: string;
  apiVersion: string;
  serial: string;
}

export function decodeV3Identity(deviceInfo: unknown): WhatsminerV3Identity {
  const reading = decodeV3Reading({ deviceInfo });
  return {
    vendor: 'whatsminer', model: reading.model, firmware: reading.firmware,
    apiVersion: text(section(deviceInfo, 'system')['api']) ?? '', serial: text(section(deviceInfo, 'miner')['miner-sn']) ?? '',
  };
}

/** A number sent as a number or a numeric string ("3"); anything else is absent. */
export function v3Number(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function section(msg: unknown, key: string): Record<string, unknown> {
  return isRecord(msg) && isRecord(msg[key]) ? msg[key] : {};
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function count(value: unknown): number | undefined {
  const n = v3Number(value);
  return n !== undefined && n >= 0 && Number.isInteger(n) ? n : undefined;
}

function ths(value: unknown): number | undefined {
  const n = v3Number(value);
  return n === undefined ? undefined : n * TH;
}

/** "0" / "1" / "2" (power.mode, asic-rs) or "low" / "normal" / "high" (get.miner.setting power-mode). */
export function v3PowerMode(value: unknown): V3Settings['powerMode'] {
  const s = text(value)?.toLowerCase();
  if (s === '0' || s === 'low') return 'low';
  if (s === '1' || s === 'normal') return 'normal';
  if (s === '2' || s === 'high') return 'high';
  return undefined;
}

export function decodeV3ErrorCodes(deviceInfo: unknown): V3MinerErrorCode[] {
  const out: V3MinerErrorCode[] = [];
  for (const entry of list(isRecord(deviceInfo) ? deviceInfo['error-code'] : undefined)) {
    const reason = text(entry['reason']);
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'reason' || !/^-?\d+$/.test(key)) continue;
      out.push({ code: Number(key), text: text(value) ?? '', ...(reason !== undefined ? { reason } : {}) });
    }
  }
  return out;
}

export function decodeV3Settings(deviceInfo: unknown, summary?: unknown): V3Settings {
  const power = section(deviceInfo, 'power');
  const system = section(deviceInfo, 'system');
  const miner = section(deviceInfo, 'miner');
  const sum = isRecord(summary) ? summary : {};
  const working = text(miner['working']);
  const powerMode = v3PowerMode(power['mode']) ?? v3PowerMode(sum['power-mode']);
  const powerLimitW = v3Number(sum['power-limit']) ?? v3Number(miner['power-limit-set']);
  const ledStatus = text(system['ledstatus']);
  return {
    ...(powerMode ? { powerMode } : {}),
    ...(powerLimitW !== undefined ? { powerLimitW } : {}),
    ...(ledStatus !== undefined ? { ledStatus } : {}),
    ...(working !== undefined ? { working: working === 'true' } : {}),
  };
}

function poolStatus(value: unknown): PoolStatus {
  switch (text(value)?.toLowerCase()) {
    case 'alive': return PoolStatus.POOL_STATUS_ALIVE;
    case 'dead': return PoolStatus.POOL_STATUS_DEAD;
    case 'disabled': return PoolStatus.POOL_STATUS_DISABLED;
    case 'rejecting': return PoolStatus.POOL_STATUS_REJECTING;
    default: return PoolStatus.POOL_STATUS_UNKNOWN;
  }
}

export function decodeV3Pools(pools: unknown): Pool[] {
  return list(pools).map((p, i) => {
    const active = p['stratum-active'] === true;
    return Pool.fromPartial({
      index: count(p['id']) ?? i,
      url: text(p['url']) ?? '',
      user: text(p['account']) ?? '',
      status: poolStatus(p['status']),
      priority: count(p['pool-priority']),
      active,
      stratumActive: typeof p['stratum-active'] === 'boolean' ? p['stratum-active'] : undefined,
      activeEvidence: active ? 'stratum-active' : '',
    });
  });
}

export function decodeV3Boards(edevs: unknown, summary: unknown, working: boolean | undefined): Board[] {
  const boardTemps = isRecord(summary) && Array.isArray(summary['board-temperature']) ? summary['board-temperature'] : [];
  return list(edevs).map((dev, i) => {
    const index = count(dev['id']) ?? count(dev['slot']) ?? i;
    const hashrateHs = ths(dev['hash-average']) ?? ths(dev['hash-realtime']);
    const chips = count(dev['effective-chips']);
    const status = text(dev['status'])?.toLowerCase();
    return Board.fromPartial({
      index,
      hashrateHs,
      boardTempC: v3Number(boardTemps[index]) ?? v3Number(boardTemps[i]),
      chipTempC: v3Number(dev['chip-temp-max']) ?? v3Number(dev['chip-temp-avg']),
      chips,
      frequencyMhz: v3Number(dev['freq']),
      status: working === false ? BoardStatus.BOARD_STATUS_DISABLED
        : (status !== undefined && status !== 'alive') || chips === 0 || hashrateHs === 0 ? BoardStatus.BOARD_STATUS_DEAD
        : BoardStatus.BOARD_STATUS_OK,
    });
  });
}

function windows(summary: Record<string, unknown>): HashrateWindow[] {
  const out: HashrateWindow[] = [];
  const add = (label: string, windowS: number | undefined, value: unknown): void => {
    const hs = ths(value);
    if (hs !== undefined) out.push({ label, windowS, hashrateHs: hs });
  };
  add('rt', undefined, summary['hash-realtime']);
  add('1m', 60, summary['hash-1min']);
  add('15m', 900, summary['hash-15min']);
  add('av', undefined, summary['hash-average']);
  return out;
}

/** A reading with every field empty: the snapshot's own defaults, so a field added to the proto is never missed. */
function emptyReading(): MinerReading {
  const { rigId: _r, minerId: _m, seq: _s, agentId: _a, collectedAt: _c, ...reading } = MinerSnapshot.fromPartial({});
  return reading;
}

/**
 * The v3 replies as one reading. Units: TH/s to H/s, watts, degrees Celsius, fan RPM. v3 has no share counters
 * and no 5-second window: hashrate5sHs stays absent and the windows are "rt" (realtime), "1m", "15m" and "av".
 */
export function decodeV3Reading(replies: V3Replies, driver = 'whatsminer-v3'): MinerReading {
  const miner = section(replies.deviceInfo, 'miner');
  const system = section(replies.deviceInfo, 'system');
  const summary = isRecord(replies.summary) ? replies.summary : {};
  const working = decodeV3Settings(replies.deviceInfo).working;
  const fw = text(system['fwversion']) ?? '';
  const type = text(miner['type']) ?? '';
  const fans: Fan[] = [];
  const fanIn = count(summary['fan-speed-in']);
  const fanOut = count(summary['fan-speed-out']);
  if (fanIn !== undefined) fans.push({ index: 0, rpm: fanIn, percent: undefined });
  if (fanOut !== undefined) fans.push({ index: 1, rpm: fanOut, percent: undefined });
  const pools = decodeV3Pools(replies.pools);
  const boards = decodeV3Boards(replies.edevs, summary, working);
  if (boards.length === 0 && Array.isArray(summary['board-temperature'])) {
    // No edevs reply: keep the summary's per-board temperatures visible.
    summary['board-temperature'].forEach((t, i) => {
      const boardTempC = v3Number(t);
      if (boardTempC !== undefined) boards.push(Board.fromPartial({ index: i, boardTempC, status: BoardStatus.BOARD_STATUS_UNSPECIFIED }));
    });
  }
  return {
    ...emptyReading(),
    vendor: 'whatsminer',
    model: type ? `Whatsminer ${type}` : '',
    firmware: fw ? `btminer ${fw}` : '',
    software: 'btminer',
    softwareVersion: fw,
    uptimeS: count(summary['elapsed']),
    hashrateAvgHs: ths(summary['hash-average']),
    hashrateWindows: windows(summary),
    powerW: v3Number(summary['power-realtime']) ?? v3Number(summary['power-5min']),
    boards,
    fans,
    pools,
    currentPoolUrl: pools.find((p) => p.active)?.url ?? '',
    algorithm: 'sha256d',
    driver,
  };
}
