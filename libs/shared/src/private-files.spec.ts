import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendPrivateFileSync, ensurePrivateDir, ensurePrivateFile, touchPrivateFile, writePrivateFileSync } from './private-files';

const mode = (path: string): number => statSync(path).mode & 0o777;

/** Real files under a umask of 0, so every 0600/0700 seen here was set by the helpers, not by the umask. */
describe('private-files', () => {
  let root: string;
  let umask: number;

  beforeEach(() => {
    umask = process.umask(0);
    root = mkdtempSync(join(tmpdir(), 'rigwarden-private-'));
  });

  afterEach(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('private-files: a new data dir and its missing parents are 0700', () => {
    const dir = join(root, 'a', 'b', 'data');
    expect(ensurePrivateDir(dir)).toBe(false);
    expect([mode(join(root, 'a')), mode(join(root, 'a', 'b')), mode(dir)]).toEqual([0o700, 0o700, 0o700]);
  });

  it('private-files: an existing 0755 data dir is narrowed to 0700; a system-level one (two levels deep) is left alone', () => {
    const dir = join(root, 'x', 'data');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    expect(mode(dir)).toBe(0o755);
    expect(ensurePrivateDir(dir)).toBe(true);
    expect(mode(dir)).toBe(0o700);
    expect(ensurePrivateDir(dir)).toBe(false);
    expect(ensurePrivateDir(tmpdir())).toBe(false); // /tmp: sticky, and shallow
    expect(mode(tmpdir())).not.toBe(0o700);
  });

  it('private-files: files are created 0600 and an existing 0644 one is narrowed', () => {
    const written = join(root, 'w.json');
    writeFileSync(written, 'old', { mode: 0o644 });
    writePrivateFileSync(written, 'new');
    const appended = join(root, 'journal');
    appendPrivateFileSync(appended, 'line\n');
    const touched = join(root, 'db');
    touchPrivateFile(touched);
    const existing = join(root, 'existing');
    writeFileSync(existing, 'x', { mode: 0o644 });
    expect(ensurePrivateFile(existing)).toBe(true);
    expect(ensurePrivateFile(join(root, 'missing'))).toBe(false);
    expect([written, appended, touched, existing].map(mode)).toEqual([0o600, 0o600, 0o600, 0o600]);
  });
});
