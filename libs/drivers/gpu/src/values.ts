/** Readers for miner JSON fields, whatever type the miner chose for them. */

export type Json = Record<string, unknown>;

/** A finite number from a number or a numeric string; undefined otherwise. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-negative integer count, or undefined. */
export function count(value: unknown): number | undefined {
  const n = num(value);
  return n === undefined || n < 0 ? undefined : Math.round(n);
}

/**
 * A physical reading (°C, W, fan %) from a miner's API. Miners print 0 when they
 * could not read the sensor (lolMiner "Fan Speed (%)": 0, gminer "power_usage": 0,
 * xmrig "power": 0 on a running GPU), so 0 and negatives are absent, never 0 °C.
 * The OS sensors, matched by PCI bus id, are authoritative anyway.
 */
export function reading(value: unknown): number | undefined {
  const n = num(value);
  return n === undefined || n <= 0 ? undefined : n;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function records(value: unknown): Json[] {
  return arr(value).filter((v): v is Json => obj(v) !== undefined);
}

const PREFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/**
 * The factor from a miner's hashrate unit to H/s: "H/s" 1, "kH/s" 1e3, "MH/s" 1e6,
 * "Sol/s" 1, "G/s" (Cuckoo graphs) 1. Equihash solutions and Cuckoo graphs per second
 * are reported as the algorithm's "hashes" per second, as every pool does.
 * Undefined for a unit we do not know.
 */
export function unitFactor(unit: string | undefined): number | undefined {
  if (unit === undefined || unit.trim() === '') return 1;
  const text = unit.trim().replace(/\\\//g, '/').toLowerCase();
  const match = /^([kmgtp]?)(h|sol|g|gps|graphs?)(\/s)?$/.exec(text) ?? /^([kmgtp]?)(h|sol)s$/.exec(text);
  if (match) return PREFIX[match[1]!];
  if (text === 'g/s' || text === 'gps') return 1;
  return undefined;
}
