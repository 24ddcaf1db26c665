import { AuditChain, SecretBytes } from '@rigwarden/security';
import { LatestStatusCache } from '../latest-status.cache';
import { describeStoreContract } from '../store.contract';
import { PostgresApiKeyStore } from './postgres-api-key.store';
import { PostgresAuditStore } from './postgres-audit.store';
import { PostgresCommandStore } from './postgres-command.store';
import { PostgresDashboardReadStore } from './postgres-dashboard-read.store';
import { PostgresEventStore } from './postgres-event.store';
import { PostgresFleetSpecStore } from './postgres-fleet-spec.store';
import { PostgresLivenessStore } from './postgres-liveness.store';
import { POSTGRES_MIGRATIONS, migratePostgres } from './postgres-migrations';
import { PostgresRigPresenceStore } from './postgres-rig-presence.store';
import { PostgresRigStatusStore } from './postgres-rig-status.store';
import { PostgresRollupStore } from './postgres-rollup.store';
import { PostgresTelemetryQueryStore } from './postgres-telemetry-query.store';
import { openTestSchema } from './postgres.testing';
import { MIGRATIONS } from '../migrations';

describeStoreContract('PostgreSQL (a fresh schema per test)', async () => {
  const { db, drop } = await openTestSchema();
  const key = SecretBytes.generate();
  let t = Date.parse('2026-12-01T10:00:00Z');
  return {
    rigs: new PostgresRigStatusStore(db, new LatestStatusCache()),
    events: new PostgresEventStore(db),
    rollups: new PostgresRollupStore(db),
    liveness: new PostgresLivenessStore(db),
    specs: new PostgresFleetSpecStore(db),
    queries: new PostgresTelemetryQueryStore(db),
    apiKeys: new PostgresApiKeyStore(db),
    audit: new PostgresAuditStore(db, new AuditChain(key), () => (t += 1000)),
    commands: new PostgresCommandStore(db),
    dashboard: new PostgresDashboardReadStore(db),
    presence: new PostgresRigPresenceStore(db),
    reopenRigs: () => new PostgresRigStatusStore(db),
    close: drop,
  };
});

describe('PostgreSQL migrations', () => {
  it('number the same versions as SQLite\'s, apply once, and leave an append-only audit table', async () => {
    expect(POSTGRES_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    const { db, drop } = await openTestSchema();
    try {
      expect(await migratePostgres(db)).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
      expect(await db.get('SELECT COUNT(*) AS n FROM schema_migrations')).toEqual({ n: MIGRATIONS.length });
      await db.run("INSERT INTO audit (seq, at, principal, key_id, action, target, outcome, detail, hash) VALUES (1, 0, 'p', '', 'a', 't', 'ok', '{}', 'h')");
      await expect(db.run("UPDATE audit SET outcome = 'denied'")).rejects.toThrow(/append-only: rows cannot be changed/);
      await expect(db.run('DELETE FROM audit')).rejects.toThrow(/append-only: rows cannot be deleted/);
    } finally {
      await drop();
    }
  });

  it('refuses a database newer than the controller', async () => {
    const { db, drop } = await openTestSchema();
    try {
      await db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
      await expect(migratePostgres(db)).rejects.toThrow(/schema is version 999 but this controller knows up to/);
    } finally {
      await drop();
    }
  });
});
