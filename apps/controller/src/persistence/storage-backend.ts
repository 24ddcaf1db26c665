import { createLogger } from '@rigwarden/shared';
import type { ControllerConfig } from '../config/controller-config';
import { migrate } from './migrations';
import { PostgresDatabase, redact } from './postgres/postgres-database';
import { migratePostgres } from './postgres/postgres-migrations';
import { SqliteDatabase } from './sqlite-database';

/** The database the whole controller uses: the SQLite file (the default) or PostgreSQL (--database postgres://...). */
export type StorageBackend =
  | { readonly kind: 'sqlite'; readonly sqlite: SqliteDatabase }
  | { readonly kind: 'postgres'; readonly postgres: PostgresDatabase };

export const STORAGE_BACKEND = Symbol('StorageBackend');

/** Picks the SQLite or the PostgreSQL implementation of a port for the backend in use. */
export function byBackend<T>(backend: StorageBackend, sqlite: (db: SqliteDatabase) => T, postgres: (db: PostgresDatabase) => T): T {
  return backend.kind === 'sqlite' ? sqlite(backend.sqlite) : postgres(backend.postgres);
}

/**
 * Opens the database of `config` and brings its schema up to date (versioned migrations, each applied once; with
 * PostgreSQL under an advisory lock, so controllers starting together migrate one after the other). An unreachable
 * PostgreSQL fails the start with a message naming the URL, its password masked.
 */
export async function openStorageBackend(config: Pick<ControllerConfig, 'dbPath' | 'databaseUrl'>): Promise<StorageBackend> {
  const logger = createLogger('controller.persistence');
  if (config.databaseUrl !== undefined) {
    const postgres = await PostgresDatabase.open(config.databaseUrl, { poolSize: 8 });
    try {
      const version = await migratePostgres(postgres);
      logger.info('PostgreSQL ready', { url: redact(config.databaseUrl), schema: version });
    } catch (err) {
      await postgres.close().catch(() => undefined);
      throw new Error(`PostgreSQL at ${redact(config.databaseUrl)}: the migrations failed: ${(err as Error).message}`, { cause: err });
    }
    return { kind: 'postgres', postgres };
  }
  const sqlite = await SqliteDatabase.open(config.dbPath);
  const version = await migrate(sqlite);
  logger.info('SQLite ready', { path: config.dbPath, schema: version, journal: 'wal' });
  return { kind: 'sqlite', sqlite };
}

export async function closeStorageBackend(backend: StorageBackend): Promise<void> {
  await (backend.kind === 'sqlite' ? backend.sqlite.close() : backend.postgres.close());
}

/** Where the data lives, for the ready file and logs: the SQLite path or the PostgreSQL URL without its password. */
export function describeStorage(config: Pick<ControllerConfig, 'dbPath' | 'databaseUrl'>): string {
  return config.databaseUrl !== undefined ? redact(config.databaseUrl) : config.dbPath;
}
