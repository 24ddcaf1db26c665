import { AuditChain, SecretBytes } from '@rigwarden/security';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { migrate } from '../persistence/migrations';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { AuditRepository } from './audit.repository';
import { RefusalAudit, peerAddress, type Refusal } from './refusal-audit';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const anonymous = (action: string, address = '127.0.0.1'): Refusal => ({
  source: `addr:${address}`, principal: 'anonymous', keyId: '', action, outcome: 'unauthenticated', reason: 'missing', required: 'read',
});

describe('refusal-audit', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let audit: AuditRepository;
  const clock = new ManualClock(T0);

  beforeEach(async () => {
    dir = makeTempDir('rigwarden-refusals-');
    db = await SqliteDatabase.open(`${dir.path}/audit.db`);
    await migrate(db);
    audit = new AuditRepository(db, new AuditChain(SecretBytes.generate()), () => clock.now());
  });

  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('refusal-audit: 2,000 refusals from one address in 3.4 s are two rows (the first, then one with a count of 1,999)', async () => {
    const refusals = new RefusalAudit(audit, { windowMs: 60_000, limitPerWindow: 120 });
    let limited = 0;
    for (let i = 0; i < 2000; i++) {
      clock.set(T0 + Math.floor(i * 1.7));
      if ((await refusals.record(anonymous(i % 2 ? 'GET /api/rigs' : 'GET /api/overview'), clock.now())).retryAfterMs !== undefined) limited++;
    }
    expect(await audit.query({ limit: 10_000 })).toHaveLength(1);
    await refusals.flush();
    const rows = await audit.query({ limit: 10_000 });
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.outcome)).toEqual(['refused', 'unauthenticated']);
    expect(JSON.parse(rows[0]!.detail)).toEqual({
      source: 'addr:127.0.0.1', count: 1999, from: T0, to: T0 + Math.floor(1999 * 1.7), windowMs: 60_000,
      actions: { 'GET /api/rigs': 1000, 'GET /api/overview': 999 }, reasons: { 'unauthenticated:missing': 1999 },
    });
    expect(limited).toBe(2000 - 120);
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('refusal-audit: a new window starts after windowMs, writing the summary of the one that ended', async () => {
    const refusals = new RefusalAudit(audit, { windowMs: 10_000 });
    clock.set(T0);
    for (let i = 0; i < 5; i++) await refusals.record(anonymous('GET /api/rigs'), T0 + i);
    expect((await refusals.record(anonymous('GET /api/rigs'), T0 + 10_000)).retryAfterMs).toBeUndefined();
    const rows = (await audit.query({ limit: 100 })).reverse();
    expect(rows.map((r) => [r.outcome, (JSON.parse(r.detail) as { count?: number }).count])).toEqual([['unauthenticated', undefined], ['refused', 4], ['unauthenticated', undefined]]);
  });

  it('refusal-audit: the limit is per source; retryAfter is the rest of the window', async () => {
    const refusals = new RefusalAudit(audit, { windowMs: 10_000, limitPerWindow: 3 });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await refusals.record(anonymous('x', '10.0.0.1'), T0 + i * 1000));
    expect(decisions.map((d) => d.retryAfterMs)).toEqual([undefined, undefined, undefined, 7000]);
    expect((await refusals.record(anonymous('x', '10.0.0.2'), T0 + 3500)).retryAfterMs).toBeUndefined();
  });

  it('refusal-audit: sweep writes the summaries of ended windows only', async () => {
    const refusals = new RefusalAudit(audit, { windowMs: 10_000 });
    await refusals.record(anonymous('a', '10.0.0.1'), T0);
    await refusals.record(anonymous('a', '10.0.0.1'), T0 + 1);
    await refusals.record(anonymous('a', '10.0.0.2'), T0 + 5000);
    await refusals.record(anonymous('a', '10.0.0.2'), T0 + 5001);
    await refusals.sweep(T0 + 10_000);
    expect(refusals.size).toBe(1);
    expect((await audit.query({ action: 'refusals' })).map((r) => (JSON.parse(r.detail) as { source: string }).source)).toEqual(['addr:10.0.0.1']);
  });

  it('refusal-audit: memory is bounded: past maxSources, new sources share one overflow window', async () => {
    const refusals = new RefusalAudit(audit, { maxSources: 3 });
    for (let i = 0; i < 10; i++) await refusals.record(anonymous('a', `10.0.0.${i}`), T0 + i);
    expect(refusals.size).toBe(4);
    await refusals.flush();
    const overflow = (await audit.query({ action: 'refusals' })).map((r) => JSON.parse(r.detail) as { source: string; count: number });
    expect(overflow).toEqual([expect.objectContaining({ source: 'overflow', count: 6 })]);
  });

  it.each<[string, string | undefined, string]>([
    ['a gRPC ipv4 peer', 'ipv4:127.0.0.1:50123', '127.0.0.1'],
    ['a gRPC ipv6 peer', 'ipv6:[::1]:50123', '::1'],
    ['a bare host:port', '10.1.2.3:7', '10.1.2.3'],
    ['a socket address', '::ffff:127.0.0.1', '127.0.0.1'],
    ['nothing', undefined, 'unknown'],
  ])('peer-address: %s', (_name, peer, expected) => {
    expect(peerAddress(peer)).toBe(expected);
  });
});
