/** Helpers that read cgminer reply fields whatever type the firmware chose for them. */

/** A number from a number or a numeric string ("  5.0000"); undefined for anything else (nan included). */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return undefined;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-negative integer count, or undefined. */
export function count(value: unknown): number | undefined {
  const n = num(value);
  return n === undefined || n < 0 ? undefined : Math.round(n);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const UNIT: Record<string, number> = { KHS: 1e3, MHS: 1e6, GHS: 1e9, THS: 1e12 };

/**
 * A hashrate in H/s from cgminer's unit-prefixed keys: "MHS 5s", "GHS av", "KHS 5s", ...
 * `window` is the suffix ("5s", "av", "1m", ...).
 */
export function hashrateHs(record: Record<string, unknown>, window: string): number | undefined {
  for (const [unit, factor] of Object.entries(UNIT)) {
    const value = num(record[`${unit} ${window}`]);
    if (value !== undefined) return value * factor;
  }
  return undefined;
}

/** The array under `key` in a reply, or [] when the miner sent none. */
export function section(reply: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const value = reply[key];
  if (Array.isArray(value)) return value.filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object');
  return [];
}
