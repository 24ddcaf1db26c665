import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRigKeyFile } from './rig-key-file.loader';
import { addKeyToRigKeyFile, retireKeyInRigKeyFile } from './rig-key-file.writer';
import { SecretBytes } from './secret-bytes';

const T0 = Date.parse('2026-12-01T12:00:00Z');

describe('rig key file writer', () => {
  let dir: string;
  let path: string;
  const k1 = SecretBytes.generate();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rw-keyfile-'));
    path = join(dir, 'keys.json');
    writeFileSync(path, JSON.stringify({ comment: 'kept', rigs: { 'rig-1': [{ id: 'k1', secret: k1.exposeBase64url() }], 'rig-2': [{ id: 'x', secret: SecretBytes.generate().exposeBase64url() }] } }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds a key that the loader reads back as the signing key, keeping the rest of the file, mode 0600', () => {
    const k2 = { id: 'k2', secret: SecretBytes.generate(), created: T0, notBefore: T0 - 30_000, expires: T0 + 86_400_000 };
    expect(addKeyToRigKeyFile(path, 'rig-1', k2)).toBe('added');
    const text = readFileSync(path, 'utf8');
    const { ring, count } = parseRigKeyFile(text, path);
    expect(count).toBe(3);
    expect(ring.signingKey('rig-1', T0).id).toBe('k2');
    expect(ring.signingKey('rig-1', T0).secret.expose().equals(k2.secret.expose())).toBe(true);
    expect(ring.list('rig-2', T0).map((k) => k.id)).toEqual(['x']);
    expect(JSON.parse(text).comment).toBe('kept');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('treats a repeated delivery of the same key as unchanged, and refuses another secret under the same id', () => {
    const k2 = { id: 'k2', secret: SecretBytes.generate(), created: T0, notBefore: T0, expires: 8_640_000_000_000_000 };
    addKeyToRigKeyFile(path, 'rig-1', k2);
    const before = readFileSync(path, 'utf8');
    expect(addKeyToRigKeyFile(path, 'rig-1', k2)).toBe('unchanged');
    expect(() => addKeyToRigKeyFile(path, 'rig-1', { ...k2, secret: SecretBytes.generate() })).toThrow(/already has a different key k2/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(JSON.parse(before).rigs['rig-1'][1].expires).toBeUndefined();
  });

  it('adds a first key for a rig the file does not name, and creates a missing file', () => {
    const k = { id: 'a', secret: SecretBytes.generate(), created: T0, notBefore: T0, expires: T0 + 1000 };
    expect(addKeyToRigKeyFile(path, 'rig-new', k)).toBe('added');
    const fresh = join(dir, 'sub-none.json');
    expect(addKeyToRigKeyFile(fresh, 'rig-1', k)).toBe('added');
    expect(parseRigKeyFile(readFileSync(fresh, 'utf8'), fresh).count).toBe(1);
  });

  it('retires a key (then it no longer verifies), idempotently, but never a rig\'s last active key', () => {
    expect(() => retireKeyInRigKeyFile(path, 'rig-1', 'k1')).toThrow(/last key; add its successor/);
    addKeyToRigKeyFile(path, 'rig-1', { id: 'k2', secret: SecretBytes.generate(), created: T0, notBefore: T0, expires: T0 + 86_400_000 });
    expect(retireKeyInRigKeyFile(path, 'rig-1', 'k1')).toBe('retired');
    expect(retireKeyInRigKeyFile(path, 'rig-1', 'k1')).toBe('unchanged');
    expect(() => retireKeyInRigKeyFile(path, 'rig-1', 'nope')).toThrow(/has no key nope/);
    const { ring } = parseRigKeyFile(readFileSync(path, 'utf8'), path);
    expect(ring.lookup('rig-1', 'k1', T0)).toEqual({ ok: false, reason: 'retired_key' });
    expect(ring.lookup('rig-1', 'k2', T0).ok).toBe(true);
  });

  it('leaves a broken file alone and says so without echoing its contents', () => {
    writeFileSync(path, '{"rigs": [');
    expect(() => retireKeyInRigKeyFile(path, 'rig-1', 'k1')).toThrow(/not valid JSON .*the key file was not changed/);
    expect(readFileSync(path, 'utf8')).toBe('{"rigs": [');
  });
});
