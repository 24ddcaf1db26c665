import { randomBytes } from 'node:crypto';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { LatestStatusCache } from '../latest-status.cache';
import { EVENT_STORE } from '../ports/event.port';
import { FLEET_SPEC_STORE } from '../ports/fleet-spec.port';
import { LIVENESS_STORE } from '../ports/liveness.port';
import { RIG_STATUS_STORE } from '../ports/rig-status.port';
import { ROLLUP_STORE } from '../ports/rollup.port';
import { TELEMETRY_QUERY_STORE } from '../ports/telemetry-query.port';
import { PostgresDatabase, redact } from './postgres-database';
import { PostgresEventStore } from './postgres-event.store';
import { PostgresFleetSpecStore } from './postgres-fleet-spec.store';
import { PostgresLivenessStore } from './postgres-liveness.store';
import { migratePostgres } from './postgres-migrations';
import { PostgresRigStatusStore } from './postgres-rig-status.store';
import { PostgresRollupStore } from './postgres-rollup.store';
import { PostgresTelemetryQueryStore } from './postgres-telemetry-query.store';

/** The test database: RIGWARDEN_TEST_DATABASE_URL (.ci/run exports it), else the local server with trust auth. */
export function testDatabaseUrl(): string {
  return process.env['RIGWARDEN_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestSchema {
  db: PostgresDatabase;
  schema: string;
  url: string;
  /** Closes the pool and drops the schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * A fresh schema test_<random> on the test database, migrated. PostgreSQL missing is a failure, not a skip: the
 * message says where the test looked and how to point it elsewhere.
 */
export async function openTestSchema(): Promise<TestSchema> {
  const url = testDatabaseUrl();
  const schema = `test_${randomBytes(6).toString('hex')}`;
  let db: PostgresDatabase;
  try {
    db = await PostgresDatabase.open(url, { schema, poolSize: 2 });
  } catch (err) {
    throw new Error(`PostgreSQL tests need a server: none answered at ${redact(url)} (${(err as Error).message}). Start one (.ci/run does) or set RIGWARDEN_TEST_DATABASE_URL.`, { cause: err });
  }
  await migratePostgres(db);
  return {
    db, schema, url,
    drop: async () => {
      await db.run(`DROP SCHEMA ${schema} CASCADE`).finally(() => db.close());
    },
  };
}

/**
 * Binds every storage port the persistence module provides to its PostgreSQL store (what `--database` will select),
 * on a Nest testing module of the real controller.
 */
export function onPostgres(builder: TestingModuleBuilder, db: PostgresDatabase): TestingModuleBuilder {
  return builder
    .overrideProvider(RIG_STATUS_STORE).useValue(new PostgresRigStatusStore(db, new LatestStatusCache()))
    .overrideProvider(EVENT_STORE).useValue(new PostgresEventStore(db))
    .overrideProvider(ROLLUP_STORE).useValue(new PostgresRollupStore(db))
    .overrideProvider(FLEET_SPEC_STORE).useValue(new PostgresFleetSpecStore(db))
    .overrideProvider(TELEMETRY_QUERY_STORE).useValue(new PostgresTelemetryQueryStore(db))
    .overrideProvider(LIVENESS_STORE).useValue(new PostgresLivenessStore(db));
}
