import type { FieldWarning } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import type { CollectedReplies } from './dialect';
import { hashrateWindows, lcdCurrentPool, mapPools } from './dialect-common';
import { softwareOfReply, type MinerSoftware } from './miner-software';

/**
 * What every cgminer-family dialect reads the same way: the pools (with how the pool in use was decided), every
 * hashrate window of `rates` by its label, the miner program from `version`, lcd's current pool, and the values
 * refused on the way (`fieldWarnings`, which the dialect may add to).
 */
export function commonFields(replies: CollectedReplies, rates: Record<string, unknown>, options: {
  factor?: number; software?: MinerSoftware;
} = {}): Pick<MinerReading, 'pools' | 'hashrateWindows' | 'fieldWarnings' | 'software' | 'softwareVersion' | 'currentPoolUrl'> {
  const fieldWarnings: FieldWarning[] = [];
  // The version reply names the program; without one, the summary's STATUS Description ("bfgminer 5.5.0") does.
  const candidates = [softwareOfReply(replies['version']), options.software, softwareOfReply(replies['summary'])];
  const software = candidates.find((c) => c?.software) ?? { software: '', version: '' };
  return {
    pools: mapPools(replies, fieldWarnings),
    hashrateWindows: hashrateWindows(rates, options.factor),
    fieldWarnings,
    software: software.software,
    softwareVersion: software.version,
    currentPoolUrl: lcdCurrentPool(replies)?.url ?? '',
  };
}
