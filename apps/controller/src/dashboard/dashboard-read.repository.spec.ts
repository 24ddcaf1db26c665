import { join } from 'node:path';
import { MinerSnapshot, RigEvent } from '@rigwarden/protocol';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { EventRepository } from '../persistence/event-repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { DashboardReadRepository, RAW_RANGE_MS } from './dashboard-read.repository';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function snap(rigId: string, minerId: string, seq: number, at: number, hashrate: number | undefined, extra: Partial<MinerSnapshot> = {}): MinerSnapshot {
  return MinerSnapshot.fromPartial({ rigId, minerId, seq, collectedAt: new Date(at), hashrate5sHs: hashrate, ...extra });
}

function event(eventId: string, rigId: string, kind: string, severity: string, at: number): RigEvent {
  return RigEvent.fromPartial({ eventId, rigId, kind, severity, reason: `${kind}-reason`, message: 'm', at: new Date(at) });
}

describe('dashboard read repository (SQLite in a temp dir)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let reads: DashboardReadRepository;

  beforeAll(async () => {
    dir = makeTempDir('rigwarden-dash-read-');
    db = await SqliteDatabase.open(join(dir.path, 'r.db'));
    await migrate(db);
    reads = new DashboardReadRepository(db);
    const rigs = new RigRepository(db);
    // Two miners on one rig, 10 s apart, over one minute; the second miner reports power and a slower fan.
    const batch: MinerSnapshot[] = [];
    let seq = 0;
    for (let t = 0; t < 60_000; t += 10_000) {
      batch.push(snap('r1', 'a', ++seq, T0 + t, 1e12, { boards: [{ index: 0, boardTempC: 60 + t / 10_000, status: 1, phantomReason: '', pciBusId: '', name: '' }], fans: [{ index: 0, rpm: 5000 }] }));
      batch.push(snap('r1', 'b', ++seq, T0 + t + 1, 2e12, { powerW: 3000, fans: [{ index: 0, rpm: 4000 + t / 1000 }] }));
    }
    batch.push(snap('r2', 'a', 1, T0, undefined));
    await rigs.writeSnapshots(batch);
    const events = new EventRepository(db);
    await events.recordEvent(event('e1', 'r1', 'policy.switch-pool', 'warning', T0 + 1000), 'failover');
    await events.recordEvent(event('e2', 'r2', 'safety.critical_temperature', 'critical', T0 + 2000), 'agent');
    await events.recordEvent(event('e3', 'r1', 'policy_x.other', 'info', T0 + 3000), 'thermal');
  });

  afterAll(async () => {
    await db.close();
    dir.remove();
  });

  it.each<[string, number, number, number, Array<{ hashrateHs: number | null; powerW: number | null; fanMinRpm: number | null; tempMaxC: number | null }>]>([
    ['one slice: averages per miner summed, hottest, slowest', T0, T0 + 60_000, 1, [{ hashrateHs: 3e12, powerW: 3000, fanMinRpm: 4000, tempMaxC: 65 }]],
    ['two slices of 30 s', T0, T0 + 60_000, 2, [
      { hashrateHs: 3e12, powerW: 3000, fanMinRpm: 4000, tempMaxC: 62 },
      { hashrateHs: 3e12, powerW: 3000, fanMinRpm: 4030, tempMaxC: 65 },
    ]],
    ['an empty range', T0 + 120_000, T0 + 180_000, 4, []],
  ])('buckets raw snapshots: %s', async (_name, from, to, buckets, expected) => {
    const points = await reads.series('r1', from, to, 'raw', buckets);
    expect(points.map(({ hashrateHs, powerW, fanMinRpm, tempMaxC }) => ({ hashrateHs, powerW, fanMinRpm, tempMaxC }))).toEqual(expected);
  });

  it('keeps a missing measurement null, not 0', async () => {
    expect(await reads.series('r2', T0, T0 + 60_000, 'raw', 1)).toEqual([{ at: T0, hashrateHs: null, tempMaxC: null, powerW: null, fanMinRpm: null }]);
  });

  it.each<[number, string]>([[RAW_RANGE_MS, 'raw'], [RAW_RANGE_MS + 1, '1m'], [3 * 86_400_000, '1m'], [3 * 86_400_000 + 1, '1h']])('picks the resolution for a %d ms range: %s', (range, resolution) => {
    expect(DashboardReadRepository.resolutionFor(T0, T0 + range)).toBe(resolution);
  });

  it.each<[string, Parameters<DashboardReadRepository['events']>[0], string[]]>([
    ['every event, newest first', { limit: 10 }, ['e3', 'e2', 'e1']],
    ['one rig', { rigId: 'r1', limit: 10 }, ['e3', 'e1']],
    ['severities', { severity: ['warning', 'critical'], limit: 10 }, ['e2', 'e1']],
    ['a kind prefix, with "_" taken literally', { kindPrefix: 'policy_', limit: 10 }, ['e3']],
    ['a kind prefix with a dot', { kindPrefix: 'policy.', limit: 10 }, ['e1']],
    ['since', { since: T0 + 2000, limit: 10 }, ['e3', 'e2']],
    ['after a stream position, oldest first', { afterSeq: 1, limit: 10 }, ['e2', 'e3']],
    ['a limit', { limit: 1 }, ['e3']],
  ])('lists events: %s', async (_name, filter, ids) => {
    expect((await reads.events(filter)).map((e) => e.eventId)).toEqual(ids);
  });
});
