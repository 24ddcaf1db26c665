import { Board, BoardStatus, type FieldWarning } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { count, hashrateHs, num, str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import {
  LATEST_SHARE_S, averageHs, bitmainFans, emptyReading, first, records, refused, shortWindowHs, summaryCounters, temperature,
} from './dialect-common';
import { commonFields } from './common-fields';
import { minerSoftware } from './miner-software';
import { CGMINER_CONTROL } from './control-capabilities';

/** Software name and version from a VERSION record, whichever key the fork uses. */
export function softwareOf(version: Record<string, unknown>): { software: string; version: string } {
  const named = minerSoftware(version);
  return named.software ? named : { software: 'cgminer', version: '' };
}

/** What the rest of the reply says, to tell a real device from one whose fields were never initialised. */
export interface DevsContext {
  /** summary "Elapsed": no counter can have grown faster than 1000 a second since. */
  elapsedS?: number;
  /** The pools' own numbers: a device's "Last Share Pool" must be one of them (or -1). */
  poolIds?: readonly number[];
  /** Where the refused values go. */
  warnings?: FieldWarning[];
}

const DIFFICULTY_KEYS = ['Difficulty Accepted', 'Difficulty Rejected', 'Difficulty Stale', 'Last Share Difficulty'];
const COUNTER_KEYS = ['Accepted', 'Rejected', 'Hardware Errors', 'Diff1 Work', 'Utility'];

/**
 * Why a device's values cannot be true, or '' for a real device. cgminer 2.11.4 with --cpu-threads reports a second
 * CPU that was never initialised: "Accepted":1701146671 after 26 s, "Last Share Time":7221068133453555255,
 * "Last Share Pool":812005680, "Difficulty Rejected" 1.1e165. Such a device is shown as a phantom, not as a dead
 * board, and its impossible values are refused one by one.
 */
export function phantomReasons(dev: Record<string, unknown>, i: number, ctx: DevsContext): string[] {
  const reasons: string[] = [];
  const refuse = (key: string, reason: string, why: string): void => {
    ctx.warnings?.push(refused(`devs[${i}].${key}`, dev[key], reason));
    reasons.push(why);
  };
  for (const key of ['Last Share Time', 'Last Valid Work']) {
    const t = num(dev[key]);
    if (t !== undefined && (t < 0 || t > LATEST_SHARE_S)) refuse(key, 'out of range', `${key} ${String(dev[key])} is no date`);
  }
  const pool = num(dev['Last Share Pool']);
  if (pool !== undefined && pool !== -1 && ctx.poolIds && !ctx.poolIds.includes(pool)) {
    refuse('Last Share Pool', 'implausible', `Last Share Pool ${pool} names no pool`);
  }
  for (const key of DIFFICULTY_KEYS) {
    const d = num(dev[key]);
    if (d !== undefined && (d < 0 || d > 1e21)) refuse(key, d < 0 ? 'negative' : 'out of range', `${key} ${d.toExponential(2)} is beyond any share`);
  }
  if (ctx.elapsedS !== undefined) {
    const max = (ctx.elapsedS + 600) * 1000;
    for (const key of COUNTER_KEYS) {
      const n = num(dev[key]);
      if (n !== undefined && n > max) refuse(key, 'implausible', `${key} ${n} after ${ctx.elapsedS} s`);
    }
  }
  return reasons;
}

/** Devices from cgminer/bfgminer `devs`: one Board per ASC/PGA/GPU/CPU. */
export function mapDevs(devs: Record<string, unknown>[], ctx: DevsContext = {}): Board[] {
  return devs.map((dev, i) => {
    const enabled = str(dev['Enabled']);
    const status = str(dev['Status']);
    const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, '20s') ?? hashrateHs(dev, '30s') ?? hashrateHs(dev, 'av');
    const phantom = phantomReasons(dev, i, ctx);
    return Board.fromPartial({
      index: count(dev['ASC'] ?? dev['PGA'] ?? dev['GPU'] ?? dev['CPU'] ?? dev['ID']) ?? i,
      hashrateHs: hashrate,
      boardTempC: temperature(dev['Temperature']),
      hwErrors: phantom.length ? undefined : count(dev['Hardware Errors']),
      status: phantom.length ? BoardStatus.BOARD_STATUS_UNSPECIFIED
        : enabled === 'N' ? BoardStatus.BOARD_STATUS_DISABLED
        : status === 'Dead' || status === 'Sick' || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD
        : BoardStatus.BOARD_STATUS_OK,
      phantomReason: phantom.join('; '),
    });
  });
}

/**
 * Generic cgminer / bfgminer: MHS fields, devs for boards, bitmain-style fan1..N
 * in stats. Also the fallback for forks nobody identified ("partially supported").
 */
export const genericDialect: CgminerDialect = {
  name: 'cgminer',
  description: 'cgminer / bfgminer RPC API, generic dialect',
  // lcd (cgminer 4.x) names the pool in use; older cgminer and bfgminer answer Code 14 once and are not asked again.
  collectCommands: ['version', 'summary', 'pools', 'devs', 'stats', 'lcd'],
  requiredCommands: ['summary', 'pools'],
  capabilities: CGMINER_CONTROL,
  decode(replies: CollectedReplies): MinerReading {
    return decodeGeneric(replies, 'cgminer');
  },
};

export function decodeGeneric(replies: CollectedReplies, driver: string): MinerReading {
  const summary = first(replies['summary'], 'SUMMARY');
  const version = first(replies['version'], 'VERSION');
  const common = commonFields(replies, summary);
  const software = common.software || 'cgminer';
  const softwareVersion = common.softwareVersion;
  const model = str(version['Type']) ?? str(version['Model']) ?? str(version['PROD']) ?? '';
  return {
    ...emptyReading(driver),
    ...common,
    vendor: software,
    model: model.split('\n')[0]!.trim(),
    firmware: softwareVersion ? `${software} ${softwareVersion}` : '',
    ...summaryCounters(summary),
    hashrate5sHs: shortWindowHs(summary),
    hashrateAvgHs: averageHs(summary),
    boards: mapDevs(records(replies['devs'], 'DEVS'), {
      elapsedS: count(summary['Elapsed']), poolIds: common.pools.map((p) => p.index), warnings: common.fieldWarnings,
    }),
    fans: bitmainFans(records(replies['stats'], 'STATS')),
  };
}
