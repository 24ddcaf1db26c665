/**
 * JSON the way cgminer's API writes it: doubles with a fixed number of decimals ("MHS av":0.00, "Difficulty
 * Accepted":0.00000000), integers too large for a double (cgminer 2.11.4's uninitialised counters) as their exact
 * digits, and keys in the order they were added. JSON.stringify cannot print 0.00 or 7221068133453555255.
 */
export class RawNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A double printed with `digits` decimals (cgminer's %.Nf). */
export function fixed(value: number, digits: number): RawNumber {
  return new RawNumber(value.toFixed(digits));
}

/** bfgminer's difficulties: %.8f without the trailing zeros (0.00250004, 0.0005, 0). */
export function trimmed(value: number, digits = 8): RawNumber {
  const text = value.toFixed(digits).replace(/\.?0+$/, '');
  return new RawNumber(text === '' || text === '-0' ? '0' : text);
}

/** Exact digits, for values a double cannot hold. */
export function digits(text: string): RawNumber {
  return new RawNumber(text);
}

export function encodeCgminerJson(value: unknown): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(encodeCgminerJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}:${encodeCgminerJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
