import { Board, BoardStatus } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { count, num, str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import { NO_CONTROL } from './control-capabilities';
import {
  averageHs, bitmainFans, emptyReading, first, maxOfDashed, records, shortWindowHs, summaryCounters, temperature,
} from './dialect-common';
import { softwareOf } from './generic.dialect';
import { commonFields } from './common-fields';

const UNIT_FACTOR: Record<string, number> = { H: 1, KH: 1e3, MH: 1e6, GH: 1e9, TH: 1e12 };

/**
 * Models whose bmminer labels hashrates "GHS" but sends MH/s (scrypt and X11:
 * L3, L3+, L3++, D3). A known bmminer mislabel; checked against the L3+ (~500 MH/s)
 * and D3 (~17 GH/s) captures in testdata/.
 */
const MHS_LABELLED_GHS = /antminer\s+(l3\+*|d3)\b/i;

/**
 * Z-series (Equihash) bmminer also labels GHS but sends ksol/s: the Z11 capture says "GHS av":139.59 for a machine
 * rated 135 ksol/s, and its chains sum to the same. For Equihash a "hash" is a solution, so H/s = sol/s.
 */
const KSOLS_LABELLED_GHS = /antminer\s+z\d/i;

/** H/s per unit of the firmware's hashrate fields, from rate_unit, the model quirk, or the label. */
export function antminerRateFactor(model: string, stats: Record<string, unknown>, summary: Record<string, unknown>): number {
  const rateUnit = str(stats['rate_unit'])?.toUpperCase().replace(/\/S$/, '').replace(/S$/, '');
  if (rateUnit && UNIT_FACTOR[rateUnit] !== undefined) return UNIT_FACTOR[rateUnit]!;
  const labelled = [stats, summary].some((r) => 'GHS 5s' in r || 'GHS av' in r) ? 1e9
    : [stats, summary].some((r) => 'MHS 5s' in r || 'MHS av' in r) ? 1e6 : 1e9;
  if (labelled === 1e9 && MHS_LABELLED_GHS.test(model)) return 1e6;
  if (labelled === 1e9 && KSOLS_LABELLED_GHS.test(model)) return 1e3;
  return labelled;
}

/**
 * Chain slots present in a bmminer stats record. Slots are 1-based and start where
 * the control board wired them: 1 on S19, 6 on S9 (6,7,8), sometimes 11.
 */
export function antminerSlots(stats: Record<string, unknown>): number[] {
  const slots = new Set<number>();
  for (const key of Object.keys(stats)) {
    const m = /^(?:chain_acn|chain_rate)(\d+)$/.exec(key);
    if (m) slots.add(Number(m[1]));
  }
  return [...slots].sort((a, b) => a - b).filter((i) => {
    // asicseer reports "0.00000" for the 13 empty slots: a slot is a board when it has chips, hashrate or a temperature.
    const acn = count(stats[`chain_acn${i}`]) ?? 0;
    const rate = num(stats[`chain_rate${i}`]) ?? 0;
    return acn > 0 || rate > 0 || temperature(stats[`temp${i}`]) !== undefined || maxOfDashed(stats[`temp_pcb${i}`]) !== undefined;
  });
}

export function antminerBoards(stats: Record<string, unknown>, factor: number): Board[] {
  const globalFreq = num(stats['frequency']);
  return antminerSlots(stats).map((slot, ordinal) => {
    const rate = num(stats[`chain_rate${slot}`]);
    const chips = count(stats[`chain_acn${slot}`]);
    const hashrate = rate === undefined ? undefined : rate * factor;
    const freq = [stats[`freq_avg${slot}`], stats[`freq${slot}`], stats[`frequency${slot}`]]
      .map((v) => num(v)).find((v) => v !== undefined && v > 0) ?? (globalFreq && globalFreq > 0 ? globalFreq : undefined);
    return Board.fromPartial({
      index: ordinal,
      hashrateHs: hashrate,
      boardTempC: temperature(stats[`temp${slot}`]) ?? maxOfDashed(stats[`temp_pcb${slot}`]),
      chipTempC: temperature(stats[`temp2_${slot}`]) ?? maxOfDashed(stats[`temp_chip${slot}`]),
      chips,
      hwErrors: count(stats[`chain_hw${slot}`]),
      frequencyMhz: freq,
      status: chips === 0 || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
    });
  });
}

/** The device record of bmminer stats: STATS[0] is the version block, STATS[1] the device. */
export function antminerDeviceStats(replies: CollectedReplies): { info: Record<string, unknown>; device: Record<string, unknown> } {
  const stats = records(replies['stats'], 'STATS');
  const device = stats.find((r) => 'STATS' in r && ('chain_acn1' in r || Object.keys(r).some((k) => k.startsWith('chain_'))))
    ?? stats.find((r) => 'STATS' in r) ?? {};
  const info = stats.find((r) => 'Type' in r && !('STATS' in r)) ?? {};
  return { info, device };
}

/** Antminer bmminer (stock and Vnish/asicseer forks), and L-series/D-series cgminer builds. */
export const antminerDialect: CgminerDialect = {
  name: 'antminer',
  description: 'Bitmain Antminer bmminer/cgminer (GHS fields, chain_* stats)',
  collectCommands: ['version', 'summary', 'pools', 'stats'],
  requiredCommands: ['stats'],
  // Stock Antminer firmware answers every write with Code 45: no control through this API.
  capabilities: NO_CONTROL,
  decode(replies: CollectedReplies): MinerReading {
    return decodeAntminer(replies, 'antminer');
  },
};

export function decodeAntminer(replies: CollectedReplies, driver: string): MinerReading {
  const version = first(replies['version'], 'VERSION');
  const summary = first(replies['summary'], 'SUMMARY');
  const { info, device } = antminerDeviceStats(replies);
  const versionBlock = Object.keys(version).length ? version : info;
  const { software, version: swVersion } = softwareOf(versionBlock);
  const model = (str(versionBlock['Type']) ?? '').split('\n')[0]!.trim();
  const factor = antminerRateFactor(model, device, summary);
  const hasSummary = Object.keys(summary).length > 0;
  const rateSource = hasSummary ? summary : device;
  const boards = antminerBoards(device, factor);
  return {
    ...emptyReading(driver),
    ...commonFields(replies, hasSummary ? summary : device, { factor, software: { software, version: swVersion } }),
    vendor: 'antminer',
    model,
    firmware: swVersion ? `${software} ${swVersion}` : '',
    ...summaryCounters(summary),
    uptimeS: count(summary['Elapsed'] ?? device['Elapsed']),
    hashrate5sHs: shortWindowHs(rateSource, factor) ?? shortWindowHs(device, factor),
    hashrateAvgHs: averageHs(rateSource, factor) ?? averageHs(device, factor),
    boards,
    fans: bitmainFans([device]),
    algorithm: /antminer\s+l/i.test(model) ? 'scrypt' : /antminer\s+d3/i.test(model) ? 'x11'
      : /antminer\s+z/i.test(model) ? 'equihash' : /antminer\s+[st]/i.test(model) ? 'sha256d' : '',
  };
}
