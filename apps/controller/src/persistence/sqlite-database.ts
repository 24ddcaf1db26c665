import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile, touchPrivateFile } from '@rigwarden/shared';
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;

export class PersistenceError extends Error {
  override readonly name = 'PersistenceError';
  constructor(message: string, readonly sql?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A promise-shaped wrapper around one sqlite3 connection. Writes that belong
 * together go through transaction(), which runs them one at a time so that two
 * batches never interleave inside one BEGIN ... COMMIT.
 */
export class SqliteDatabase {
  private writeChain: Promise<unknown> = Promise.resolve();
  /** Statements kept prepared for the life of the connection (the hot multi-row INSERTs of ingest). */
  private readonly cached = new Map<string, Promise<sqlite3.Statement>>();

  private constructor(private readonly db: sqlite3.Database, readonly path: string) {}

  static async open(path: string): Promise<SqliteDatabase> {
    if (path !== ':memory:') {
      // API key hashes, the audit log and pool passwords: 0600 in a 0700 directory. SQLite gives the -wal and -shm
      // files it creates the database file's mode, so a file made 0600 here keeps them 0600; existing ones are fixed.
      ensurePrivateDir(dirname(path));
      touchPrivateFile(path);
      for (const companion of [`${path}-wal`, `${path}-shm`, `${path}-journal`]) ensurePrivateFile(companion);
    }
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle = new sqlite3.Database(path, (err) => (err ? reject(new PersistenceError(`cannot open SQLite file ${path}: ${err.message}`, undefined, { cause: err })) : resolve(handle)));
    });
    const database = new SqliteDatabase(db, path);
    db.configure('busyTimeout', 5000);
    // WAL with synchronous=NORMAL: a commit survives a crash of the process (the WAL is in the OS), a power cut can
    // lose the last commits but never corrupt the file. 8 kB pages (new files only) hold several ~1 kB snapshots;
    // checkpoints every 4,000 pages instead of 1,000 copy hot pages (indexes, latest status) once instead of
    // several times, and the WAL file is cut back to 64 MB after one. About +25 % ingest writes (docs/benchmarks.md).
    // A page cache of up to 16 MiB instead of 2: every batch touches each reporting rig's last page of the
    // (rig_id, seq) index (a page per rig once it has a few hundred rows), which the default cache reads back from
    // the OS each time. Not 64 MiB: while that larger cache filled, the SQLite thread spent 15-19 µs per snapshot
    // against 12-14 µs with 16 or 2 MiB (ingest bench, 50,000 snapshots), and no better once it was full.
    // auto_vacuum = INCREMENTAL (new files only, like the page size): the pages retention frees are given back by the
    // rollup job's incremental_vacuum, so the file stops growing once retention is reached.
    await database.exec(`PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
      PRAGMA wal_autocheckpoint = 4000; PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -16384;`);
    return database;
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(wrap(err, sql)) : resolve())));
  }

  run(sql: string, params: SqlValue[] = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(wrap(err, sql));
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => this.db.all(sql, params, (err, rows) => (err ? reject(wrap(err, sql)) : resolve(rows as T[]))));
  }

  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => this.db.get(sql, params, (err, row) => (err ? reject(wrap(err, sql)) : resolve(row as T | undefined))));
  }

  /**
   * Like run(), through a statement prepared once and reused: for statements run many times with the same SQL text
   * (a multi-row INSERT of a fixed row count), parsing and planning it again each time is wasted work.
   */
  runCached(sql: string, params: SqlValue[]): Promise<{ changes: number; lastID: number }> {
    return this.statement(sql).then((stmt) => new Promise((resolve, reject) => {
      stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(wrap(err, sql));
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    }));
  }

  /** Like all(), through a statement prepared once and reused (see runCached). */
  allCached<T>(sql: string, params: SqlValue[]): Promise<T[]> {
    return this.statement(sql).then((stmt) => new Promise((resolve, reject) => {
      stmt.all(params, (err: Error | null, rows: unknown[]) => (err ? reject(wrap(err, sql)) : resolve(rows as T[])));
    }));
  }

  private statement(sql: string): Promise<sqlite3.Statement> {
    let prepared = this.cached.get(sql);
    if (!prepared) {
      // sqlite3 never calls run()'s callback on a statement that failed to compile, so wait for prepare first.
      prepared = new Promise<sqlite3.Statement>((resolve, reject) => {
        const stmt = this.db.prepare(sql, (err: Error | null) => (err ? reject(wrap(err, sql)) : resolve(stmt)));
      });
      this.cached.set(sql, prepared);
      prepared.catch(() => this.cached.delete(sql));
    }
    return prepared;
  }

  /** Runs `work` inside BEGIN IMMEDIATE ... COMMIT, after any transaction already queued. */
  transaction<T>(work: (tx: SqliteDatabase) => Promise<T>): Promise<T> {
    const next = this.writeChain.then(async () => {
      await this.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this);
        await this.exec('COMMIT');
        return result;
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** A prepared statement for a batch; finalize it before close (sqlite3 refuses to close otherwise). */
  prepare(sql: string): PreparedStatement {
    return new PreparedStatement(this.db.prepare(sql), sql);
  }

  async close(): Promise<void> {
    await this.writeChain;
    const statements = await Promise.allSettled([...this.cached.values()]);
    this.cached.clear();
    await Promise.all(statements.map((s) => (s.status === 'fulfilled' ? new Promise<void>((resolve) => s.value.finalize(() => resolve())) : undefined)));
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(wrap(err, 'close')) : resolve())));
  }
}

export class PreparedStatement {
  constructor(private readonly stmt: sqlite3.Statement, private readonly sql: string) {}

  run(params: SqlValue[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(wrap(err, 'prepared statement'));
        else resolve(this.changes);
      });
    });
  }

  finalize(): Promise<void> {
    return new Promise((resolve) => this.stmt.finalize(() => resolve()));
  }

  toString(): string {
    return this.sql;
  }
}

function wrap(err: Error, sql: string): PersistenceError {
  return new PersistenceError(`SQLite: ${err.message}`, sql, { cause: err });
}
