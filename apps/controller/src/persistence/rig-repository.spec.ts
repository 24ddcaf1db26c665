import { join } from 'node:path';
import { MinerSnapshot, RigState } from '@rigwarden/protocol';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate, MIGRATIONS } from './migrations';
import { RigRepository } from './rig-repository';
import { SqliteDatabase } from './sqlite-database';

const T0 = Date.parse('2026-11-22T10:00:00Z');

function snap(rigId: string, seq: number, minerId = 'm1', hashrate = 100): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId, seq, hashrate5sHs: hashrate, collectedAt: new Date(T0 + seq * 1000), agentId: 'agent-1',
    boards: [{ index: 0, boardTempC: 60 + seq }],
  });
}

describe('RigRepository (SQLite file)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let repo: RigRepository;

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'sub', 'rigwarden.db'));
    await migrate(db);
    repo = new RigRepository(db);
  });
  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('runs in WAL mode and records the schema version', async () => {
    expect(await db.get<{ journal_mode: string }>('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
    expect(await db.get('SELECT MAX(version) AS v FROM schema_migrations')).toEqual({ v: MIGRATIONS[MIGRATIONS.length - 1]!.version });
    expect(await migrate(db)).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version); // idempotent
  });

  it('stores a batch and serves the latest status per miner', async () => {
    const result = await repo.writeSnapshots([snap('r1', 1), snap('r1', 2), snap('r2', 1, 'x', 50)]);
    expect(result).toEqual({ inserted: 3, duplicates: 0 });
    const rig = await repo.getRig('r1');
    expect(rig).toMatchObject({ rigId: 'r1', online: true, lastSeq: 2 });
    expect(rig!.lastSeen!.getTime()).toBe(T0 + 2000);
    expect(rig!.miners).toHaveLength(1);
    expect(rig!.miners[0]!.seq).toBe(2);
    expect(rig!.miners[0]!.boards[0]!.boardTempC).toBe(62);
  });

  it('drops duplicates by (rig, seq), within a batch and across batches', async () => {
    await repo.writeSnapshots([snap('r1', 1), snap('r1', 2)]);
    const result = await repo.writeSnapshots([snap('r1', 2), snap('r1', 3), snap('r1', 3)]);
    expect(result).toEqual({ inserted: 1, duplicates: 2 });
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 3 });
  });

  it('does not let a late, older snapshot overwrite newer status', async () => {
    await repo.writeSnapshots([snap('r1', 5, 'm1', 500)]);
    await repo.writeSnapshots([snap('r1', 4, 'm1', 400)]);
    const rig = await repo.getRig('r1');
    expect(rig!.miners[0]!.hashrate5sHs).toBe(500);
    expect(rig!.lastSeq).toBe(5);
  });

  it('writes batches larger than one multi-row INSERT', async () => {
    const batch = Array.from({ length: 250 }, (_, i) => snap(`rig-${i % 10}`, Math.floor(i / 10) + 1));
    expect(await repo.writeSnapshots(batch)).toEqual({ inserted: 250, duplicates: 0 });
    expect(await repo.listRigs(100, '')).toHaveLength(10);
  });

  it('applies a rig state only when it is newer than the stored one', async () => {
    await repo.writeSnapshots([snap('r1', 1)]);
    await repo.writeState(RigState.fromPartial({ rigId: 'r1', online: false, at: new Date(T0 + 10_000) }));
    await repo.writeState(RigState.fromPartial({ rigId: 'r1', online: true, at: new Date(T0 + 5_000) }));
    expect((await repo.getRig('r1'))!.online).toBe(false);
  });

  it('pages rigs in id order', async () => {
    await repo.writeSnapshots(['c', 'a', 'b', 'd'].map((r) => snap(r, 1)));
    expect((await repo.listRigs(2, '')).map((r) => r.rigId)).toEqual(['a', 'b']);
    expect((await repo.listRigs(2, 'b')).map((r) => r.rigId)).toEqual(['c', 'd']);
    expect(await repo.getRig('zzz')).toBeUndefined();
  });

  it('loses nothing when two batches are written at the same time', async () => {
    const a = repo.writeSnapshots(Array.from({ length: 50 }, (_, i) => snap('a', i + 1)));
    const b = repo.writeSnapshots(Array.from({ length: 50 }, (_, i) => snap('b', i + 1)));
    await Promise.all([a, b]);
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 100 });
  });
});
