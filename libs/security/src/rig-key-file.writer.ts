import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SigningKey } from './key-ring';
import { SecurityError } from './security-error';

/** What a change to a rig key file did: `unchanged` when the file already said so (a repeated rotation step). */
export type RigKeyFileChange = 'added' | 'retired' | 'unchanged';

type RawKey = Record<string, unknown>;
type RawFile = { rigs: Record<string, RawKey[]> } & Record<string, unknown>;

/** The largest time the file format stores implicitly (a key without `expires`). */
const FOREVER = 8_640_000_000_000_000;

function readRaw(path: string): RawFile {
  if (!existsSync(path)) return { rigs: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SecurityError('invalid_argument', `${path}: not valid JSON (${(err as Error).message}); the key file was not changed`, { path });
  }
  const rigs = (raw as { rigs?: unknown } | null)?.rigs;
  if (rigs === null || typeof rigs !== 'object' || Array.isArray(rigs)) {
    throw new SecurityError('invalid_argument', `${path}: rigs: must be a mapping of rig id to a list of keys; the key file was not changed`, { path, field: 'rigs' });
  }
  return raw as RawFile;
}

/** Write to a temporary file, then rename over the old one: a reader sees the old file or the new one, never half. */
function writeRaw(path: string, file: RawFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * Adds `key` to `rigId`'s keys in the rig key file (format: see parseRigKeyFile), atomically and keeping everything
 * else in the file as it was. Adding a key id the rig already has with the same secret is `unchanged` (a repeated
 * delivery); with another secret it is an error, so a key id never changes meaning.
 */
export function addKeyToRigKeyFile(path: string, rigId: string, key: SigningKey): RigKeyFileChange {
  const file = readRaw(path);
  const keys = Array.isArray(file.rigs[rigId]) ? file.rigs[rigId] : [];
  const existing = keys.find((k) => k['id'] === key.id);
  if (existing) {
    if (existing['secret'] === key.secret.exposeBase64url()) return 'unchanged';
    throw new SecurityError('duplicate_key', `${path}: rig ${rigId} already has a different key ${key.id}; the key file was not changed`, { path, rigId, keyId: key.id });
  }
  const entry: RawKey = { id: key.id, secret: key.secret.exposeBase64url(), notBefore: new Date(key.notBefore).toISOString() };
  if (key.expires < FOREVER) entry['expires'] = new Date(key.expires).toISOString();
  file.rigs[rigId] = [...keys, entry];
  writeRaw(path, file);
  return 'added';
}

/**
 * Marks `keyId` of `rigId` retired (it neither signs nor verifies from then on), atomically. Refuses to retire a
 * rig's last key that is not retired yet, which would cut the rig off from every command, including a new key.
 */
export function retireKeyInRigKeyFile(path: string, rigId: string, keyId: string): RigKeyFileChange {
  const file = readRaw(path);
  const keys = Array.isArray(file.rigs[rigId]) ? file.rigs[rigId] : [];
  const key = keys.find((k) => k['id'] === keyId);
  if (!key) throw new SecurityError('unknown_key', `${path}: rig ${rigId} has no key ${keyId}; the key file was not changed`, { path, rigId, keyId });
  if (key['retired'] === true) return 'unchanged';
  if (!keys.some((k) => k !== key && k['retired'] !== true)) {
    throw new SecurityError('no_active_key', `${path}: ${keyId} is rig ${rigId}'s last key; add its successor before retiring it`, { path, rigId, keyId });
  }
  key['retired'] = true;
  writeRaw(path, file);
  return 'retired';
}
