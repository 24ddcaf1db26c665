import { join } from 'node:path';
import { MinerSnapshot, RigState } from '@rigwarden/protocol';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate, MIGRATIONS } from './migrations';
import { RigRepository, SnapshotBatch } from './rig-repository';
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
    expect(await db.get('PRAGMA page_size')).toEqual({ page_size: 8192 });
    expect(await db.get('PRAGMA wal_autocheckpoint')).toEqual({ wal_autocheckpoint: 4000 });
    expect(await db.get('PRAGMA synchronous')).toEqual({ synchronous: 1 }); // NORMAL
    expect(await db.get('PRAGMA cache_size')).toEqual({ cache_size: -16384 }); // 16 MiB
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

  it('fills every column of a row from the batch, in arrival order, and keeps the payload text (given as text or bytes)', async () => {
    const odd = MinerSnapshot.fromPartial({ ...snap('r"q', 3, 'm\\1 "é"', 1.5e21), hashrate5sHs: undefined, hashrateAvgHs: 1.5e21, boards: [] });
    const payload = (s: MinerSnapshot): string => JSON.stringify(MinerSnapshot.toJSON(s));
    const batch = [snap('r2', 1, 'm1', 42), snap('r1', 7), odd];
    await repo.writeSnapshots(batch, [payload(batch[0]!), Buffer.from(payload(batch[1]!)), Buffer.from(payload(odd))]);
    expect(await db.all("SELECT typeof(snapshot) AS type FROM snapshots WHERE typeof(snapshot) <> 'text'")).toEqual([]);
    expect(await db.all('SELECT id, rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot FROM snapshots ORDER BY id')).toEqual([
      { id: 1, rig_id: 'r2', seq: 1, miner_id: 'm1', collected_at: T0 + 1000, hashrate_hs: 42, max_temp_c: 61, snapshot: payload(batch[0]!) },
      { id: 2, rig_id: 'r1', seq: 7, miner_id: 'm1', collected_at: T0 + 7000, hashrate_hs: 100, max_temp_c: 67, snapshot: payload(batch[1]!) },
      { id: 3, rig_id: 'r"q', seq: 3, miner_id: 'm\\1 "é"', collected_at: T0 + 3000, hashrate_hs: 1.5e21, max_temp_c: null, snapshot: payload(odd) },
    ]);
    expect(await db.all('SELECT rig_id, agent_id, last_seq FROM rigs_seen ORDER BY rig_id')).toEqual([
      { rig_id: 'r"q', agent_id: 'agent-1', last_seq: 3 }, { rig_id: 'r1', agent_id: 'agent-1', last_seq: 7 }, { rig_id: 'r2', agent_id: 'agent-1', last_seq: 1 },
    ]);
    expect((await repo.getRig('r"q'))!.miners).toEqual([odd]);
  });

  it('drops duplicates by (rig, seq), within a batch and across batches', async () => {
    await repo.writeSnapshots([snap('r1', 1), snap('r1', 2)]);
    const result = await repo.writeSnapshots([snap('r1', 2), snap('r1', 3), snap('r1', 3)]);
    expect(result).toEqual({ inserted: 1, duplicates: 2 });
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 3 });
  });

  it('tells new from duplicate snapshots in a batch of several statements, duplicates scattered through it', async () => {
    await repo.writeSnapshots([snap('r3', 2), snap('r5', 1), snap('r7', 3)]);
    const batch = Array.from({ length: 600 }, (_, i) => snap(`r${i % 10}`, Math.floor(i / 10) + 1, 'm1', i));
    batch.push(snap('r0', 1), snap('r9', 60, 'm1', 12345)); // repeats within the batch: the first one wins
    expect(await repo.writeSnapshots(batch)).toEqual({ inserted: 597, duplicates: 5 });
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 600 });
    for (const [rig, seq, hashrate] of [['r9', 60, 599], ['r0', 60, 590], ['r3', 60, 593]] as const) {
      expect(await db.get('SELECT seq, hashrate_hs FROM snapshots s JOIN miner_status m USING (rig_id, seq) WHERE rig_id = ?', [rig])).toEqual({ seq, hashrate_hs: hashrate });
    }
    expect(await db.get("SELECT last_seq FROM rigs_seen WHERE rig_id = 'r9'")).toEqual({ last_seq: 60 });
  });

  it('does not let a late, older snapshot overwrite newer status', async () => {
    await repo.writeSnapshots([snap('r1', 5, 'm1', 500)]);
    await repo.writeSnapshots([snap('r1', 4, 'm1', 400)]);
    const rig = await repo.getRig('r1');
    expect(rig!.miners[0]!.hashrate5sHs).toBe(500);
    expect(rig!.lastSeq).toBe(5);
  });

  it('stores numbers bound as text as numbers, and compares them as numbers in the upserts (10 after 9, then a late 2)', async () => {
    const frac = MinerSnapshot.fromPartial({ ...snap('r1', 9, 'm1', 1.25e14), boards: [{ index: 0, boardTempC: 61.75, chipTempC: -3.5 }] });
    await repo.writeSnapshots([frac]);
    await repo.writeSnapshots([snap('r1', 10, 'm1', 7)]);
    await repo.writeSnapshots([snap('r1', 2, 'm1', 2)]);
    expect(await db.all('SELECT seq, typeof(seq) AS s, typeof(collected_at) AS c, hashrate_hs, typeof(hashrate_hs) AS h, max_temp_c, typeof(max_temp_c) AS t FROM snapshots ORDER BY seq')).toEqual([
      { seq: 2, s: 'integer', c: 'integer', hashrate_hs: 2, h: 'real', max_temp_c: 62, t: 'real' },
      { seq: 9, s: 'integer', c: 'integer', hashrate_hs: 1.25e14, h: 'real', max_temp_c: 61.75, t: 'real' },
      { seq: 10, s: 'integer', c: 'integer', hashrate_hs: 7, h: 'real', max_temp_c: 70, t: 'real' },
    ]);
    expect(await db.all('SELECT seq, typeof(seq) AS s, collected_at, typeof(collected_at) AS c FROM miner_status')).toEqual([{ seq: 10, s: 'integer', collected_at: T0 + 10_000, c: 'integer' }]);
    expect(await db.all('SELECT last_seq, typeof(last_seq) AS s, last_seen, typeof(last_seen) AS c FROM rigs_seen')).toEqual([{ last_seq: 10, s: 'integer', last_seen: T0 + 10_000, c: 'integer' }]);
    const fresh = new RigRepository(db);
    expect((await fresh.getRig('r1'))!.miners[0]!.seq).toBe(10);
  });

  it('writes a rig\'s row only when the rig is new or reports through another agent; last seen and seq come from its miners', async () => {
    await db.exec(`CREATE TABLE rig_writes (rig_id TEXT);
      CREATE TRIGGER rig_inserted AFTER INSERT ON rigs BEGIN INSERT INTO rig_writes VALUES (NEW.rig_id); END;
      CREATE TRIGGER rig_updated AFTER UPDATE ON rigs BEGIN INSERT INTO rig_writes VALUES (NEW.rig_id); END;`);
    const writes = async (): Promise<number> => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM rig_writes'))!.n;
    const from = (s: MinerSnapshot, agentId: string): MinerSnapshot => ({ ...s, agentId });
    await repo.writeSnapshots([snap('r1', 1), snap('r1', 2, 'm2')]);
    expect(await writes()).toBe(1);
    await repo.writeSnapshots([snap('r1', 3), snap('r1', 4, 'm2')]);
    await repo.writeSnapshots([snap('r1', 5)]);
    expect(await writes()).toBe(1);
    expect(await db.get("SELECT agent_id, last_seq, last_seen FROM rigs_seen WHERE rig_id = 'r1'")).toEqual({ agent_id: 'agent-1', last_seq: 5, last_seen: T0 + 5000 });
    await repo.writeSnapshots([from(snap('r1', 6), 'agent-2')]);
    expect(await writes()).toBe(2);
    expect(await db.get("SELECT agent_id FROM rigs WHERE rig_id = 'r1'")).toEqual({ agent_id: 'agent-2' });
    // A retained state may set the agent too: the next batch writes the row again.
    await repo.writeState(RigState.fromPartial({ rigId: 'r1', agentId: 'agent-3', online: true, at: new Date(T0) }));
    await repo.writeSnapshots([from(snap('r1', 7), 'agent-2')]);
    expect(await db.get("SELECT agent_id, online FROM rigs WHERE rig_id = 'r1'")).toEqual({ agent_id: 'agent-2', online: 1 });
    const cached = await repo.getRig('r1');
    await repo.writeSnapshots([snap('r1', 8, 'm2')]);
    expect(cached).not.toBe(await repo.getRig('r1'));
    expect(await repo.getRig('r1')).toEqual(await new RigRepository(db).getRig('r1'));
    expect((await repo.getRig('r1'))!).toMatchObject({ lastSeq: 8, lastSeen: new Date(T0 + 8000) });
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

  it('serves the latest status from memory once read, the same as a fresh read from the file', async () => {
    await repo.writeSnapshots([snap('r1', 1, 'm2', 10), snap('r1', 2, 'm1', 20)]);
    await repo.getRig('r1'); // now cached
    await repo.writeSnapshots([snap('r1', 3, 'm1', 30), snap('r1', 4, 'm3', 40), snap('r1', 2, 'm1', 999), snap('r1', 1, 'm2', 999)]);
    await repo.writeSnapshots([snap('r1', 5, 'm2', 50), snap('r1', 5, 'm2', 998)]); // a repeat within the batch
    await repo.writeState(RigState.fromPartial({ rigId: 'r1', online: false, at: new Date(T0 + 60_000), labels: { row: 'a' } }));
    await repo.writeSnapshots([snap('r1', 6, 'm1', 60)]);
    const fromMemory = await repo.getRig('r1');
    const fromFile = await new RigRepository(db).getRig('r1');
    expect(fromMemory).toEqual(fromFile);
    expect(fromMemory).toMatchObject({ online: false, lastSeq: 6, labels: { row: 'a' } });
    expect(fromMemory!.miners.map((m) => [m.minerId, m.seq, m.hashrate5sHs])).toEqual([['m1', 6, 60], ['m2', 5, 50], ['m3', 4, 40]]);
  });

  it('pages rigs with the status in memory the same as read from the file', async () => {
    await repo.writeSnapshots(['a', 'b', 'c', 'd'].map((r) => snap(r, 1)));
    await repo.getRig('b');
    await repo.getRig('d'); // b and d in memory, a and c from the file
    await repo.writeSnapshots([snap('b', 2, 'm1', 20), snap('c', 2, 'm1', 30), snap('d', 2, 'm2', 40)]);
    const page = await repo.listRigs(10, '');
    expect(page).toEqual(await new RigRepository(db).listRigs(10, ''));
    expect(page.map((r) => [r.rigId, r.lastSeq, r.miners.length])).toEqual([['a', 1, 1], ['b', 2, 1], ['c', 2, 1], ['d', 2, 2]]);
  });

  it('reads interleaved with a write end with the written status in memory', async () => {
    const rigs = Array.from({ length: 30 }, (_, i) => `race-${i}`);
    await repo.writeSnapshots(rigs.map((r) => snap(r, 1)));
    // Each read starts at a different point of the write's transaction.
    const writing = repo.writeSnapshots(rigs.map((r) => snap(r, 2, 'm1', 222)));
    const reads: Array<Promise<unknown>> = [];
    for (const r of rigs) {
      reads.push(repo.getRig(r));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([writing, ...reads]);
    for (const r of rigs) expect([r, (await repo.getRig(r))!.miners[0]!.hashrate5sHs]).toEqual([r, 222]);
  });

  it('takes a snapshot ingest accepts into a cached rig at once, and caches no read older than what it accepted', async () => {
    await repo.writeSnapshots([snap('a', 1), snap('b', 1)]);
    await repo.getRig('a'); // a is cached, b is not
    const batch = new SnapshotBatch();
    const accept = (s: MinerSnapshot): void => {
      batch.add(s, JSON.stringify(MinerSnapshot.toJSON(s)));
      repo.receive(s);
    };
    accept(snap('a', 2, 'm1', 20));
    accept(snap('b', 2, 'm1', 20));
    accept(snap('a', 2, 'm1', 999)); // a repeated seq changes nothing, as in SQLite
    // Before the batch is stored: a shows it from memory; b shows what is stored, and is not cached with it.
    expect((await repo.getRig('a'))!.miners.map((m) => [m.seq, m.hashrate5sHs])).toEqual([[2, 20]]);
    expect((await repo.getRig('b'))!.lastSeq).toBe(1);
    // A failed write takes back nothing ingest accepted (it retries the batch).
    await db.exec("CREATE TRIGGER poison BEFORE INSERT ON snapshots BEGIN SELECT RAISE(ABORT, 'poisoned row'); END");
    await expect(repo.writeBatch(batch)).rejects.toThrow(/poisoned row/);
    expect((await repo.getRig('a'))!.lastSeq).toBe(2);
    expect((await repo.getRig('b'))!.lastSeq).toBe(1);
    await db.exec('DROP TRIGGER poison');
    expect(await repo.writeBatch(batch)).toEqual({ inserted: 2, duplicates: 1 });
    expect((await repo.getRig('b'))!.lastSeq).toBe(2);
    const fresh = new RigRepository(db);
    for (const rig of ['a', 'b']) expect(await repo.getRig(rig)).toEqual(await fresh.getRig(rig));
  });

  it('writes nothing of a batch when one of its statements fails', async () => {
    await db.exec("CREATE TRIGGER poison BEFORE INSERT ON snapshots WHEN NEW.rig_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END");
    const batch = Array.from({ length: 600 }, (_, i) => snap(`rig-${i % 20}`, Math.floor(i / 20) + 1));
    batch[10] = snap('poison', 1); // in the first of three multi-row statements
    await expect(repo.writeSnapshots(batch)).rejects.toThrow(/poisoned row/);
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 0 });
    expect(await db.get('SELECT COUNT(*) AS n FROM rigs')).toEqual({ n: 0 });
    await db.exec('DROP TRIGGER poison');
    expect(await repo.writeSnapshots(batch.filter((s) => s.rigId !== 'poison'))).toEqual({ inserted: 599, duplicates: 0 });
  });

  it('loses nothing when two batches are written at the same time', async () => {
    const a = repo.writeSnapshots(Array.from({ length: 50 }, (_, i) => snap('a', i + 1)));
    const b = repo.writeSnapshots(Array.from({ length: 50 }, (_, i) => snap('b', i + 1)));
    await Promise.all([a, b]);
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 100 });
  });
});

describe('schema v4 (snapshots in a rowid table, status pointing at its snapshot)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'old.db'));
  });
  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('moves v3 data over and keeps a latest status whose raw snapshot was already pruned', async () => {
    // A v3 database as v3 wrote it: the status row holds its own copy of the snapshot.
    await db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      await db.exec(m.sql);
      await db.run('INSERT INTO schema_migrations VALUES (?, ?, 0)', [m.version, m.name]);
    }
    const json = (s: MinerSnapshot): string => JSON.stringify(MinerSnapshot.toJSON(s));
    const kept = snap('r1', 7, 'm1', 70);
    const pruned = snap('r2', 3, 'm9', 30);
    await db.run("INSERT INTO rigs (rig_id, online, last_seen, last_seq) VALUES ('r1', 1, 0, 7), ('r2', 1, 0, 3)");
    await db.run('INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)', [
      'r1', 6, 'm1', T0 + 6000, 60, null, json(snap('r1', 6, 'm1', 60)), 'r1', 7, 'm1', T0 + 7000, 70, null, json(kept),
    ]);
    await db.run('INSERT INTO miner_status VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)', ['r1', 'm1', 7, T0 + 7000, json(kept), 'r2', 'm9', 3, T0 + 3000, json(pruned)]);

    await migrate(db);
    const repo = new RigRepository(db);
    expect((await repo.getRig('r1'))!.miners).toEqual([kept]);
    expect((await repo.getRig('r2'))!.miners).toEqual([pruned]);
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 3 });
    expect(await repo.writeSnapshots([snap('r1', 7), snap('r1', 8)])).toEqual({ inserted: 1, duplicates: 1 });
  });
});

describe('SnapshotBatch', () => {
  const batchOf = (...snaps: MinerSnapshot[]): SnapshotBatch => {
    const b = new SnapshotBatch();
    for (const s of snaps) b.add(s, JSON.stringify(MinerSnapshot.toJSON(s)));
    return b;
  };
  const newest = (b: SnapshotBatch): Array<[string, string, number, string]> =>
    b.newest().map((s) => [s.rigId, s.minerId, s.seq, s.agentId]).sort() as Array<[string, string, number, string]>;

  it('holds each row as its INSERT parameters and only the newest snapshot of each miner', () => {
    const b = batchOf(snap('r1', 1, 'm1', 10), snap('r1', 3, 'm1', 30), snap('r1', 2, 'm2', 20), snap('r2', 1, 'm1', 5), { ...snap('r1', 3, 'm1', 99), agentId: 'agent-2' });
    expect(b.size).toBe(5);
    // Numbers as their decimal text (cheaper to bind); the columns' affinity stores them as numbers.
    expect(b.params.slice(0, 7)).toEqual(['r1', '1', 'm1', String(T0 + 1000), '10', '61', JSON.stringify(MinerSnapshot.toJSON(snap('r1', 1, 'm1', 10)))]);
    // A repeated seq keeps the first: it is the row the INSERT stores.
    expect(newest(b)).toEqual([['r1', 'm1', 3, 'agent-1'], ['r1', 'm2', 2, 'agent-1'], ['r2', 'm1', 1, 'agent-1']]);
    expect([...b.rigIds()].sort()).toEqual(['r1', 'r2']);
  });

  it('puts a failed batch back in front of what arrived meanwhile, rows in order and the newest per miner kept', () => {
    const failed = batchOf(snap('r1', 4, 'm1', 40), snap('r2', 9, 'm1', 90));
    const later = batchOf(snap('r1', 5, 'm1', 50), snap('r2', 8, 'm1', 80), snap('r3', 1, 'm1', 1));
    const both = failed.concat(later);
    expect(both.size).toBe(5);
    expect([0, 1, 2, 3, 4].map((k) => [both.params[k * 7], both.params[k * 7 + 1]])).toEqual([['r1', '4'], ['r2', '9'], ['r1', '5'], ['r2', '8'], ['r3', '1']]);
    expect(newest(both)).toEqual([['r1', 'm1', 5, 'agent-1'], ['r2', 'm1', 9, 'agent-1'], ['r3', 'm1', 1, 'agent-1']]);
  });
});

describe('migrate', () => {
  it('lists the migrations in ascending version order, each version once', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  });

  it('applies a migration numbered below the newest applied one when it is missing', async () => {
    const dir = makeTempDir();
    const db = await SqliteDatabase.open(join(dir.path, 'gap.db'));
    try {
      await db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      // v7 (API keys, audit) is independent of the others, as migrations developed in parallel are.
      for (const m of MIGRATIONS.filter((x) => x.version !== 7)) {
        await db.exec(m.sql);
        await db.run('INSERT INTO schema_migrations VALUES (?, ?, 0)', [m.version, m.name]);
      }
      await migrate(db);
      expect((await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version))
        .toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
      const repo = new RigRepository(db);
      expect(await repo.writeSnapshots([snap('r1', 1)])).toEqual({ inserted: 1, duplicates: 0 });
      expect((await repo.getRig('r1'))!.miners).toHaveLength(1);
    } finally {
      await db.close();
      dir.remove();
    }
  });
});

describe('SqliteDatabase cached statements', () => {
  it('rejects a statement that does not compile (instead of never answering) and finalizes the rest on close', async () => {
    const dir = makeTempDir();
    const db = await SqliteDatabase.open(join(dir.path, 'c.db'));
    try {
      await db.exec('CREATE TABLE t (x INTEGER)');
      await expect(db.runCached('INSERT INTO nope VALUES (?)', [1])).rejects.toThrow(/no such table: nope/);
      expect(await db.runCached('INSERT INTO t VALUES (?), (?)', [1, 2])).toEqual({ changes: 2, lastID: 2 });
      expect(await db.runCached('INSERT INTO t VALUES (?), (?)', [3, 4])).toEqual({ changes: 2, lastID: 4 });
      expect(await db.allCached('SELECT SUM(x) AS s FROM t WHERE x > ?', [0])).toEqual([{ s: 10 }]);
    } finally {
      await db.close(); // sqlite3 refuses to close while a statement is not finalized
      dir.remove();
    }
  });
});

describe('RigRepository: a bad stored row', () => {
  let dir: TempDir;
  let db: SqliteDatabase;

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
  });
  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('breaks no fleet-wide read: the rig is listed without that snapshot, every other rig in full', async () => {
    const writer = new RigRepository(db);
    await writer.writeSnapshots([snap('good-1', 1), snap('bad', 1), snap('good-2', 1)]);
    // As a release without today's edge checks stored it: a seq of 1.5 (gRPC could not serialize it).
    await db.run("UPDATE snapshots SET snapshot = ? WHERE rig_id = 'bad'", [JSON.stringify({ rigId: 'bad', minerId: 'm1', seq: 1.5, collectedAt: new Date(T0).toISOString() })]);
    const reader = new RigRepository(db); // nothing cached: every status comes from SQLite
    const rigs = await reader.listRigs(100, '');
    expect(rigs.map((r) => r.rigId)).toEqual(['bad', 'good-1', 'good-2']);
    expect(rigs.find((r) => r.rigId === 'bad')!.miners).toEqual([]);
    expect(rigs.find((r) => r.rigId === 'good-1')!.miners[0]!.boards[0]!.boardTempC).toBe(61);
  });
});
