import type { Board } from '@rigwarden/protocol';

/**
 * Counters no real device reaches. A share counter of 1e9 is 88 years of shares at 0.36/s (an S19 at 100 TH/s and
 * difficulty 65536); cgminer 2.11.4's uninitialised second CPU shows Accepted 1701146671 and Rejected 1969368434 at
 * 0 H/s (its "Difficulty Rejected" is 1.1e165). At 0 H/s a counter above IDLE_COUNTER_LIMIT is impossible; above
 * COUNTER_LIMIT it is impossible whatever the hashrate.
 */
const IDLE_COUNTER_LIMIT = 1e9;
const COUNTER_LIMIT = 1e12;
/** No sensor of a working device reads this hot; uninitialised memory does (it is read as a double or an int). */
const TEMP_LIMIT_C = 200;
/** Values broken or absent sensors report on real boards (plausibleTempC drops them as temperatures): not phantoms. */
const SENSOR_SENTINELS: ReadonlySet<number> = new Set([255, 256, 32767, 32768, 65535]);
/** 100 PH/s on one board or device: beyond any hardware. */
const HASHRATE_LIMIT_HS = 1e17;

/**
 * Why a device the miner lists cannot be real, or undefined. The driver's phantom_reason comes first; then the
 * policy lib's own second line: impossible counters, temperatures or hashrates. A phantom is shown but ignored by
 * every policy (not dead, not missing, not expected).
 */
export function phantomReason(board: Board): string | undefined {
  if (board.phantomReason) return board.phantomReason;
  const hashrate = board.hashrateHs;
  const idle = hashrate === undefined || !(hashrate > 0);
  const counters: Array<[string, number | undefined]> = [
    ['accepted', board.accepted],
    ['rejected', board.rejected],
    ['hardware errors', board.hwErrors],
  ];
  for (const [name, value] of counters) {
    if (value === undefined) continue;
    if (value > COUNTER_LIMIT) return `${name} ${value}: beyond any real device`;
    if (idle && value > IDLE_COUNTER_LIMIT) return `${name} ${value} at 0 H/s: beyond any real device (uninitialised values)`;
  }
  for (const [name, value] of [['chip temperature', board.chipTempC], ['board temperature', board.boardTempC]] as const) {
    if (value !== undefined && value > TEMP_LIMIT_C && !SENSOR_SENTINELS.has(value)) return `${name} ${value} °C: not a real reading`;
  }
  if (hashrate !== undefined && hashrate > HASHRATE_LIMIT_HS) return `hashrate ${hashrate} H/s: beyond any real device`;
  return undefined;
}
