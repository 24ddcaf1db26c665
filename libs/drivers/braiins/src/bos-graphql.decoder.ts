import { BoardStatus, PoolStatus, type Board, type Fan, type Pool } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { firmwareName } from './braiins-reading.mapper';

/**
 * The legacy Braiins OS API (BOS 21.09-25.05: POST /graphql with a session cookie, and LuCI for the MAC), decoded
 * into a MinerReading. A decoder only: no driver speaks this transport yet (the gRPC driver covers 23.03+, the
 * cgminer API driver "braiins" everything older). Replies are `{"data": {...}}`, or bare on the first versions;
 * board temperature names changed over the releases (Board/Chip, Max Board/Max Chip/Inlet/Outlet, MAX_BOARD/MAX_CHIP).
 */
export interface BosGraphqlReplies {
  system: unknown;
  boards?: unknown;
  pools?: unknown;
  tuning?: unknown;
  /** LuCI iface_status: [{"macaddr": "..."}]. */
  netConf?: unknown;
}

export interface BosGraphqlDecoded {
  reading: MinerReading;
  macAddress: string;
  hostname: string;
  faultLight: boolean | undefined;
  tuner: { mode: string; powerTargetW: number | undefined };
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The reply's payload: inside "data" when there is one. */
function payload(reply: unknown): Obj {
  const o = obj(reply);
  return 'data' in o ? obj(o['data']) : o;
}

const MHS = 1e6;

function temperature(temps: Obj[], kind: 'board' | 'chip'): number | undefined {
  const t = temps.find((x) => text(x['name']).toLowerCase().replace(/[_ ]/g, '').replace(/^max/, '') === kind);
  return num(t?.['degreesC']);
}

export function decodeBosGraphql(replies: BosGraphqlReplies, where: { host: string; port: number }): BosGraphqlDecoded {
  const system = payload(replies.system);
  const bos = obj(system['bos']);
  const info = obj(obj(system['bosminer'])['info']);
  const solver = obj(info['workSolver']);
  const power = obj(obj(info['summary'])['power']);
  const version = text(obj(obj(bos['info'])['version'])['full']);

  const children = list(obj(obj(obj(payload(replies.boards)['bosminer'])['info'])['workSolver'])['childSolvers']);
  const boards: Board[] = children.map((c, i) => {
    const hw = obj(c['hwDetails']);
    const temps = list(c['temperatures']);
    const rate = num(obj(c['realHashrate'])['mhs5S']);
    const id = Number(text(c['name']));
    return {
      index: Number.isInteger(id) && text(c['name']) !== '' ? id : i,
      hashrateHs: rate === undefined ? undefined : rate * MHS,
      boardTempC: temperature(temps, 'board'),
      chipTempC: temperature(temps, 'chip'),
      chips: num(hw['chips']),
      hwErrors: undefined,
      status: rate === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
      pciBusId: '', name: '', fanPercent: undefined, powerW: undefined, accepted: undefined, rejected: undefined,
      coreClockMhz: undefined, memoryClockMhz: undefined, frequencyMhz: num(hw['frequencyMhz']), phantomReason: '',
    };
  });

  // A fan header reporting 0 rpm has no fan fitted (a 22.08 S9 reports four headers, two of them empty).
  const fans: Fan[] = list(info['fans'])
    .map((f, i) => ({ index: Number(text(f['name'])) || i, rpm: num(f['rpm']), percent: num(f['speed']) }))
    .filter((f) => (f.rpm ?? 0) > 0);

  const pools: Pool[] = [];
  const poolInfo = obj(obj(payload(replies.pools)['bosminer'])['info']);
  for (const group of list(poolInfo['poolGroups'])) {
    list(group['pools']).forEach((p, priority) => {
      const shares = obj(p['shares']);
      const status = text(p['status']).toUpperCase();
      pools.push({
        index: pools.length, url: text(p['url']), user: text(p['user']),
        status: status === 'ALIVE' ? PoolStatus.POOL_STATUS_ALIVE : status === 'DEAD' ? PoolStatus.POOL_STATUS_DEAD
          : status === 'DISABLED' ? PoolStatus.POOL_STATUS_DISABLED : PoolStatus.POOL_STATUS_UNKNOWN,
        priority, active: p['active'] === true, accepted: num(shares['acceptedSolutions']), rejected: num(shares['rejectedSolutions']),
        stale: undefined, lastShareTime: undefined, stratumActive: undefined, lastShareDifficulty: undefined, difficultyAccepted: undefined,
        getworks: undefined, activeEvidence: 'firmware', diff1Shares: undefined,
      });
    });
  }

  const autotuning = obj(obj(obj(payload(replies.tuning)['bosminer'])['config'])['autotuning']);
  const rate5s = num(obj(solver['realHashrate'])['mhs5S']);
  const details = { bos_version: { current: version, bos_plus: version.endsWith('-plus') } };
  const reading: MinerReading = {
    host: where.host, port: where.port, vendor: 'braiins', model: '', firmware: firmwareName(details),
    uptimeS: undefined, hashrate5sHs: rate5s === undefined ? undefined : rate5s * MHS, hashrateAvgHs: undefined,
    accepted: pools.length > 0 ? pools.reduce((sum, p) => sum + (p.accepted ?? 0), 0) : undefined,
    rejected: pools.length > 0 ? pools.reduce((sum, p) => sum + (p.rejected ?? 0), 0) : undefined,
    stale: undefined, hwErrors: undefined, powerW: num(power['approxConsumptionW']),
    boards, fans, pools, errors: [], driver: 'braiins-graphql', algorithm: 'sha256d',
    hashrateWindows: rate5s === undefined ? [] : [{ label: '5s', windowS: 5, hashrateHs: rate5s * MHS }],
    fieldWarnings: [], software: details.bos_version.bos_plus ? 'bosminer+' : 'bosminer', softwareVersion: version,
    currentPoolUrl: pools.find((p) => p.active)?.url ?? '',
  };
  return {
    reading,
    macAddress: text(list(replies.netConf)[0]?.['macaddr']),
    hostname: text(bos['hostname']),
    faultLight: typeof bos['faultLight'] === 'boolean' ? bos['faultLight'] : undefined,
    tuner: { mode: text(autotuning['mode']), powerTargetW: num(autotuning['powerTarget']) ?? num(power['limitW']) },
  };
}
