import { Board, BoardStatus } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { count, hashrateHs, num, str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import { averageHs, bitmainFans, emptyReading, first, records, shortWindowHs, summaryCounters } from './dialect-common';
import { commonFields } from './common-fields';
import { minerSoftware } from './miner-software';
import { CGMINER_CONTROL } from './control-capabilities';

/** Software name and version from a VERSION record, whichever key the fork uses. */
export function softwareOf(version: Record<string, unknown>): { software: string; version: string } {
  const named = minerSoftware(version);
  return named.software ? named : { software: 'cgminer', version: '' };
}

/** Devices from cgminer/bfgminer `devs`: one Board per ASC/PGA/GPU. */
export function mapDevs(devs: Record<string, unknown>[]): Board[] {
  return devs.map((dev, i) => {
    const enabled = str(dev['Enabled']);
    const status = str(dev['Status']);
    const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, '20s') ?? hashrateHs(dev, '30s') ?? hashrateHs(dev, 'av');
    return Board.fromPartial({
      index: count(dev['ASC'] ?? dev['PGA'] ?? dev['GPU'] ?? dev['ID']) ?? i,
      hashrateHs: hashrate,
      boardTempC: dev['Temperature'] === undefined ? undefined : num(dev['Temperature']),
      hwErrors: count(dev['Hardware Errors']),
      status: enabled === 'N' ? BoardStatus.BOARD_STATUS_DISABLED
        : status === 'Dead' || status === 'Sick' || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD
        : BoardStatus.BOARD_STATUS_OK,
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
    boards: mapDevs(records(replies['devs'], 'DEVS')),
    fans: bitmainFans(records(replies['stats'], 'STATS')),
  };
}
