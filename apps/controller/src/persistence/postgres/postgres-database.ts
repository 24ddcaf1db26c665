import pg from 'pg';
import { PersistenceError } from '../sqlite-database';

/**
 * A parameter as the stores bind it: numbers may come as their decimal text (SnapshotBatch); a Buffer goes as its
 * bytes in binary format, which a `$n::text` parameter takes as UTF-8 text (the snapshot payloads of a batch).
 */
export type PgValue = string | number | bigint | boolean | null | Buffer | readonly (string | number | null)[];

/** int8 (BIGINT, COUNT(*), SUM of integers) as a number: epoch ms and seqs are safe integers; numeric as a number too. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Queries on the pool or on one transaction's client, with `$1`-style parameters. */
export class PgQueries {
  constructor(protected readonly target: pg.Pool | pg.PoolClient) {}

  async query<T>(sql: string, params: readonly PgValue[] = []): Promise<{ rows: T[]; rowCount: number }> {
    try {
      const result = await this.target.query(sql, params as unknown[]);
      return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
    } catch (err) {
      throw new PersistenceError(`PostgreSQL: ${(err as Error).message}`, sql, { cause: err });
    }
  }

  async all<T>(sql: string, params: readonly PgValue[] = []): Promise<T[]> {
    return (await this.query<T>(sql, params)).rows;
  }

  async get<T>(sql: string, params: readonly PgValue[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params)).rows[0];
  }

  /** The number of rows the statement changed. */
  async run(sql: string, params: readonly PgValue[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount;
  }
}

export interface PostgresOptions {
  /** Tables live in this schema (created if missing); default the connection's search_path (public). */
  schema?: string;
  /** Connections in the pool (default 4: ingest's group commit, the API's reads, the sweeps). */
  poolSize?: number;
}

/**
 * A pool of connections to PostgreSQL. Writes that belong together go through transaction(), on one client between
 * BEGIN and COMMIT; reads go to whichever connection is free.
 */
export class PostgresDatabase extends PgQueries {
  private constructor(private readonly pool: pg.Pool, readonly url: string, readonly schema: string | undefined) {
    super(pool);
  }

  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
    const { schema } = options;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new PersistenceError(`PostgreSQL: schema name "${schema}" is not a plain lower-case identifier`);
    const pool = new pg.Pool({
      connectionString: url, max: options.poolSize ?? 4, types: TYPES, connectionTimeoutMillis: 10_000,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle client that loses its connection emits here; without a listener it would end the process.
    pool.on('error', () => undefined);
    const db = new PostgresDatabase(pool, url, schema);
    try {
      if (schema) await db.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      else await db.run('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      const cause = (err as Error).cause instanceof Error ? (err as Error).cause as Error : err as Error;
      throw new PersistenceError(`cannot connect to PostgreSQL at ${redact(url)}: ${cause.message || String(cause)}`, undefined, { cause: err });
    }
    return db;
  }

  /** Runs `work` between BEGIN and COMMIT on one connection (ROLLBACK when it throws). */
  async transaction<T>(work: (tx: PgQueries) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new PersistenceError(`PostgreSQL: no connection to ${redact(this.url)}: ${(err as Error).message}`, undefined, { cause: err });
    }
    const tx = new PgQueries(client);
    try {
      await tx.run('BEGIN');
      const result = await work(tx);
      await tx.run('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
