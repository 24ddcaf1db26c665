import { randomBytes } from 'node:crypto';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { STORAGE_BACKEND, type StorageBackend } from '../storage-backend';
import { PostgresDatabase, redact } from './postgres-database';
import { migratePostgres } from './postgres-migrations';

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

/** The test database's URL with the schema as its search_path: what `--database` takes to run a controller in it. */
export function schemaUrl(schema: string, url = testDatabaseUrl()): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/**
 * Puts the whole storage of a Nest testing module of the real controller on PostgreSQL, in the test schema of `db`
 * (what `--database` selects): every port, the audit log and the API keys included. The module gets its own pool
 * and closes it at shutdown; `db` stays the test's.
 */
export function onPostgres(builder: TestingModuleBuilder, db: PostgresDatabase): TestingModuleBuilder {
  const { url, schema } = db;
  return builder.overrideProvider(STORAGE_BACKEND).useFactory({
    factory: async (): Promise<StorageBackend> => ({ kind: 'postgres', postgres: await PostgresDatabase.open(url, { schema, poolSize: 4 }) }),
  });
}
