import { Board, BoardStatus, type Fan } from '@rigwarden/protocol';
import { NO_CONTROL, type MinerReading } from '@rigwarden/drivers-core';
import { count, hashrateHs, num, str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import { commonFields } from './common-fields';
import { averageHs, emptyReading, first, maxDefined, records, shortWindowHs, summaryCounters, temperature } from './dialect-common';

/** "'20201202.22.REL'" -> "20201202.22.REL" (btminer quotes its own version). */
function unquote(value: string | undefined): string | undefined {
  return value?.replace(/^'+|'+$/g, '');
}

export function whatsminerBoards(devs: Record<string, unknown>[]): Board[] {
  return devs.map((dev, i) => {
    const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, 'av');
    const status = str(dev['Status']);
    const chips = count(dev['Effective Chips']);
    return Board.fromPartial({
      index: count(dev['Slot'] ?? dev['ASC']) ?? i,
      hashrateHs: hashrate,
      boardTempC: temperature(dev['Temperature']),
      chipTempC: temperature(dev['Chip Temp Max']) ?? temperature(dev['Chip Temp Avg']),
      chips,
      hwErrors: count(dev['Hardware Errors']),
      frequencyMhz: num(dev['Chip Frequency']),
      status: str(dev['Enabled']) === 'N' ? BoardStatus.BOARD_STATUS_DISABLED
        : status === 'Dead' || status === 'Sick' || chips === 0 || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD
        : BoardStatus.BOARD_STATUS_OK,
    });
  });
}

/** Whatsminer reports two fans in its summary: intake ("Fan Speed In") and exhaust ("Fan Speed Out"). */
export function whatsminerFans(summary: Record<string, unknown>): Fan[] {
  const fans: Fan[] = [];
  const fanIn = count(summary['Fan Speed In']);
  const fanOut = count(summary['Fan Speed Out']);
  if (fanIn !== undefined) fans.push({ index: 0, rpm: fanIn, percent: undefined });
  if (fanOut !== undefined) fans.push({ index: 1, rpm: fanOut, percent: undefined });
  return fans;
}

/**
 * Whatsminer btminer: cgminer-style summary (with power, fans, chip temps),
 * edevs (devs without dead ones), pools numbered from 1. Reads are open; writes
 * need the v2 API's token + AES-256-ECB handshake (whatsminer-v2.crypto.ts).
 */
export const whatsminerDialect: CgminerDialect = {
  name: 'whatsminer',
  description: 'MicroBT Whatsminer btminer (summary/edevs, API v2 for writes)',
  collectCommands: ['summary', 'pools', 'edevs', 'devdetails'],
  requiredCommands: ['summary'],
  fallbacks: { edevs: 'devs' },
  // The driver upgrades these when a write password is configured (see WhatsminerControl).
  capabilities: NO_CONTROL,
  decode(replies: CollectedReplies): MinerReading {
    const summary = first(replies['summary'], 'SUMMARY');
    const devdetails = first(replies['devdetails'], 'DEVDETAILS');
    const devs = records(replies['edevs'] ?? replies['devs'], 'DEVS');
    const boards = whatsminerBoards(devs);
    const fw = unquote(str(summary['Firmware Version']));
    const model = str(devdetails['Model']) ?? '';
    const hashrate5s = shortWindowHs(summary);
    return {
      ...emptyReading('whatsminer'),
      ...commonFields(replies, summary, { software: { software: 'btminer', version: fw ?? '' } }),
      vendor: 'whatsminer',
      model: model && !/^whatsminer/i.test(model) ? `Whatsminer ${model}` : model,
      firmware: fw ? `btminer ${fw}` : '',
      ...summaryCounters(summary),
      hashrate5sHs: hashrate5s,
      hashrateAvgHs: averageHs(summary),
      powerW: num(summary['Power']) ?? num(summary['Power_RT']),
      boards,
      fans: whatsminerFans(summary),
      algorithm: 'sha256d',
      // A summary temperature with no devs (old M3 captures): keep it visible as the hottest board.
      ...(boards.length === 0 && temperature(summary['Temperature']) !== undefined ? {
        boards: [Board.fromPartial({
          index: 0, hashrateHs: hashrate5s, boardTempC: temperature(summary['Temperature']),
          chipTempC: maxDefined(temperature(summary['Chip Temp Max'])),
          status: hashrate5s === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
        })],
      } : {}),
    };
  },
};
