import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
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

  it('controllers starting together with one secrets file all end up with the first one written', async () => {
    // The real module, bundled, run by six processes at once: each reports the pepper it got and whether it made it.
    const bundle = join(dir.path, 'secrets.cjs');
    buildSync({ entryPoints: [join(__dirname, 'controller-secrets.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, tsconfig: join(__dirname, '../../../../tsconfig.base.json'), logLevel: 'silent' });
    const path = join(dir.path, 'shared', 'controller-secrets.json');
    // Every process loaded and waiting, then all at the same moment (as controllers reaching their secrets together).
    const startAt = Date.now() + 1500;
    const script = `const { loadOrCreateControllerSecrets } = require(${JSON.stringify(bundle)});
      while (Date.now() < ${startAt});
      const { secrets, created } = loadOrCreateControllerSecrets(${JSON.stringify(path)});
      process.stdout.write(JSON.stringify({ pepper: secrets.apiKeyPepper.exposeBase64url(), created }));`;
    const run = (): Promise<{ pepper: string; created: boolean }> => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { pepper: string; created: boolean }) : reject(new Error(`exit ${code}: ${err}`))));
    });
    const results = await Promise.all(Array.from({ length: 6 }, run));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const onFile = (JSON.parse(readFileSync(path, 'utf8')) as { apiKeyPepper: string }).apiKeyPepper;
    expect(new Set(results.map((r) => r.pepper))).toEqual(new Set([onFile]));
  });
});
