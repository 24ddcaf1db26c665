import { Board, BoardStatus } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { count, hashrateHs, num, str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import { CGMINER_CONTROL } from './control-capabilities';
import { commonFields } from './common-fields';
import { averageHs, emptyReading, first, maxDefined, records, shortWindowHs, summaryCounters, temperature } from './dialect-common';
import { bosFans } from './braiins.dialect';

/**
 * LuxOS (LUXminer): cgminer-compatible reads plus fans/temps/power; privileged
 * commands need a session from `logon`, passed as the first parameter.
 */
export const luxosDialect: CgminerDialect = {
  name: 'luxos',
  description: 'LuxOS LUXminer (logon session for privileged commands)',
  collectCommands: ['version', 'summary', 'pools', 'devs', 'fans', 'temps', 'power'],
  requiredCommands: ['summary'],
  // LuxOS changes frequency and profiles through its own commands (frequencyset, profileset), not modelled yet.
  capabilities: CGMINER_CONTROL,
  decode(replies: CollectedReplies): MinerReading {
    const summary = first(replies['summary'], 'SUMMARY');
    const version = first(replies['version'], 'VERSION');
    const power = first(replies['power'], 'POWER');
    const temps = new Map<number, Record<string, unknown>>();
    for (const t of records(replies['temps'], 'TEMPS')) temps.set(count(t['ID'] ?? t['TEMP']) ?? temps.size, t);
    const boards = records(replies['devs'], 'DEVS').map((dev, i) => {
      const t = temps.get(count(dev['ID'] ?? dev['ASC']) ?? i) ?? {};
      const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, 'av');
      const sensors = ['TopLeft', 'TopRight', 'BottomLeft', 'BottomRight', 'Board'].map((k) => temperature(t[k]));
      return Board.fromPartial({
        index: i,
        hashrateHs: hashrate,
        boardTempC: maxDefined(...sensors) ?? temperature(dev['Temperature']),
        chipTempC: temperature(t['Chip']),
        hwErrors: count(dev['Hardware Errors']),
        status: str(dev['Enabled']) === 'N' ? BoardStatus.BOARD_STATUS_DISABLED
          : str(dev['Status']) === 'Dead' || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
      });
    });
    const lux = str(version['LUXminer']);
    return {
      ...emptyReading('luxos'),
      ...commonFields(replies, summary),
      vendor: 'luxos',
      model: str(version['Type']) ?? '',
      firmware: lux ? `luxminer ${lux}` : '',
      ...summaryCounters(summary),
      hashrate5sHs: shortWindowHs(summary),
      hashrateAvgHs: averageHs(summary),
      powerW: num(power['Watts']) ?? num(summary['Power']),
      boards,
      fans: bosFans(replies),
      algorithm: 'sha256d',
    };
  },
};
