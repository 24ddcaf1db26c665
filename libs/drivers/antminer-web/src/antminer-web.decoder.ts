import { Board, BoardStatus, PoolStatus, type CollectError, type Fan, type HashrateWindow, type Pool } from '@rigwarden/protocol';
import type { MinerReading, PowerMode } from '@rigwarden/drivers-core';
import { count, num, str } from '@rigwarden/drivers-cgminer';

/**
 * Pure decoding of the stock Antminer CGI replies (each already parsed by parseFirmwareJson) into the parts of a
 * MinerReading. Values are read whatever type the firmware chose: 2017 firmware sends every number as a string.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- get_system_info.cgi

export interface SystemInfo {
  /** "Antminer S19 Pro", without an aftermarket suffix. */
  model: string;
  /** The aftermarket firmware named in minertype ("vnish 2.0.3"), or "". */
  aftermarket: string;
  /** What identifies the build: a date string up to 2024 ("Thu Jul 11 16:38:25 CST 2024"), a tag on 2025 firmware. */
  filesystemVersion: string;
  firmwareType: string;
  serial: string;
  mac: string;
  hostname: string;
  /** The miner program named on old firmware (cgminer_version / bmminer_version). */
  software: string;
  softwareVersion: string;
}

export function decodeSystemInfo(value: unknown): SystemInfo {
  if (!isObj(value) || typeof value['minertype'] !== 'string') throw new TypeError('get_system_info has no minertype');
  const minertype = value['minertype'].trim();
  const m = /^(.*?)\s*\(([^)]*)\)\s*$/.exec(minertype);
  const software = str(value['bmminer_version']) !== undefined ? 'bmminer' : str(value['cgminer_version']) !== undefined ? 'cgminer' : '';
  return {
    model: m ? m[1]! : minertype,
    aftermarket: m ? m[2]! : '',
    filesystemVersion: str(value['system_filesystem_version'])?.trim() ?? '',
    firmwareType: str(value['firmware_type']) ?? '',
    serial: str(value['serinum']) ?? '',
    mac: str(value['macaddr']) ?? '',
    hostname: str(value['hostname']) ?? '',
    software,
    softwareVersion: str(value[`${software}_version`]) ?? '',
  };
}

/** The firmware string shown for a miner: the build's date or tag, prefixed by an aftermarket name. */
export function firmwareLabel(info: SystemInfo): string {
  const build = info.filesystemVersion;
  return info.aftermarket ? `${info.aftermarket}${build ? ` (${build})` : ''}` : build;
}

// ---------------------------------------------------------------- get_miner_conf.cgi

/**
 * How set_miner_conf.cgi takes a write. "json": S17/S19 2020 and later (the config has bitmain-pwth), a JSON body
 * with the write keys miner-mode / freq-level. "form": the 2017-2020 generation (L3+, S9, T17+), form-encoded
 * _ant_* fields.
 */
export type ConfGeneration = 'json' | 'form';

export interface ConfPool {
  url: string;
  user: string;
  pass: string;
}

export interface MinerConf {
  /** The config as read, in the firmware's key order; empty values read as null. */
  raw: Obj;
  /** Always three slots, as the firmware has. */
  pools: ConfPool[];
  generation: ConfGeneration;
  /** The mode bitmain-work-mode says, when it is one of the three named ones. */
  workMode: PowerMode | undefined;
  /** bitmain-work-mode as sent ("0", "1", "254", ""), undefined when the firmware has no such key. */
  workModeRaw: string | undefined;
  /** Keys the firmware printed without a value ("bitmain-fan-ctrl" : ,). */
  emptyKeys: string[];
  /** Every pool empty and every bitmain-* setting "": a config that was never stored. Writing it back wipes it. */
  uninitialised: boolean;
}

export const POOL_SLOTS = 3;

/** Read value of bitmain-work-mode per generation: JSON firmware 0/1/3, the form generation 0/254 (sleep). */
const READ_MODES: Record<ConfGeneration, Record<string, PowerMode>> = {
  json: { '0': 'normal', '1': 'sleep', '3': 'low' },
  form: { '0': 'normal', '254': 'sleep', '1': 'sleep' },
};

export function decodeMinerConf(value: unknown, emptyKeys: string[] = []): MinerConf {
  if (!isObj(value) || !Array.isArray(value['pools'])) throw new TypeError('get_miner_conf has no pools array');
  const pools: ConfPool[] = [];
  for (let i = 0; i < POOL_SLOTS; i++) {
    const p = value['pools'][i];
    pools.push(isObj(p) ? { url: str(p['url']) ?? '', user: str(p['user']) ?? '', pass: str(p['pass']) ?? '' } : { url: '', user: '', pass: '' });
  }
  const generation: ConfGeneration = 'bitmain-pwth' in value ? 'json' : 'form';
  const modeValue = value['bitmain-work-mode'];
  const workModeRaw = modeValue === undefined ? undefined : modeValue === null ? '' : String(modeValue);
  const settings = Object.entries(value).filter(([k]) => k.startsWith('bitmain-') && k !== 'bitmain-use-vil' && k !== 'bitmain-fan-ctrl');
  const uninitialised = pools.every((p) => p.url === '' && p.user === '')
    && settings.length > 0 && settings.every(([, v]) => v === '' || v === null);
  return {
    raw: value, pools, generation,
    workMode: workModeRaw === undefined ? undefined : READ_MODES[generation][workModeRaw],
    workModeRaw, emptyKeys, uninitialised,
  };
}

// ---------------------------------------------------------------- stats.cgi / summary.cgi / pools.cgi (2019+ web)

const RATE_UNIT: Record<string, number> = { 'H/S': 1, 'KH/S': 1e3, 'MH/S': 1e6, 'GH/S': 1e9, 'TH/S': 1e12, 'PH/S': 1e15 };

/** H/s per unit of a web reply's rates; the web API has said "GH/s" on every recorded SHA-256 reply. */
export function rateFactor(record: Obj): number {
  const unit = str(record['rate_unit'])?.trim().toUpperCase();
  return (unit && RATE_UNIT[unit]) || 1e9;
}

/** The reply's STATUS letter, whether STATUS is an object (stats.cgi, pools.cgi) or an array (summary.cgi). */
export function webStatus(value: unknown): { letter: string; msg: string } | undefined {
  if (!isObj(value)) return undefined;
  const s = Array.isArray(value['STATUS']) ? value['STATUS'][0] : value['STATUS'];
  if (!isObj(s)) return undefined;
  return { letter: str(s['STATUS']) ?? '', msg: str(s['Msg']) ?? '' };
}

export interface WebInfo {
  /** INFO.type, e.g. "Antminer S19Pro+". */
  type: string;
  minerVersion: string;
  compileTime: string;
}

export function decodeWebInfo(value: unknown): WebInfo | undefined {
  if (!isObj(value) || !isObj(value['INFO'])) return undefined;
  const info = value['INFO'];
  return { type: str(info['type']) ?? '', minerVersion: str(info['miner_version']) ?? '', compileTime: str(info['CompileTime']) ?? '' };
}

/** True when a stats reply has the 2019+ web shape (STATS[0].chain[]), not the cgminer RPC one. */
export function isWebStats(value: unknown): boolean {
  return isObj(value) && Array.isArray(value['STATS']) && isObj(value['STATS'][0]) && Array.isArray((value['STATS'][0] as Obj)['chain']);
}

export interface WebStats {
  uptimeS: number | undefined;
  hashrate5sHs: number | undefined;
  hashrateAvgHs: number | undefined;
  hashrateWindows: HashrateWindow[];
  boards: Board[];
  fans: Fan[];
  /** STATS[0]["miner-mode"] where the firmware reports it (S19 Pro+ 2023): the mode the miner runs in. */
  minerMode: number | undefined;
  /** S21 psu {index, status}: "ok" or another word. */
  psuStatus: string | undefined;
}

export function windowsOf(record: Obj, factor: number): HashrateWindow[] {
  const out: HashrateWindow[] = [];
  for (const [key, label, windowS] of [['rate_5s', '5s', 5], ['rate_30m', '30m', 1800], ['rate_avg', 'av', undefined]] as const) {
    const v = num(record[key]);
    if (v !== undefined) out.push({ label, windowS, hashrateHs: v * factor });
  }
  return out;
}

const maxOf = (value: unknown): number | undefined => {
  const values = (Array.isArray(value) ? value : [value]).map((v) => num(v)).filter((v): v is number => v !== undefined && v > 0);
  return values.length ? Math.max(...values) : undefined;
};

export function decodeWebStats(value: unknown): WebStats {
  if (!isWebStats(value)) throw new TypeError('stats has no STATS[0].chain');
  const s = (value as { STATS: Obj[] }).STATS[0]!;
  const factor = rateFactor(s);
  const boards = (s['chain'] as unknown[]).filter(isObj).map((c, ordinal) => {
    const rate = num(c['rate_real']);
    const chips = count(c['asic_num']);
    const hashrate = rate === undefined ? undefined : rate * factor;
    return Board.fromPartial({
      index: count(c['index']) ?? ordinal,
      hashrateHs: hashrate,
      // The hottest sensor: the thermal policies act on the hottest spot, not an average.
      boardTempC: maxOf(c['temp_pcb']),
      chipTempC: maxOf(c['temp_chip']),
      chips,
      hwErrors: count(c['hw']),
      frequencyMhz: num(c['freq_avg']) || undefined,
      name: str(c['sn']) ?? '',
      status: chips === 0 || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
    });
  });
  const fans: Fan[] = (Array.isArray(s['fan']) ? s['fan'] : []).map((rpm, index) => ({ index, rpm: count(rpm), percent: undefined }));
  const windows = windowsOf(s, factor);
  const psu = isObj(s['psu']) ? str(s['psu']['status']) : undefined;
  return {
    uptimeS: count(s['elapsed']),
    hashrate5sHs: windows.find((w) => w.label === '5s')?.hashrateHs,
    hashrateAvgHs: windows.find((w) => w.label === 'av')?.hashrateHs,
    hashrateWindows: windows,
    boards, fans,
    minerMode: num(s['miner-mode']),
    psuStatus: psu,
  };
}

export interface WebSummary {
  uptimeS: number | undefined;
  hashrate5sHs: number | undefined;
  hashrateAvgHs: number | undefined;
  hashrateWindows: HashrateWindow[];
  hwErrors: number | undefined;
  /** The firmware's own alarms: status[] entries other than "s" (w = warning, e = error). */
  alarms: CollectError[];
}

export function decodeWebSummary(value: unknown): WebSummary {
  if (!isObj(value) || !Array.isArray(value['SUMMARY']) || !isObj(value['SUMMARY'][0])) throw new TypeError('summary has no SUMMARY[0]');
  const s = value['SUMMARY'][0] as Obj;
  const factor = rateFactor(s);
  const windows = windowsOf(s, factor);
  const alarms: CollectError[] = (Array.isArray(s['status']) ? s['status'] : []).filter(isObj)
    .filter((a) => { const st = str(a['status'])?.toLowerCase(); return st === 'w' || st === 'e'; })
    .map((a) => ({
      kind: 'miner_alarm',
      message: `the firmware reports ${str(a['type']) ?? 'a fault'}: ${str(a['msg']) || `code ${String(a['code'] ?? '?')}`}`,
      statusLetter: (str(a['status']) ?? '').toUpperCase(),
      statusCode: num(a['code']),
      command: 'summary.cgi',
    }));
  return {
    uptimeS: count(s['elapsed']),
    hashrate5sHs: windows.find((w) => w.label === '5s')?.hashrateHs,
    hashrateAvgHs: windows.find((w) => w.label === 'av')?.hashrateHs,
    hashrateWindows: windows,
    hwErrors: count(s['hw_all']),
    alarms,
  };
}

const POOL_STATUS: Record<string, PoolStatus> = {
  alive: PoolStatus.POOL_STATUS_ALIVE, dead: PoolStatus.POOL_STATUS_DEAD, disabled: PoolStatus.POOL_STATUS_DISABLED,
  rejecting: PoolStatus.POOL_STATUS_REJECTING,
};

/** pools.cgi: lower-case keys (index, url, user, status, priority, accepted, ...), pass never sent. */
export function decodeWebPools(value: unknown): Pool[] {
  if (!isObj(value) || !Array.isArray(value['POOLS'])) throw new TypeError('pools has no POOLS');
  const pools = value['POOLS'].filter(isObj).map((p, i): Pool => ({
    index: count(p['index']) ?? i,
    url: str(p['url']) ?? '',
    user: str(p['user']) ?? '',
    status: POOL_STATUS[(str(p['status']) ?? '').toLowerCase()] ?? PoolStatus.POOL_STATUS_UNKNOWN,
    priority: count(p['priority']),
    active: false,
    accepted: count(p['accepted']),
    rejected: count(p['rejected']),
    stale: count(p['stale']),
    lastShareTime: undefined,
    stratumActive: undefined,
    lastShareDifficulty: num(p['lsdiff']),
    difficultyAccepted: num(p['diffa']),
    getworks: count(p['getworks']),
    activeEvidence: '',
    diff1Shares: num(p['diff1']),
  }));
  markActiveByPriority(pools);
  return pools;
}

/** The alive pool with the best priority is the one the miner hashes on (the web API has no Stratum Active). */
export function markActiveByPriority(pools: Pool[]): void {
  const alive = pools.filter((p) => p.status === PoolStatus.POOL_STATUS_ALIVE && p.url !== '');
  alive.sort((a, b) => (a.priority ?? a.index) - (b.priority ?? b.index));
  if (alive[0]) {
    alive[0].active = true;
    alive[0].activeEvidence = 'priority';
  }
}

/** The configured pools (get_miner_conf) as Pool entries: what the miner is set to, status unknown. */
export function configuredPools(conf: MinerConf): Pool[] {
  return conf.pools.map((p, index): Pool => ({
    index, url: p.url, user: p.user, status: PoolStatus.POOL_STATUS_UNKNOWN, priority: index, active: false,
    accepted: undefined, rejected: undefined, stale: undefined, lastShareTime: undefined, stratumActive: undefined,
    lastShareDifficulty: undefined, difficultyAccepted: undefined, getworks: undefined, activeEvidence: '', diff1Shares: undefined,
  })).filter((p) => p.url !== '');
}

/** Boards of a miner in sleep mode: no hashrate is what sleep means, so such a board is disabled, not dead. */
export function sleepingBoards(boards: Board[]): Board[] {
  return boards.map((b) => (b.status === BoardStatus.BOARD_STATUS_DEAD && !b.hashrateHs ? { ...b, status: BoardStatus.BOARD_STATUS_DISABLED } : b));
}

/** Algorithm by model family, as the cgminer antminer dialect decides it. */
export function algorithmOf(model: string): string {
  return /antminer\s+l/i.test(model) ? 'scrypt' : /antminer\s+d/i.test(model) ? 'x11'
    : /antminer\s+z/i.test(model) ? 'equihash' : /antminer\s+[st]/i.test(model) ? 'sha256d' : '';
}

export type { MinerReading };

// ---------------------------------------------------------------- small replies

/** The XHTML "401 - Unauthorized" page lighttpd sends on a failed digest login (some builds with status 200). */
export function isUnauthorizedPage(body: string): boolean {
  return /^\s*</.test(body) && /401\s*-\s*Unauthorized/i.test(body);
}

/** blink.cgi's reply code: B000 light on, B100 light off, B001 failure (miningos mock); "" when it sent none. */
export function decodeBlinkReply(value: unknown): string {
  return isObj(value) && typeof value['code'] === 'string' ? value['code'] : '';
}

/** get_blink_status.cgi: {"blink": bool} (a string "true" accepted); undefined when absent. */
export function decodeBlinkStatus(value: unknown): boolean | undefined {
  if (!isObj(value) || value['blink'] === undefined) return undefined;
  return value['blink'] === true || value['blink'] === 'true';
}

export interface NetworkInfo {
  mac: string;
  ip: string;
  dhcp: boolean;
  /** What is configured (conf_*): empty under DHCP. */
  configuredHostname: string;
  configuredIp: string;
}

/** get_network_info.cgi: the live values and the configured conf_* ones. */
export function decodeNetworkInfo(value: unknown): NetworkInfo {
  if (!isObj(value) || typeof value['macaddr'] !== 'string') throw new TypeError('get_network_info has no macaddr');
  return {
    mac: value['macaddr'], ip: str(value['ipaddress']) ?? '', dhcp: (str(value['nettype']) ?? '').toUpperCase() === 'DHCP',
    configuredHostname: str(value['conf_hostname']) ?? '', configuredIp: str(value['conf_ipaddress']) ?? '',
  };
}
