import { AuditChain, SecretBytes } from '@rigwarden/security';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate } from '../persistence/migrations';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { AuditRepository } from './audit.repository';

describe('audit repository (append-only, hash-chained)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let audit: AuditRepository;
  const key = SecretBytes.generate();
  const clock = new ManualClock(Date.parse('2026-12-01T10:00:00Z'));

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(`${dir.path}/audit.db`);
    await migrate(db);
    audit = new AuditRepository(db, new AuditChain(key), () => clock.now());
  });

  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('numbers rows 1, 2, 3 and chains them, even across a restart', async () => {
    await audit.append({ principal: 'apikey:aaaaaaaaaaaaaaaa', keyId: 'aaaaaaaaaaaaaaaa', action: 'FleetService/RestartMiner', target: 'rig-1', outcome: 'ok' });
    clock.advance(1000);
    await audit.append({ principal: 'controller', action: 'rigkey.rotate', target: 'rig-1', outcome: 'retired', detail: { oldKeyId: 'k1' } });
    const reopened = new AuditRepository(db, new AuditChain(key), () => clock.now());
    await reopened.append({ principal: 'policy:failover', action: 'command.switch-pool', target: 'rig-2', outcome: 'succeeded' });
    const rows = await reopened.query();
    expect(rows.map((r) => r.seq)).toEqual([3, 2, 1]);
    expect(rows[1]).toMatchObject({ principal: 'controller', detail: '{"oldKeyId":"k1"}', at: Date.parse('2026-12-01T10:00:01Z') });
    expect(await reopened.verify()).toMatchObject({ ok: true, entries: 3 });
  });

  it('gives the newest row as the anchor (seq 0 for an empty log)', async () => {
    expect(await audit.anchor()).toEqual({ seq: 0, hash: '' });
    const row = await audit.append({ principal: 'controller', action: 'x', target: 't', outcome: 'ok' });
    expect(await audit.anchor()).toEqual({ seq: 1, hash: row.hash });
  });

  it('refuses UPDATE and DELETE in the database itself', async () => {
    await audit.append({ principal: 'controller', action: 'apikey.bootstrap', target: 'k', outcome: 'ok' });
    await expect(db.run("UPDATE audit SET outcome = 'denied' WHERE seq = 1")).rejects.toThrow(/append-only: rows cannot be changed/);
    await expect(db.run('DELETE FROM audit')).rejects.toThrow(/append-only: rows cannot be deleted/);
    expect(await audit.query()).toHaveLength(1);
  });

  it('detects a row edited around the triggers (the chain breaks at that row)', async () => {
    for (const target of ['rig-1', 'rig-2', 'rig-3']) await audit.append({ principal: 'controller', action: 'x', target, outcome: 'ok' });
    await db.exec("DROP TRIGGER audit_no_update; UPDATE audit SET target = 'rig-9' WHERE seq = 2");
    expect(await audit.verify()).toEqual({ ok: false, index: 1, seq: 2, reason: 'bad_mac' });
  });

  it('filters by principal, action, target and time, newest first, limited', async () => {
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await audit.append({ principal: i % 2 ? 'apikey:b' : 'apikey:a', action: i < 3 ? 'FleetService/SetPools' : 'AdminService/RevokeApiKey', target: `t${i}`, outcome: 'ok' });
    }
    expect((await audit.query({ principal: 'apikey:a' })).map((r) => r.target)).toEqual(['t4', 't2', 't0']);
    expect((await audit.query({ action: 'AdminService/RevokeApiKey' })).map((r) => r.target)).toEqual(['t4', 't3']);
    expect((await audit.query({ target: 't1' })).map((r) => r.seq)).toEqual([2]);
    expect((await audit.query({ since: clock.now() - 1000 })).map((r) => r.target)).toEqual(['t4', 't3']);
    expect((await audit.query({ limit: 2 })).map((r) => r.target)).toEqual(['t4', 't3']);
  });
});
