import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKeyHasher, SecretBytes, findSecretLeaks } from '@rigwarden/security';
import { ManualClock, createLogger } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { commandAuditRecord } from '../audit/command-audit.service';
import type { CommandRecord } from '../commands/command-repository';
import { FleetError } from '../fleet/fleet-error';
import { migrate } from '../persistence/migrations';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService } from './api-key.service';

const DAY = 86_400_000;

describe('API key use cases', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let repo: ApiKeyRepository;
  let keys: ApiKeyService;
  const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
  const lines: string[] = [];
  const logger = createLogger('test', { write: (line) => lines.push(line) });

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'keys.db'));
    await migrate(db);
    repo = new ApiKeyRepository(db);
    keys = new ApiKeyService(repo, new ApiKeyHasher(SecretBytes.generate()), clock);
    lines.length = 0;
  });

  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('bootstrap: writes an admin token (mode 0600) once, logs the file and never the token, and again only when no admin key works', async () => {
    const file = join(dir.path, 'admin.token');
    const first = await keys.bootstrapAdmin(file, logger);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(new RegExp(`^rwk_${first}_[A-Za-z0-9_-]{43}$`));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).toContain(file);
    expect(findSecretLeaks(lines.join('\n'), { token })).toEqual([]);
    expect(await keys.bootstrapAdmin(file, logger)).toBeUndefined(); // an admin key works: nothing new
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    await keys.create({ name: 'ops', scopes: ['operate'] });
    await keys.revoke(first!);
    const second = await keys.bootstrapAdmin(file, logger); // an operate key is no admin key
    expect(second).toMatch(/^[0-9a-f]{16}$/);
    expect(second).not.toBe(first);
    expect(readFileSync(file, 'utf8').trim()).not.toBe(token);
  });

  it('bootstrap: an existing admin token left 0644 (an older version, a restored backup) is narrowed to 0600 at start, and said so', async () => {
    const file = join(dir.path, 'admin.token');
    await keys.bootstrapAdmin(file, logger);
    chmodSync(file, 0o644);
    lines.length = 0;
    expect(await keys.bootstrapAdmin(file, logger)).toBeUndefined(); // an admin key works: no new token
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines).toEqual([expect.stringMatching(/WARN .*the admin token file was readable by others: narrowed it to 0600/)]);
  });

  it('revocation: listeners hear each revoked key id; isActive follows revocation and expiry', async () => {
    const heard: string[] = [];
    const stop = keys.onRevoked((id) => heard.push(id));
    const { info } = await keys.create({ name: 'tab', scopes: ['read'], ttlDays: 1 });
    expect(await keys.isActive(info.id)).toBe(true);
    clock.advance(DAY);
    expect(await keys.isActive(info.id)).toBe(false);
    clock.advance(-DAY);
    await keys.revoke(info.id);
    expect(heard).toEqual([info.id]);
    expect(await keys.isActive(info.id)).toBe(false);
    expect(await keys.isActive('0000000000000000')).toBe(false);
    stop();
    const other = await keys.create({ name: 'other', scopes: ['read'] });
    await keys.revoke(other.info.id);
    expect(heard).toEqual([info.id]);
  });

  it('bootstrap: a new pepper over an old database makes a new admin key and says why, even though an admin row exists', async () => {
    const file = join(dir.path, 'admin.token');
    expect(await keys.bootstrapAdmin(file, logger, { secretsReplaced: true })).toMatch(/^[0-9a-f]{16}$/); // empty table: just the first key
    expect(lines.join('\n')).not.toContain('stopped working');
    const replaced = await keys.bootstrapAdmin(file, logger, { secretsReplaced: true });
    expect(replaced).toMatch(/^[0-9a-f]{16}$/);
    expect(lines.join('\n')).toMatch(/ERROR.*the API key pepper is new but the database holds API keys: every existing key stopped working/);
    expect(readFileSync(file, 'utf8')).toContain(`rwk_${replaced}_`);
  });

  it('creates keys with their implied scopes and expiry, and refuses bad input naming the field', async () => {
    const { info } = await keys.create({ name: 'ci', scopes: ['read', 'operate'], ttlDays: 30 });
    expect(info).toMatchObject({ name: 'ci', scopes: ['read', 'operate'], created: clock.now(), expires: clock.now() + 30 * DAY });
    expect((await keys.create({ name: 'root', scopes: ['admin'] })).info.scopes).toEqual(['read', 'operate', 'admin']);
    expect((await repo.findById(info.id))?.scope).toBe('operate');
    const cases: Array<[Parameters<ApiKeyService['create']>[0], string]> = [
      [{ name: '', scopes: ['read'] }, 'name'],
      [{ name: 'has space', scopes: ['read'] }, 'name'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['root'] }, 'scopes'],
      [{ name: 'x', scopes: ['read'], ttlDays: -1 }, 'ttl_days'],
    ];
    for (const [command, field] of cases) {
      await expect(keys.create(command)).rejects.toMatchObject({ name: 'FleetError', kind: 'invalid_argument', field });
    }
  });

  it('revokes once (the first time is kept), and says which id it does not know', async () => {
    const { info } = await keys.create({ name: 'ci', scopes: ['read'] });
    expect((await keys.revoke(info.id)).revoked).toBe(clock.now());
    clock.advance(1000);
    expect((await keys.revoke(info.id)).revoked).toBe(clock.now() - 1000);
    await expect(keys.revoke('0123456789abcdef')).rejects.toEqual(new FleetError('not_found', 'no API key 0123456789abcdef; rigctl keys list shows the keys', 'key_id'));
    await expect(keys.revoke('nope')).rejects.toMatchObject({ kind: 'invalid_argument', field: 'key_id' });
  });

  it.each([
    ['operator:0123456789abcdef', 'apikey:0123456789abcdef', '0123456789abcdef'],
    ['operator:apikey:0123456789abcdef', 'apikey:0123456789abcdef', '0123456789abcdef'],
    ['policy:failover', 'policy:failover', ''],
    ['', 'controller', ''],
  ])('audits a command requested by %j as principal %s', (requestedBy, principal, keyId) => {
    const command = {
      id: 'c1', rigId: 'rig-1', minerId: 'm1', type: 'switch-pool', payload: { $case: 'switchPool', value: { poolIndex: 1 } }, state: 'SUCCEEDED',
      attempts: 1, createdAt: 0, deadline: 1, cause: 'switched', requestedBy, reason: 'pool silent',
    } as CommandRecord;
    expect(commandAuditRecord(command)).toEqual({
      principal, keyId, action: 'command.switch-pool', target: 'rig-1', outcome: 'succeeded',
      detail: { commandId: 'c1', minerId: 'm1', attempts: 1, cause: 'switched', reason: 'pool silent' },
    });
  });
});
