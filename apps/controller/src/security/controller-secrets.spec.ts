import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { loadOrCreateControllerSecrets } from './controller-secrets';

describe('controller secrets file', () => {
  let dir: TempDir;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => dir.remove());

  it('is made once (mode 0600) and read back unchanged on the next start', () => {
    const path = join(dir.path, 'sub', 'controller-secrets.json');
    const first = loadOrCreateControllerSecrets(path);
    expect(first.created).toBe(true);
    expect(first.secrets.createdNow).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateControllerSecrets(path);
    expect(again.created).toBe(false);
    expect(again.secrets.createdNow).toBe(false);
    expect(again.secrets.apiKeyPepper.expose().equals(first.secrets.apiKeyPepper.expose())).toBe(true);
    expect(again.secrets.auditKey.expose().equals(first.secrets.auditKey.expose())).toBe(true);
    expect(first.secrets.apiKeyPepper.expose().equals(first.secrets.auditKey.expose())).toBe(false);
  });

  it('a secrets file left 0644 is narrowed to 0600 when read; a new one\'s directory is 0700', () => {
    const path = join(dir.path, 'sub', 'controller-secrets.json');
    loadOrCreateControllerSecrets(path);
    expect(statSync(join(dir.path, 'sub')).mode & 0o777).toBe(0o700);
    chmodSync(path, 0o644);
    expect(loadOrCreateControllerSecrets(path).created).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['{ not json', /not valid JSON .*restore it from a backup/],
    ['{"apiKeyPepper":"short","auditKey":"short"}', /apiKeyPepper must be base64url text of at least 32 bytes/],
  ])('refuses a broken file %j naming what to do, without echoing it', (text, message) => {
    const path = join(dir.path, 'controller-secrets.json');
    writeFileSync(path, text);
    expect(() => loadOrCreateControllerSecrets(path)).toThrow(message);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});
