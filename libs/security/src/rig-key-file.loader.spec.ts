import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { RigKeyFile, parseRigKeyFile } from './rig-key-file.loader';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';
import { findSecretLeaks } from './secret.scanner';
import { T0 } from './testing/envelope-fixtures';

const s1 = SecretBytes.generate();
const s2 = SecretBytes.generate();
const file = (keys: unknown) => JSON.stringify({ rigs: { 'rig-7': keys } });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rw-keyfile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(path: string, text: string, mtimeS: number): void {
  writeFileSync(path, text);
  utimesSync(path, mtimeS, mtimeS);
}

describe('rig-key-file', () => {
  it('rig-key-file: parses keys with times, defaults and retirement', () => {
    const { ring, count } = parseRigKeyFile(file([
      { id: 'k1', secret: s1.exposeBase64url(), retired: true },
      { id: 'k2', secret: s2.exposeBase64url(), notBefore: '2026-11-01T00:00:00Z', expires: '2027-11-01T00:00:00Z' },
    ]), 'keys.json');
    expect(count).toBe(2);
    expect(ring.lookup('rig-7', 'k1', T0)).toEqual({ ok: false, reason: 'retired_key' });
    expect(ring.signingKey('rig-7', T0).id).toBe('k2');
    expect(ring.lookup('rig-7', 'k2', Date.parse('2027-11-01T00:00:00Z'))).toEqual({ ok: false, reason: 'key_expired' });
  });

  it.each<[string, string, string]>([
    ['not JSON', '{', ''],
    ['no rigs mapping', '{"rigs":[]}', 'rigs'],
    ['a rig without a list', '{"rigs":{"rig-7":{}}}', 'rigs.rig-7'],
    ['a key without id', file([{ secret: s1.exposeBase64url() }]), 'rigs.rig-7[0].id'],
    ['a short secret', file([{ id: 'k1', secret: 'c2hvcnQ' }]), 'rigs.rig-7[0].secret'],
    ['a bad time', file([{ id: 'k1', secret: s1.exposeBase64url(), expires: 'soon' }]), 'rigs.rig-7[0].expires'],
    ['a duplicate key id', file([{ id: 'k1', secret: s1.exposeBase64url() }, { id: 'k1', secret: s2.exposeBase64url() }]), 'rigs.rig-7[1]'],
  ])('rig-key-file: %s is an error naming the file and the key path, never a secret', (_name, text, field) => {
    let error: unknown;
    try {
      parseRigKeyFile(text, '/etc/rigwarden/keys.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecurityError);
    expect(error).toMatchObject({ context: { path: '/etc/rigwarden/keys.json', field } });
    expect(findSecretLeaks(inspect(error), { s1, s2 })).toEqual([]);
  });

  it('rig-key-file: a missing file is an empty ring; a rotated file takes effect on the next lookup', () => {
    const path = join(dir, 'keys.json');
    const keys = new RigKeyFile(path);
    expect(keys.lookup('rig-7', 'k1', T0)).toEqual({ ok: false, reason: 'unknown_key' });
    write(path, file([{ id: 'k1', secret: s1.exposeBase64url() }]), 1_000);
    expect(keys.lookup('rig-7', 'k1', T0).ok).toBe(true);
    write(path, file([{ id: 'k1', secret: s1.exposeBase64url(), retired: true }, { id: 'k2', secret: s2.exposeBase64url() }]), 2_000);
    expect(keys.lookup('rig-7', 'k1', T0)).toEqual({ ok: false, reason: 'retired_key' });
    expect(keys.keyRing().signingKey('rig-7', T0).id).toBe('k2');
    expect(keys.keyCount).toBe(2);
  });

  it('rig-key-file: a broken file fails the first load, and later keeps the previous keys', () => {
    const path = join(dir, 'keys.json');
    write(path, '{', 1_000);
    expect(() => new RigKeyFile(path)).toThrow(SecurityError);
    write(path, file([{ id: 'k1', secret: s1.exposeBase64url() }]), 2_000);
    const keys = new RigKeyFile(path);
    write(path, '{"rigs": {"rig-7": [ {"id": "k1", "sec', 3_000); // caught mid-write
    expect(keys.lookup('rig-7', 'k1', T0).ok).toBe(true);
  });
});
