import { Board, BoardStatus, Pool, PoolStatus } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';

/** One GPU as a miner's API reports it, before it becomes a Board. */
export interface GpuFields {
  index: number;
  pciBusId?: string;
  name?: string;
  hashrateHs?: number;
  tempC?: number;
  fanPercent?: number;
  powerW?: number;
  accepted?: number;
  rejected?: number;
  coreClockMhz?: number;
  memoryClockMhz?: number;
  /** The miner marks the GPU disabled (not dead). */
  disabled?: boolean;
}

/** A Board for one GPU. A GPU that hashes nothing while the miner runs is dead. */
export function gpuBoard(gpu: GpuFields): Board {
  return Board.fromPartial({
    index: gpu.index,
    pciBusId: gpu.pciBusId ?? '',
    name: gpu.name ?? '',
    hashrateHs: gpu.hashrateHs,
    boardTempC: gpu.tempC,
    fanPercent: gpu.fanPercent,
    powerW: gpu.powerW,
    accepted: gpu.accepted,
    rejected: gpu.rejected,
    coreClockMhz: gpu.coreClockMhz,
    memoryClockMhz: gpu.memoryClockMhz,
    status: gpu.disabled ? BoardStatus.BOARD_STATUS_DISABLED
      : gpu.hashrateHs === undefined ? BoardStatus.BOARD_STATUS_UNSPECIFIED
      : gpu.hashrateHs > 0 ? BoardStatus.BOARD_STATUS_OK
      : BoardStatus.BOARD_STATUS_DEAD,
  });
}

/** The one pool a GPU miner reports: the one it is connected to. */
export function activePool(url: string | undefined, user: string | undefined, extra: Partial<Pool> = {}): Pool[] {
  if (!url) return [];
  return [Pool.fromPartial({ index: 0, url: url.replace(/\\\//g, '/'), user: user ?? '', status: PoolStatus.POOL_STATUS_UNKNOWN, active: true, ...extra })];
}

/** The sum when every GPU reported the value; a partial sum would read as a drop. */
export function sumWhenComplete(values: (number | undefined)[]): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return (values as number[]).reduce((a, b) => a + b, 0);
}

const ALGORITHM_ALIASES: Record<string, string> = {
  'rx/0': 'randomx', 'rx': 'randomx', 'randomxmonero': 'randomx',
  'cn/r': 'cryptonight-r', 'cryptonight': 'cryptonight',
  'daggerhashimoto': 'ethash', 'eth': 'ethash',
};

/**
 * The mining algorithm as MinerSnapshot spells it: lowercase, no personalisation
 * string ("Equihash 210,9 \"AION0PoW\"" is "equihash210_9"), well-known aliases folded.
 */
export function normaliseAlgorithm(raw: string | undefined): string {
  if (!raw) return '';
  let text = raw.replace(/\\\//g, '/').replace(/"[^"]*"/g, '').trim().toLowerCase();
  const equihash = /^equihash\s*(\d+)\s*[,/_]\s*(\d+)/.exec(text);
  if (equihash) return `equihash${equihash[1]}_${equihash[2]}`;
  text = text.replace(/\s+/g, '');
  return ALGORITHM_ALIASES[text] ?? text;
}

/** A reading with every field present, for the decoders to fill in. */
export function baseReading(driver: string, vendor: string): MinerReading {
  return {
    host: '', port: 0, vendor, model: '', firmware: '',
    uptimeS: undefined, hashrate5sHs: undefined, hashrateAvgHs: undefined,
    accepted: undefined, rejected: undefined, stale: undefined, hwErrors: undefined, powerW: undefined,
    boards: [], fans: [], pools: [], errors: [], driver, algorithm: '',
    hashrateWindows: [], fieldWarnings: [], software: '', softwareVersion: '', currentPoolUrl: '',
  };
}
