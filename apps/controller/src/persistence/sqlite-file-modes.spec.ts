import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate } from './migrations';
import { SqliteDatabase } from './sqlite-database';

const mode = (path: string): number => statSync(path).mode & 0o777;

/**
 * The database holds API key hashes, the audit log and pool passwords: it and its -wal/-shm are 0600 in a 0700
 * directory, under a umask of 0 (so nothing here is the umask's doing), new or left wider by an older version.
 */
describe('sqlite file modes', () => {
  let dir: TempDir;
  let umask: number;

  beforeEach(() => {
    umask = process.umask(0);
    dir = makeTempDir('rigwarden-sqlite-modes-');
  });

  afterEach(() => {
    process.umask(umask);
    dir.remove();
  });

  it('a new database, its WAL and shared-memory files are 0600 in a 0700 directory', async () => {
    const data = join(dir.path, 'data');
    const path = join(data, 'rigwarden.db');
    const db = await SqliteDatabase.open(path);
    await migrate(db);
    await db.exec("CREATE TABLE t (x); INSERT INTO t VALUES ('secret')");
    expect(existsSync(`${path}-wal`) && existsSync(`${path}-shm`)).toBe(true);
    expect({ dir: mode(data), db: mode(path), wal: mode(`${path}-wal`), shm: mode(`${path}-shm`) }).toEqual({ dir: 0o700, db: 0o600, wal: 0o600, shm: 0o600 });
    await db.close();
  });

  it('an existing 0644 database with 0644 -wal/-shm in a 0755 directory is fixed when opened', async () => {
    const data = join(dir.path, 'old-install');
    const path = join(data, 'rigwarden.db');
    const first = await SqliteDatabase.open(path);
    await first.exec("CREATE TABLE t (x); INSERT INTO t VALUES ('secret')");
    await first.close();
    chmodSync(data, 0o755);
    chmodSync(path, 0o644);
    writeFileSync(`${path}-wal`, '', { mode: 0o644 });
    writeFileSync(`${path}-shm`, '', { mode: 0o644 });
    chmodSync(`${path}-wal`, 0o644);
    chmodSync(`${path}-shm`, 0o644);
    const db = await SqliteDatabase.open(path);
    expect(await db.all<{ x: string }>('SELECT x FROM t')).toEqual([{ x: 'secret' }]);
    expect({ dir: mode(data), db: mode(path), wal: mode(`${path}-wal`), shm: mode(`${path}-shm`) }).toEqual({ dir: 0o700, db: 0o600, wal: 0o600, shm: 0o600 });
    await db.close();
  });
});
