import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate } from '../persistence/migrations';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { CommandRepository, type CommandPayload } from './command-repository';

const T0 = Date.parse('2026-12-01T10:00:00Z');

describe('CommandRepository (SQLite file, schema v5)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let repo: CommandRepository;

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'c.db'));
    await migrate(db);
    repo = new CommandRepository(db);
  });
  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  const insert = (id: string, payload: CommandPayload, rigId = 'rig-1', createdAt = T0) =>
    repo.insert({ id, rigId, minerId: 'm1', payload, createdAt, deadline: createdAt + 60_000, requestedBy: 'operator:k1', reason: 'why' });

  it.each([
    ['set-pools', { $case: 'setPools', value: { pools: [{ url: 'stratum+tcp://a:3333', user: 'w', password: 'p' }, { url: 'stratum+ssl://b:443', user: 'w', password: '' }] } }],
    ['switch-pool', { $case: 'switchPool', value: { poolIndex: 2 } }],
    ['apply-profile', { $case: 'applyProfile', value: { profile: 'eco' } }],
    ['restart-miner', { $case: 'restartMiner', value: {} }],
    ['reboot-host', { $case: 'rebootHost', value: {} }],
    ['power-cycle', { $case: 'powerCycle', value: {} }],
    ['retire-key', { $case: 'retireKey', value: { keyId: 'k0' } }],
  ] as Array<[string, CommandPayload]>)('stores a %s command and reads back the same payload', async (type, payload) => {
    await insert('c-1', payload);
    expect(await repo.get('c-1')).toEqual({
      id: 'c-1', rigId: 'rig-1', minerId: 'm1', type, payload, state: 'PENDING', attempts: 0, createdAt: T0, deadline: T0 + 60_000,
      sentAt: undefined, finishedAt: undefined, cause: '', requestedBy: 'operator:k1', reason: 'why',
    });
  });

  it('refuses a second command with the same id', async () => {
    await insert('c-1', { $case: 'restartMiner', value: {} });
    await expect(insert('c-1', { $case: 'restartMiner', value: {} })).rejects.toThrow(/UNIQUE/);
  });

  it('counts attempts, keeps the first outcome, and leaves a finished command alone', async () => {
    await insert('c-1', { $case: 'restartMiner', value: {} });
    expect(await repo.markSent('c-1', T0 + 1)).toBe(true);
    expect(await repo.markSent('c-1', T0 + 2)).toBe(true);
    expect(await repo.get('c-1')).toMatchObject({ state: 'SENT', attempts: 2, sentAt: T0 + 2 });
    await repo.noteCause('c-1', 'too_old: 40 s');
    expect(await repo.finish('c-1', 'SUCCEEDED', 'restarted', T0 + 3)).toBe(true);
    expect(await repo.finish('c-1', 'FAILED', 'late', T0 + 4)).toBe(false);
    await repo.noteCause('c-1', 'ignored');
    expect(await repo.markSent('c-1', T0 + 5)).toBe(false); // acknowledged late: counted, state kept
    expect(await repo.get('c-1')).toMatchObject({ state: 'SUCCEEDED', cause: 'restarted', finishedAt: T0 + 3, attempts: 3 });
    await expect(repo.finish('c-1', 'SENT', '', T0)).rejects.toThrow(/not a final state/);
  });

  it('lists newest first, per rig or all, and finds the unfinished ones oldest first', async () => {
    await insert('a', { $case: 'restartMiner', value: {} }, 'rig-1', T0);
    await insert('b', { $case: 'restartMiner', value: {} }, 'rig-2', T0 + 1000);
    await insert('c', { $case: 'restartMiner', value: {} }, 'rig-1', T0 + 2000);
    await repo.finish('a', 'TIMED_OUT', 'no result', T0 + 60_000);
    await repo.markSent('c', T0 + 2000);
    expect((await repo.list('', 10)).map((c) => c.id)).toEqual(['c', 'b', 'a']);
    expect((await repo.list('rig-1', 10)).map((c) => c.id)).toEqual(['c', 'a']);
    expect((await repo.list('', 1)).map((c) => c.id)).toEqual(['c']);
    expect((await repo.unfinished()).map((c) => [c.id, c.state])).toEqual([['b', 'PENDING'], ['c', 'SENT']]);
  });
});
