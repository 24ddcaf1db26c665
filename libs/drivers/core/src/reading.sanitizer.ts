import type { Board, Fan, FieldWarning, HashrateWindow, Pool } from '@rigwarden/protocol';
import type { MinerReading } from './driver';

/**
 * The last check every value read from a miner passes before it is published: a number that cannot be true
 * (negative, NaN or infinite, beyond what any device does, a date outside 2009-2100) becomes ABSENT and a
 * FieldWarning says which field, what was sent and why. The rest of the reading is kept, so one bad field never
 * loses the whole reading, and what is left always encodes (an invalid Date made the encoder throw "Invalid time
 * value"). Pure and idempotent: a sanitised reading passes again unchanged.
 */

/** 10 PH/s for a whole miner and 2 PH/s for one board or GPU: far above any device made (an S21 XP is ~0.3 PH/s). */
export const MINER_HASHRATE_MAX_HS = 1e16;
export const BOARD_HASHRATE_MAX_HS = 2e15;
/** No miner shares, errors or getworks faster than this, however low the pool difficulty. */
const EVENTS_PER_SECOND_MAX = 1000;
const COUNTER_MAX = 1e12;
const UPTIME_MAX_S = 20 * 365 * 86400;
const SHARE_DIFFICULTY_MAX = 1e21;
const UINT32_MAX = 4294967295;
export const EARLIEST_SHARE_MS = Date.UTC(2009, 0, 3);
export const LATEST_SHARE_MS = Date.UTC(2100, 0, 1);

type Reason = 'negative' | 'not finite' | 'out of range' | 'implausible';

interface Range { min: number; max: number; integer?: boolean }

const RANGES = {
  hashrateMiner: { min: 0, max: MINER_HASHRATE_MAX_HS },
  hashrateBoard: { min: 0, max: BOARD_HASHRATE_MAX_HS },
  counter: { min: 0, max: COUNTER_MAX, integer: true },
  uptime: { min: 0, max: UPTIME_MAX_S, integer: true },
  powerMiner: { min: 0, max: 100_000 },
  powerBoard: { min: 0, max: 20_000 },
  // Below -60 °C or above 200 °C is a placeholder or a broken sensor, not a temperature.
  temperature: { min: -60, max: 200 },
  chips: { min: 0, max: 100_000, integer: true },
  percent: { min: 0, max: 100 },
  rpm: { min: 0, max: 100_000, integer: true },
  clockMhz: { min: 0, max: 50_000 },
  priority: { min: 0, max: 1_000_000, integer: true },
  difficulty: { min: 0, max: SHARE_DIFFICULTY_MAX },
  uint32: { min: 0, max: UINT32_MAX, integer: true },
} satisfies Record<string, Range>;

function describe(value: unknown): string {
  let text: string;
  if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  else if (typeof value === 'number') text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

class Checker {
  readonly warnings: FieldWarning[] = [];

  /** The value when it is a number within `range`; otherwise undefined and a warning. */
  number(field: string, value: number | undefined, range: Range, extraMax?: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    const reason = this.reason(value, range, extraMax);
    if (reason === undefined) return value;
    this.warnings.push({ field, value: describe(value), reason });
    return undefined;
  }

  date(field: string, value: Date | undefined): Date | undefined {
    if (value === undefined || value === null) return undefined;
    const ms = value instanceof Date ? value.getTime() : Number.NaN;
    if (Number.isFinite(ms) && ms >= EARLIEST_SHARE_MS && ms <= LATEST_SHARE_MS) return value;
    this.warnings.push({ field, value: describe(value), reason: Number.isFinite(ms) && ms < 0 ? 'negative' : 'out of range' });
    return undefined;
  }

  private reason(value: unknown, range: Range, extraMax?: number): Reason | undefined {
    if (typeof value !== 'number' || Number.isNaN(value)) return 'not finite';
    if (!Number.isFinite(value)) return 'not finite';
    if (value < 0 && range.min >= 0) return 'negative';
    if (value < range.min || value > range.max) return 'out of range';
    if (range.integer && !Number.isSafeInteger(value)) return 'out of range';
    if (extraMax !== undefined && value > extraMax) return 'implausible';
    return undefined;
  }
}

/** Returns a reading with every impossible number left out and one FieldWarning per refused value (appended). */
export function sanitizeReading(reading: MinerReading): MinerReading {
  const c = new Checker();
  const uptimeS = c.number('uptimeS', reading.uptimeS, RANGES.uptime);
  // A counter cannot have grown faster than any miner shares: e.g. cgminer 2.11.4's phantom "Accepted":1701146671 after 26 s.
  const eventsMax = uptimeS === undefined ? undefined : (uptimeS + 600) * EVENTS_PER_SECOND_MAX;
  const counter = (field: string, v: number | undefined): number | undefined => c.number(field, v, RANGES.counter, eventsMax);
  const boards: Board[] = (reading.boards ?? []).map((b, i) => ({
    ...b,
    index: c.number(`boards[${i}].index`, b.index, RANGES.uint32) ?? i,
    hashrateHs: c.number(`boards[${i}].hashrateHs`, b.hashrateHs, RANGES.hashrateBoard),
    boardTempC: c.number(`boards[${i}].boardTempC`, b.boardTempC, RANGES.temperature),
    chipTempC: c.number(`boards[${i}].chipTempC`, b.chipTempC, RANGES.temperature),
    chips: c.number(`boards[${i}].chips`, b.chips, RANGES.chips),
    hwErrors: counter(`boards[${i}].hwErrors`, b.hwErrors),
    fanPercent: c.number(`boards[${i}].fanPercent`, b.fanPercent, RANGES.percent),
    powerW: c.number(`boards[${i}].powerW`, b.powerW, RANGES.powerBoard),
    accepted: counter(`boards[${i}].accepted`, b.accepted),
    rejected: counter(`boards[${i}].rejected`, b.rejected),
    coreClockMhz: c.number(`boards[${i}].coreClockMhz`, b.coreClockMhz, RANGES.clockMhz),
    memoryClockMhz: c.number(`boards[${i}].memoryClockMhz`, b.memoryClockMhz, RANGES.clockMhz),
    frequencyMhz: c.number(`boards[${i}].frequencyMhz`, b.frequencyMhz, RANGES.clockMhz),
  }));
  const fans: Fan[] = (reading.fans ?? []).map((f, i) => ({
    ...f,
    index: c.number(`fans[${i}].index`, f.index, RANGES.uint32) ?? i,
    rpm: c.number(`fans[${i}].rpm`, f.rpm, RANGES.rpm),
    percent: c.number(`fans[${i}].percent`, f.percent, RANGES.percent),
  }));
  const pools: Pool[] = (reading.pools ?? []).map((p, i) => ({
    ...p,
    index: c.number(`pools[${i}].index`, p.index, RANGES.uint32) ?? i,
    priority: c.number(`pools[${i}].priority`, p.priority, RANGES.priority),
    accepted: counter(`pools[${i}].accepted`, p.accepted),
    rejected: counter(`pools[${i}].rejected`, p.rejected),
    stale: counter(`pools[${i}].stale`, p.stale),
    lastShareTime: c.date(`pools[${i}].lastShareTime`, p.lastShareTime),
    lastShareDifficulty: c.number(`pools[${i}].lastShareDifficulty`, p.lastShareDifficulty, RANGES.difficulty),
    difficultyAccepted: c.number(`pools[${i}].difficultyAccepted`, p.difficultyAccepted, RANGES.difficulty),
    getworks: counter(`pools[${i}].getworks`, p.getworks),
    diff1Shares: c.number(`pools[${i}].diff1Shares`, p.diff1Shares, RANGES.difficulty),
  }));
  const hashrateWindows: HashrateWindow[] = [];
  (reading.hashrateWindows ?? []).forEach((w, i) => {
    const hs = c.number(`hashrateWindows[${i}].hashrateHs`, w.hashrateHs, RANGES.hashrateMiner);
    if (hs === undefined) return; // a window without its rate says nothing
    hashrateWindows.push({ ...w, hashrateHs: hs, windowS: c.number(`hashrateWindows[${i}].windowS`, w.windowS, RANGES.uint32) });
  });
  const sanitized: MinerReading = {
    ...reading,
    port: c.number('port', reading.port, RANGES.uint32) ?? 0,
    uptimeS,
    hashrate5sHs: c.number('hashrate5sHs', reading.hashrate5sHs, RANGES.hashrateMiner),
    hashrateAvgHs: c.number('hashrateAvgHs', reading.hashrateAvgHs, RANGES.hashrateMiner),
    accepted: counter('accepted', reading.accepted),
    rejected: counter('rejected', reading.rejected),
    stale: counter('stale', reading.stale),
    hwErrors: counter('hwErrors', reading.hwErrors),
    powerW: c.number('powerW', reading.powerW, RANGES.powerMiner),
    boards, fans, pools, hashrateWindows,
    fieldWarnings: [...(reading.fieldWarnings ?? []), ...c.warnings],
  };
  return sanitized;
}
