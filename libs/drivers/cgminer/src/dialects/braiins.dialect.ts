import { Board, BoardStatus, type Fan } from '@rigwarden/protocol';
import { NO_CONTROL, type MinerReading } from '@rigwarden/drivers-core';
import { count, hashrateHs, num, str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import { commonFields } from './common-fields';
import { averageHs, emptyReading, first, records, shortWindowHs, summaryCounters, temperature } from './dialect-common';

/** BOSminer's `fans`: FANS[{FAN, ID, RPM, Speed}]; headers with 0 RPM are not fitted. */
export function bosFans(replies: CollectedReplies): Fan[] {
  return records(replies['fans'], 'FANS')
    .map((f, i) => ({ index: count(f['FAN'] ?? f['ID']) ?? i, rpm: count(f['RPM']), percent: num(f['Speed']) }))
    .filter((f) => f.rpm !== undefined && f.rpm > 0);
}

/**
 * Boards from `devs` (hashrate, per chain) joined by ID with `temps` (Board, Chip
 * in °C; Chip 0.0 means no chip sensor). BOSminer 0.2 has no devs: temps alone.
 */
export function bosBoards(replies: CollectedReplies): Board[] {
  const temps = new Map<number, Record<string, unknown>>();
  for (const t of records(replies['temps'], 'TEMPS')) {
    const id = count(t['ID']);
    if (id !== undefined) temps.set(id, t);
  }
  const devs = records(replies['devs'], 'DEVS');
  if (devs.length > 0) {
    return devs.map((dev, i) => {
      const t = temps.get(count(dev['ID']) ?? -1) ?? {};
      const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, 'av');
      return Board.fromPartial({
        index: i,
        hashrateHs: hashrate,
        boardTempC: temperature(t['Board']) ?? temperature(dev['Temperature']),
        chipTempC: temperature(t['Chip']),
        hwErrors: count(dev['Hardware Errors']),
        status: str(dev['Enabled']) === 'N' ? BoardStatus.BOARD_STATUS_DISABLED
          : str(dev['Status']) === 'Dead' || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
      });
    });
  }
  return [...temps.values()].map((t, i) => Board.fromPartial({
    index: i,
    boardTempC: temperature(t['Board']),
    chipTempC: temperature(t['Chip']),
    status: BoardStatus.BOARD_STATUS_OK,
  }));
}

/** Braiins OS bosminer: cgminer-compatible reads plus fans, temps, tunerstatus. Writes go through its gRPC API, not this one. */
export const braiinsDialect: CgminerDialect = {
  name: 'braiins',
  description: 'Braiins OS bosminer (fans/temps/tunerstatus commands)',
  collectCommands: ['version', 'summary', 'pools', 'devs', 'fans', 'temps', 'tunerstatus'],
  requiredCommands: ['summary'],
  capabilities: NO_CONTROL,
  decode(replies: CollectedReplies): MinerReading {
    const summary = first(replies['summary'], 'SUMMARY');
    const version = first(replies['version'], 'VERSION');
    const tuner = first(replies['tunerstatus'], 'TUNERSTATUS');
    const plus = str(version['BOSminer+']);
    const bos = str(version['BOSminer']) ?? plus;
    return {
      ...emptyReading('braiins'),
      ...commonFields(replies, summary),
      vendor: 'braiins',
      model: str(version['Type']) ?? '',
      firmware: bos ? `${plus && !version['BOSminer'] ? 'bosminer+' : 'bosminer'} ${bos}` : '',
      ...summaryCounters(summary),
      hashrate5sHs: shortWindowHs(summary),
      hashrateAvgHs: averageHs(summary),
      powerW: num(tuner['ApproximateMinerPowerConsumption']) ?? num(summary['Power']),
      boards: bosBoards(replies),
      fans: bosFans(replies),
      algorithm: 'sha256d',
    };
  },
};
