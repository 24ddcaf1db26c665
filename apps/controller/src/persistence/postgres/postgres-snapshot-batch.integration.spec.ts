import { MinerSnapshot } from '@rigwarden/protocol';
import { SnapshotBatch } from '../ports/snapshot-batch';
import { PostgresRigStatusStore } from './postgres-rig-status.store';
import { openTestSchema, type TestSchema } from './postgres.testing';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function snap(rigId: string, seq: number, over: Partial<MinerSnapshot> = {}): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: 'm1', seq, agentId: 'agent-1', collectedAt: new Date(T0 + seq * 1000), hashrate5sHs: 110e12 + seq,
    boards: [{ index: 0, boardTempC: 60 + seq, chipTempC: 70.5 }], ...over,
  });
}

/** Batches as ingest hands them over: each payload as the bytes received. */
function batchOf(rows: Array<[MinerSnapshot, string]>): SnapshotBatch {
  const b = new SnapshotBatch();
  for (const [s, json] of rows) b.add(s, Buffer.from(json, 'utf8'));
  return b;
}

interface Row { rig_id: string; seq: number; miner_id: string; collected_at: number; hashrate_hs: number | null; max_temp_c: number | null; snapshot: string }

describe('PostgresRigStatusStore batch INSERT (each column bound as one joined text)', () => {
  let pg: TestSchema;
  let store: PostgresRigStatusStore;
  const stored = (): Promise<Row[]> => pg.db.all<Row>('SELECT rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot FROM snapshots ORDER BY rig_id, seq');

  beforeEach(async () => {
    pg = await openTestSchema();
    store = new PostgresRigStatusStore(pg.db);
  });
  afterEach(async () => { await pg.drop(); });

  it('stores every column and the payload byte for byte, NULL where a number is missing, a replayed seq once', async () => {
    // Payload texts with what the separator must not be confused with: escaped control characters, quotes, backslashes, non-ASCII.
    const tricky = JSON.stringify({ note: 'rs \u001e us \u001f "quoted" back\\slash ünïcode 矿机', nested: { a: [1, 2] } });
    expect(tricky).toContain('\\u001e');
    const result = await store.writeBatch(batchOf([
      [snap('rig-a', 1), tricky],
      [snap('rig-a', 2, { hashrate5sHs: undefined, hashrateAvgHs: undefined, boards: [] }), '{"seq":2}'],
      [snap('rig-b', 7, { minerId: 'm"2\\x' }), '{"seq":7}'],
      [snap('rig-a', 1), '{"replayed":true}'],
    ]));
    expect(result).toEqual({ inserted: 3, duplicates: 1 });
    expect(await stored()).toEqual([
      { rig_id: 'rig-a', seq: 1, miner_id: 'm1', collected_at: T0 + 1000, hashrate_hs: 110e12 + 1, max_temp_c: 70.5, snapshot: tricky },
      { rig_id: 'rig-a', seq: 2, miner_id: 'm1', collected_at: T0 + 2000, hashrate_hs: null, max_temp_c: null, snapshot: '{"seq":2}' },
      { rig_id: 'rig-b', seq: 7, miner_id: 'm"2\\x', collected_at: T0 + 7000, hashrate_hs: 110e12 + 7, max_temp_c: 70.5, snapshot: '{"seq":7}' },
    ]);
    expect(await pg.db.all('SELECT rig_id, miner_id, seq FROM miner_status ORDER BY rig_id')).toEqual([
      { rig_id: 'rig-a', miner_id: 'm1', seq: 2 }, { rig_id: 'rig-b', miner_id: 'm"2\\x', seq: 7 },
    ]);
  });

  it('stores a batch of one row with no numbers (NULL, not an empty array)', async () => {
    await store.writeBatch(batchOf([[snap('rig-c', 3, { hashrate5sHs: undefined, hashrateAvgHs: undefined, boards: [] }), '{"one":1}']]));
    expect(await stored()).toEqual([{ rig_id: 'rig-c', seq: 3, miner_id: 'm1', collected_at: T0 + 3000, hashrate_hs: null, max_temp_c: null, snapshot: '{"one":1}' }]);
  });

  it('falls back to arrays when a value holds the separator itself (a miner id) or a payload does', async () => {
    await store.writeBatch(batchOf([[snap('rig-d', 1, { minerId: 'odd\u001eid' }), '{"a":1}'], [snap('rig-d', 2), '{"b":2}']]));
    await store.writeBatch(batchOf([[snap('rig-e', 1), '{"raw":"\u001e"}']]));
    expect((await stored()).map((r) => [r.rig_id, r.seq, r.miner_id, r.snapshot])).toEqual([
      ['rig-d', 1, 'odd\u001eid', '{"a":1}'], ['rig-d', 2, 'm1', '{"b":2}'], ['rig-e', 1, 'm1', '{"raw":"\u001e"}'],
    ]);
  });
});
