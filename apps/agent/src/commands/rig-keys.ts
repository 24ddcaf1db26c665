import { readFileSync, statSync } from 'node:fs';
import { KeyRing, SecretBytes, type KeyLookup, type KeyResolver } from '@rigwarden/security';
import { ConfigError } from '../config/config-error';

/**
 * The per-rig HMAC keys that commands must be signed with, read from a JSON file:
 *
 *   { "rigs": { "s19-row1-01": [ { "id": "k-2026-11", "secret": "<base64url, >= 32 bytes>",
 *                                  "notBefore": "2026-11-01T00:00:00Z", "expires": "2027-11-01T00:00:00Z",
 *                                  "retired": false } ] } }
 *
 * Several keys per rig give rotation an overlap window. The file is re-read when
 * it changes, so a rotated key takes effect without a restart. Secrets are never logged.
 */
export class RigKeyFile implements KeyResolver {
  private ring = new KeyRing();
  private mtimeMs = -1;
  keyCount = 0;

  constructor(private readonly path: string) {
    this.reload();
  }

  lookup(principal: string, keyId: string, now: number): KeyLookup {
    this.reload();
    return this.ring.lookup(principal, keyId, now);
  }

  /** Re-reads the file if it changed. A broken file keeps the previous keys and throws a ConfigError at boot only. */
  reload(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      if (this.mtimeMs === -1) this.mtimeMs = 0; // no file: no keys, every command is refused (unknown_key)
      return;
    }
    if (mtimeMs === this.mtimeMs) return;
    const boot = this.mtimeMs === -1;
    try {
      const { ring, count } = parseKeyFile(readFileSync(this.path, 'utf8'), this.path);
      this.ring = ring;
      this.keyCount = count;
      this.mtimeMs = mtimeMs;
    } catch (err) {
      if (boot) throw err;
      this.mtimeMs = mtimeMs; // keep the old keys; the error was logged by whoever wrote the file
    }
  }
}

export function parseKeyFile(text: string, path: string): { ring: KeyRing; count: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, '', `not valid JSON: ${(err as Error).message}`);
  }
  const rigs = (raw as { rigs?: unknown })?.rigs;
  if (rigs === null || typeof rigs !== 'object' || Array.isArray(rigs)) throw new ConfigError(path, 'rigs', 'must be a mapping of rig id to a list of keys');
  const ring = new KeyRing();
  let count = 0;
  for (const [rigId, keys] of Object.entries(rigs as Record<string, unknown>)) {
    if (!Array.isArray(keys)) throw new ConfigError(path, `rigs.${rigId}`, 'must be a list of keys');
    keys.forEach((k: Record<string, unknown>, i) => {
      const at = `rigs.${rigId}[${i}]`;
      const time = (field: string, fallback: number): number => {
        const v = k[field];
        if (v === undefined) return fallback;
        const ms = typeof v === 'string' ? Date.parse(v) : NaN;
        if (Number.isNaN(ms)) throw new ConfigError(path, `${at}.${field}`, `must be an RFC 3339 time, got ${JSON.stringify(v)}`);
        return ms;
      };
      if (typeof k['id'] !== 'string') throw new ConfigError(path, `${at}.id`, 'is required (a string)');
      if (typeof k['secret'] !== 'string') throw new ConfigError(path, `${at}.secret`, 'is required (base64url, at least 32 bytes)');
      let secret: SecretBytes;
      try {
        secret = SecretBytes.fromBase64url(k['secret']);
      } catch (err) {
        throw new ConfigError(path, `${at}.secret`, (err as Error).message);
      }
      const notBefore = time('notBefore', 0);
      ring.add(rigId, { id: k['id'], secret, created: notBefore, notBefore, expires: time('expires', 8_640_000_000_000_000), retired: k['retired'] === true });
      count++;
    });
  }
  return { ring, count };
}
