import { PduError } from './pdu-error';

/**
 * Small checkers for PDU config. Each refusal is a PduError of kind bad_config
 * whose message and `field` name the key path ("agent.miners[3].pdu.community")
 * and say what is allowed. Secrets are never echoed.
 */
export function configError(field: string, message: string): PduError {
  return new PduError('bad_config', message, { host: '', port: 0, operation: `config ${field}`, field });
}

export type ConfigRecord = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown, path: string): ConfigRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(path, `must be a mapping with at least "driver", "host" and "outlet", got ${describe(value)}`);
  }
  return value as ConfigRecord;
}

export function requiredString(record: ConfigRecord, key: string, path: string, opts: { secret?: boolean; maxBytes?: number } = {}): string {
  const value = record[key];
  if (value === undefined || value === null) throw configError(`${path}.${key}`, 'is required: a non-empty string');
  return checkString(value, `${path}.${key}`, opts);
}

export function optionalString(record: ConfigRecord, key: string, path: string, opts: { secret?: boolean; maxBytes?: number } = {}): string | undefined {
  const value = record[key];
  return value === undefined ? undefined : checkString(value, `${path}.${key}`, opts);
}

function checkString(value: unknown, field: string, opts: { secret?: boolean; maxBytes?: number }): string {
  const shown = opts.secret ? `a ${value === null ? 'null' : typeof value}` : describe(value);
  if (typeof value !== 'string') throw configError(field, `must be a non-empty string (quote it in YAML), got ${shown}`);
  if (value.length === 0) throw configError(field, 'must be a non-empty string, got an empty one');
  if (value.trim() !== value) throw configError(field, 'has leading or trailing spaces; quote the value exactly');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw configError(field, 'contains control characters');
  const max = opts.maxBytes ?? 255;
  if (Buffer.byteLength(value, 'utf8') > max) throw configError(field, `is longer than ${max} bytes`);
  return value;
}

export function optionalInteger(record: ConfigRecord, key: string, path: string, min: number, max: number): number | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  return checkInteger(value, `${path}.${key}`, min, max);
}

export function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(field, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function optionalEnum<T extends string>(record: ConfigRecord, key: string, path: string, allowed: readonly T[]): T | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw configError(`${path}.${key}`, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
