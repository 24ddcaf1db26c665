import { Board, BoardStatus, type Fan } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { avalonNumber, avalonNumbers, tokenizeAvalonMm } from '../avalon-mm.tokenizer';
import { str } from '../cgminer-values.util';
import type { CgminerDialect, CollectedReplies } from './dialect';
import { CGMINER_CONTROL } from './control-capabilities';
import { commonFields } from './common-fields';
import { averageHs, emptyReading, first, records, shortWindowHs, summaryCounters, temperature } from './dialect-common';
import { softwareOf } from './generic.dialect';

export interface AvalonModule {
  /** "MM ID1" -> 1 */
  id: number;
  tokens: Map<string, string>;
}

/** Every "MM IDn" string of every STATS record, tokenized. */
export function avalonModules(stats: Record<string, unknown>[]): AvalonModule[] {
  const modules: AvalonModule[] = [];
  for (const record of stats) {
    for (const [key, value] of Object.entries(record)) {
      const m = /^MM ID(\d+)$/.exec(key);
      if (m && typeof value === 'string') modules.push({ id: Number(m[1]), tokens: tokenizeAvalonMm(value) });
    }
  }
  return modules;
}

function boardsOf(modules: AvalonModule[]): Board[] {
  const boards: Board[] = [];
  for (const mod of modules) {
    const t = mod.tokens;
    const perBoardGhs = avalonNumbers(t.get('MGHS'));
    if (perBoardGhs.length > 0) {
      // Avalon 11xx-15xx: one controller, several hash boards listed in MGHS/MTmax/MTavg.
      const tmax = avalonNumbers(t.get('MTmax'));
      const tavg = avalonNumbers(t.get('MTavg'));
      perBoardGhs.forEach((ghs, i) => boards.push(Board.fromPartial({
        index: boards.length,
        hashrateHs: ghs * 1e9,
        boardTempC: temperature(tavg[i]),
        chipTempC: temperature(tmax[i]),
        status: ghs === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
      })));
      continue;
    }
    // Avalon 7xx/8xx: each MM module is one unit with its own sensor and chips.
    const ghs = avalonNumber(t.get('GHSmm'));
    boards.push(Board.fromPartial({
      index: boards.length,
      hashrateHs: ghs === undefined ? undefined : ghs * 1e9,
      boardTempC: temperature(avalonNumber(t.get('Temp'))),
      chipTempC: temperature(avalonNumber(t.get('TMax'))),
      hwErrors: avalonNumber(t.get('HW')),
      frequencyMhz: avalonNumber(t.get('Freq')),
      status: ghs === 0 ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK,
    }));
  }
  return boards;
}

function fansOf(modules: AvalonModule[]): Fan[] {
  const fans: Fan[] = [];
  for (const mod of modules) {
    const percent = avalonNumber(mod.tokens.get('FanR'));
    const keys = [...mod.tokens.keys()].filter((k) => /^Fan\d*$/.test(k)).sort();
    for (const key of keys) {
      const rpm = avalonNumber(mod.tokens.get(key));
      if (rpm === undefined) continue;
      fans.push({ index: fans.length, rpm: Math.round(rpm), percent });
    }
  }
  return fans;
}

function powerOf(modules: AvalonModule[]): number | undefined {
  let total: number | undefined;
  for (const mod of modules) {
    const wall = avalonNumber(mod.tokens.get('WALLPOWER')) ?? avalonNumbers(mod.tokens.get('PS')).at(-1);
    if (wall !== undefined && wall > 0) total = (total ?? 0) + wall;
  }
  return total;
}

/**
 * The model from an MM "Ver" token: "1047-20051101_85dc6f0_..." and "15-194-24102401_..." carry it before the
 * build date; the 7xx/8xx form "7411706-3162860" starts with the three-digit model.
 */
export function avalonModelFromVer(ver: string | undefined): string {
  if (!ver) return '';
  const dated = /^(.+?)-\d{8}_/.exec(ver);
  return `Avalon ${dated ? dated[1] : ver.slice(0, 3)}`;
}

/** Canaan Avalon: cgminer 4.x with the per-module "MM ID" Key[value] strings in stats. */
export const avalonDialect: CgminerDialect = {
  name: 'avalon',
  description: 'Canaan Avalon (cgminer with "MM ID" Key[value] stats)',
  collectCommands: ['version', 'summary', 'pools', 'stats'],
  requiredCommands: ['summary'],
  capabilities: { ...CGMINER_CONTROL, frequency: true, workMode: true },
  decode(replies: CollectedReplies): MinerReading {
    const summary = first(replies['summary'], 'SUMMARY');
    const version = first(replies['version'], 'VERSION');
    const modules = avalonModules(records(replies['stats'], 'STATS'));
    const { software, version: swVersion } = softwareOf(version);
    const model = str(version['PROD']) ?? (str(version['MODEL']) ? `Avalon ${str(version['MODEL'])}` : undefined)
      ?? avalonModelFromVer(modules[0]?.tokens.get('Ver'));
    const firmware = str(version['VERSION']) ?? (swVersion ? `${software} ${swVersion}` : '');
    return {
      ...emptyReading('avalon'),
      ...commonFields(replies, summary),
      vendor: 'avalon',
      model,
      firmware,
      ...summaryCounters(summary),
      hashrate5sHs: shortWindowHs(summary),
      hashrateAvgHs: averageHs(summary),
      powerW: powerOf(modules),
      boards: boardsOf(modules),
      fans: fansOf(modules),
      algorithm: 'sha256d',
    };
  },
};
