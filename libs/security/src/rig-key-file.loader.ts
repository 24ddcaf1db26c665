import { readFileSync, statSync } from 'node:fs';
import { KeyRing, type KeyLookup } from './key-ring';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

/**
 * The per-rig command keys file, shared by the controller (signs) and the agent (verifies):
 *
 *   { "rigs": { "s19-row1-01": [ { "id": "k-2026-11", "secret": "<base64url, >= 32 bytes>",
 *                                  "notBefore": "2026-11-01T00:00:00Z", "expires": "2027-11-01T00:00:00Z",
 *                                  "retired": false } ] } }
 *
 * Several keys per rig give rotation its overlap window. Errors name the file and the key path, never a secret.
 */
export function parseRigKeyFile(text: string, path: string): { ring: KeyRing; count: number } {
  const fail = (field: string, message: string): never => {
    throw new SecurityError('invalid_argument', `${path}: ${field || '(top level)'}: ${message}`, { path, field });
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail('', `not valid JSON: ${(err as Error).message}`);
  }
  const rigs = (raw as { rigs?: unknown } | null)?.rigs;
  if (rigs === null || typeof rigs !== 'object' || Array.isArray(rigs)) return fail('rigs', 'must be a mapping of rig id to a list of keys');
  const ring = new KeyRing();
  let count = 0;
  for (const [rigId, keys] of Object.entries(rigs as Record<string, unknown>)) {
    if (!Array.isArray(keys)) fail(`rigs.${rigId}`, 'must be a list of keys');
    (keys as Array<Record<string, unknown>>).forEach((k, i) => {
      const at = `rigs.${rigId}[${i}]`;
      const time = (field: string, fallback: number): number => {
        const v = k[field];
        if (v === undefined) return fallback;
        const ms = typeof v === 'string' ? Date.parse(v) : NaN;
        return Number.isNaN(ms) ? fail(`${at}.${field}`, `must be an RFC 3339 time, got ${JSON.stringify(v)}`) : ms;
      };
      if (typeof k['id'] !== 'string') fail(`${at}.id`, 'is required (a string)');
      if (typeof k['secret'] !== 'string') fail(`${at}.secret`, 'is required (base64url, at least 32 bytes)');
      let secret: SecretBytes;
      try {
        secret = SecretBytes.fromBase64url(k['secret'] as string);
      } catch (err) {
        return fail(`${at}.secret`, (err as Error).message);
      }
      const notBefore = time('notBefore', 0);
      const expires = time('expires', 8_640_000_000_000_000); // outside the try: its error names its own field
      try {
        ring.add(rigId, { id: k['id'] as string, secret, created: notBefore, notBefore, expires, retired: k['retired'] === true });
      } catch (err) {
        fail(at, (err as Error).message);
      }
      count++;
    });
  }
  return { ring, count };
}

/**
 * A key ring read from a rig key file and re-read when the file changes, so a rotated key takes effect without a
 * restart. A missing file is an empty ring (every command refused / nothing signable); a broken file fails the
 * first load and, later, keeps the previous keys.
 */
export class RigKeyFile {
  private ring = new KeyRing();
  /** mtime, inode and size of the file last read ('' before the first read): an atomic rename changes the inode even
   * when two writes fall within the file system's timestamp granularity (a few ms on Linux). */
  private version = '';
  keyCount = 0;

  constructor(readonly path: string) {
    this.reload();
  }

  lookup(principal: string, keyId: string, now: number): KeyLookup {
    this.reload();
    return this.ring.lookup(principal, keyId, now);
  }

  /** The current ring (for signing). */
  keyRing(): KeyRing {
    this.reload();
    return this.ring;
  }

  reload(): void {
    let version: string;
    try {
      const stat = statSync(this.path);
      version = `${stat.mtimeMs}:${stat.ino}:${stat.size}`;
    } catch {
      if (this.version === '') this.version = 'missing';
      return;
    }
    if (version === this.version) return;
    const first = this.version === '';
    try {
      const { ring, count } = parseRigKeyFile(readFileSync(this.path, 'utf8'), this.path);
      this.ring = ring;
      this.keyCount = count;
    } catch (err) {
      if (first) throw err;
    }
    this.version = version;
  }
}
