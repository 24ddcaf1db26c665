import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MinerSnapshot } from '@rigwarden/protocol';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate } from './migrations';
import { RigRepository } from './rig-repository';
import { RollupRepository } from './rollup-repository';
import { SqliteDatabase } from './sqlite-database';

const H = 3_600_000;
const T0 = Date.parse('2026-11-22T10:00:00Z');

describe('rollups and retention', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let rigs: RigRepository;
  let rollups: RollupRepository;

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'r.db'));
    await migrate(db);
    rigs = new RigRepository(db);
    rollups = new RollupRepository(db);
  });
  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  const snap = (seq: number, at: number, hashrate: number, temp: number): MinerSnapshot => MinerSnapshot.fromPartial({
    rigId: 'r1', minerId: 'm', seq, collectedAt: new Date(at), hashrate5sHs: hashrate, boards: [{ index: 0, boardTempC: temp }],
  });

  it('averages each complete minute and hour, and leaves the current ones for later', async () => {
    // 10:00:00, 10:00:30 (minute 0), 10:01:10 (minute 1), 11:00:05 (next hour, still open at "now")
    await rigs.writeSnapshots([snap(1, T0, 100, 60), snap(2, T0 + 30_000, 200, 70), snap(3, T0 + 70_000, 300, 65), snap(4, T0 + H + 5_000, 50, 90)]);
    await rollups.rollUpAndPrune(T0 + H + 30_000, T0 - H);
    expect(await rollups.series('r1', '1m', T0, T0 + 2 * H)).toEqual([
      { rig_id: 'r1', bucket_start: T0, samples: 2, hashrate_avg: 150, hashrate_min: 100, hashrate_max: 200, temp_max: 70 },
      { rig_id: 'r1', bucket_start: T0 + 60_000, samples: 1, hashrate_avg: 300, hashrate_min: 300, hashrate_max: 300, temp_max: 65 },
    ]);
    expect(await rollups.series('r1', '1h', T0, T0 + 2 * H)).toEqual([
      { rig_id: 'r1', bucket_start: T0, samples: 3, hashrate_avg: 200, hashrate_min: 100, hashrate_max: 300, temp_max: 70 },
    ]);
  });

  it('gives the same rows when run again (idempotent after a restart)', async () => {
    await rigs.writeSnapshots([snap(1, T0, 100, 60), snap(2, T0 + 30_000, 200, 70)]);
    await rollups.rollUpAndPrune(T0 + 2 * H, T0 - H);
    const first = await rollups.series('r1', '1m', T0, T0 + H);
    await rollups.rollUpAndPrune(T0 + 2 * H, T0 - H);
    expect(await rollups.series('r1', '1m', T0, T0 + H)).toEqual(first);
  });

  it('deletes raw snapshots and rollups past their retention, keeping the longer-lived rollups', async () => {
    await rigs.writeSnapshots([snap(1, T0, 100, 60), snap(2, T0 + 3 * H, 100, 60)]);
    const result = await rollups.rollUpAndPrune(T0 + 4 * H, T0 - H, { rawMs: 2 * H, minuteMs: 2.5 * H, hourMs: 100 * H });
    expect(result.prunedRaw).toBe(1);
    expect(await db.get('SELECT COUNT(*) AS n FROM snapshots')).toEqual({ n: 1 });
    expect(await rollups.series('r1', '1m', T0, T0 + H)).toEqual([]); // older than 2.5 h
    expect((await rollups.series('r1', '1h', T0, T0 + H))[0]!.samples).toBe(1); // the hour outlives it
    expect((await rigs.getRig('r1'))!.miners[0]!.seq).toBe(2); // latest status is never pruned
  });

  it('gives the pages retention freed back to the file system, so the file shrinks instead of only ceasing to grow', async () => {
    const big = (seq: number): MinerSnapshot => MinerSnapshot.fromPartial({
      ...snap(seq, T0 + seq * 1_000, 100 + seq, 60), firmware: `fw-${seq}-${'x'.repeat(1_500)}`,
    });
    for (let i = 0; i < 10; i++) await rigs.writeSnapshots(Array.from({ length: 300 }, (_, k) => big(i * 300 + k + 1)));
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const pages = async (): Promise<{ pages: number; free: number }> => ({
      pages: (await db.get<{ page_count: number }>('PRAGMA page_count'))!.page_count,
      free: (await db.get<{ freelist_count: number }>('PRAGMA freelist_count'))!.freelist_count,
    });
    const before = await pages();
    const bytesBefore = statSync(join(dir.path, 'r.db')).size;
    expect(await db.get('PRAGMA auto_vacuum')).toEqual({ auto_vacuum: 2 }); // INCREMENTAL
    const result = await rollups.rollUpAndPrune(T0 + 3 * H, T0 - H, { rawMs: H, minuteMs: 100 * H, hourMs: 100 * H });
    expect(result.prunedRaw).toBe(2_999); // all but the miner's latest snapshot
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const after = await pages();
    expect(after.free).toBe(0);
    expect(after.pages).toBeLessThan(before.pages / 4);
    expect(statSync(join(dir.path, 'r.db')).size).toBeLessThan(bytesBefore / 4);
  });
});
