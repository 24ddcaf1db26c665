import type { PostgresDatabase } from './postgres-database';

/**
 * The PostgreSQL schema, versioned as MIGRATIONS for SQLite is: version N here leaves the same tables, columns and
 * meaning as version N there (epoch ms and seqs in BIGINT, JSON in TEXT). Where SQLite used its rowid, a BIGSERIAL
 * column stands in (snapshots.id, events.pos, command_results.id, fleet_specs.id). Never edit a released migration.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'rigs, latest miner status and raw snapshots',
    sql: `
      CREATE TABLE rigs (
        rig_id    TEXT PRIMARY KEY,
        agent_id  TEXT,
        online    INTEGER NOT NULL DEFAULT 0,
        state_at  BIGINT,
        last_seen BIGINT,
        last_seq  BIGINT NOT NULL DEFAULT 0
      );
      CREATE TABLE miner_status (
        rig_id       TEXT NOT NULL,
        miner_id     TEXT NOT NULL,
        seq          BIGINT NOT NULL,
        collected_at BIGINT NOT NULL,
        snapshot     TEXT NOT NULL,
        PRIMARY KEY (rig_id, miner_id)
      );
      CREATE TABLE snapshots (
        rig_id       TEXT NOT NULL,
        seq          BIGINT NOT NULL,
        miner_id     TEXT NOT NULL,
        collected_at BIGINT NOT NULL,
        hashrate_hs  DOUBLE PRECISION,
        max_temp_c   DOUBLE PRECISION,
        snapshot     TEXT NOT NULL,
        PRIMARY KEY (rig_id, seq)
      );
      CREATE INDEX snapshots_by_time ON snapshots (collected_at);
    `,
  },
  {
    version: 2,
    name: 'events, command results and agent status',
    sql: `
      CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        rig_id   TEXT NOT NULL,
        kind     TEXT NOT NULL,
        severity TEXT NOT NULL,
        reason   TEXT NOT NULL,
        message  TEXT NOT NULL,
        at       BIGINT NOT NULL,
        source   TEXT NOT NULL,
        pos      BIGSERIAL NOT NULL -- insertion order (SQLite's rowid)
      );
      CREATE INDEX events_by_rig_time ON events (rig_id, at);
      CREATE TABLE command_results (
        id          BIGSERIAL PRIMARY KEY,
        command_id  TEXT NOT NULL,
        rig_id      TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        cause       TEXT NOT NULL,
        duration_ms BIGINT NOT NULL,
        finished_at BIGINT,
        received_at BIGINT NOT NULL
      );
      CREATE INDEX command_results_by_command ON command_results (command_id);
      CREATE TABLE agents (
        agent_id TEXT PRIMARY KEY,
        online   INTEGER NOT NULL,
        at       BIGINT NOT NULL,
        status   TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'hashrate and temperature rollups',
    sql: `
      CREATE TABLE rollups (
        resolution   TEXT NOT NULL,
        rig_id       TEXT NOT NULL,
        bucket_start BIGINT NOT NULL,
        samples      BIGINT NOT NULL,
        hashrate_avg DOUBLE PRECISION,
        hashrate_min DOUBLE PRECISION,
        hashrate_max DOUBLE PRECISION,
        temp_max     DOUBLE PRECISION,
        PRIMARY KEY (resolution, rig_id, bucket_start)
      );
      CREATE INDEX rollups_by_time ON rollups (resolution, bucket_start);
    `,
  },
  {
    version: 4,
    name: 'raw snapshots in a rowid table; latest status points at its snapshot',
    sql: `
      -- A latest status whose raw snapshot retention already deleted keeps its snapshot.
      INSERT INTO snapshots (rig_id, seq, miner_id, collected_at, snapshot)
        SELECT m.rig_id, m.seq, m.miner_id, m.collected_at, m.snapshot FROM miner_status m
         WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.rig_id = m.rig_id AND s.seq = m.seq);
      ALTER TABLE snapshots DROP CONSTRAINT snapshots_pkey;
      ALTER TABLE snapshots ADD COLUMN id BIGSERIAL PRIMARY KEY;
      CREATE UNIQUE INDEX snapshots_by_rig_seq ON snapshots (rig_id, seq);
      ALTER TABLE miner_status DROP COLUMN snapshot;
    `,
  },
  {
    version: 5,
    name: 'commands: persisted before they are published, with attempts, deadline and result',
    sql: `
      CREATE TABLE commands (
        id           TEXT PRIMARY KEY,
        rig_id       TEXT NOT NULL,
        miner_id     TEXT NOT NULL,
        type         TEXT NOT NULL,
        payload      TEXT NOT NULL,
        state        TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created_at   BIGINT NOT NULL,
        deadline     BIGINT NOT NULL,
        sent_at      BIGINT,
        finished_at  BIGINT,
        cause        TEXT NOT NULL DEFAULT '',
        requested_by TEXT NOT NULL,
        reason       TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX commands_by_rig_time ON commands (rig_id, created_at);
      CREATE INDEX commands_by_time ON commands (created_at);
      CREATE INDEX commands_unfinished ON commands (state) WHERE state IN ('PENDING', 'SENT');
    `,
  },
  {
    version: 6,
    name: 'rig labels and every applied fleet spec version',
    sql: `
      ALTER TABLE rigs ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE events ADD COLUMN command_id TEXT NOT NULL DEFAULT '';
      CREATE TABLE fleet_specs (
        id         BIGSERIAL PRIMARY KEY,
        version    TEXT NOT NULL,
        yaml       TEXT NOT NULL,
        applied_at BIGINT NOT NULL,
        applied_by TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'API keys and the append-only audit log',
    sql: `
      CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        scopes     TEXT NOT NULL,
        hash       TEXT NOT NULL,
        created    BIGINT NOT NULL,
        not_before BIGINT NOT NULL,
        expires    BIGINT,
        revoked    BIGINT,
        last_used  BIGINT
      );
      CREATE TABLE audit (
        seq       BIGINT PRIMARY KEY,
        at        BIGINT NOT NULL,
        principal TEXT NOT NULL,
        key_id    TEXT NOT NULL,
        action    TEXT NOT NULL,
        target    TEXT NOT NULL,
        outcome   TEXT NOT NULL,
        detail    TEXT NOT NULL,
        hash      TEXT NOT NULL
      );
      CREATE INDEX audit_by_time ON audit (at);
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit is append-only: rows cannot be %', CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END; END $$;
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    `,
  },
  {
    version: 8,
    name: 'a rig\'s last seen time and seq come from its miners\' latest status',
    sql: `
      ALTER TABLE rigs DROP COLUMN last_seen;
      ALTER TABLE rigs DROP COLUMN last_seq;
      CREATE VIEW rigs_seen AS
        SELECT r.*,
               (SELECT MAX(m.collected_at) FROM miner_status m WHERE m.rig_id = r.rig_id) AS last_seen,
               (SELECT COALESCE(MAX(m.seq), 0) FROM miner_status m WHERE m.rig_id = r.rig_id) AS last_seq
          FROM rigs r;
    `,
  },
  {
    version: 9,
    name: 'liveness judged by the controller; command outcomes observed afterwards',
    sql: `
      ALTER TABLE rigs ADD COLUMN liveness TEXT NOT NULL DEFAULT '';
      ALTER TABLE rigs ADD COLUMN liveness_reason TEXT NOT NULL DEFAULT '';
      ALTER TABLE rigs ADD COLUMN liveness_message TEXT NOT NULL DEFAULT '';
      ALTER TABLE rigs ADD COLUMN liveness_since BIGINT;
      -- PostgreSQL expands r.* when a view is created: made again so that it shows the new columns, as SQLite's does.
      DROP VIEW rigs_seen;
      CREATE VIEW rigs_seen AS
        SELECT r.*,
               (SELECT MAX(m.collected_at) FROM miner_status m WHERE m.rig_id = r.rig_id) AS last_seen,
               (SELECT COALESCE(MAX(m.seq), 0) FROM miner_status m WHERE m.rig_id = r.rig_id) AS last_seq
          FROM rigs r;
      ALTER TABLE commands ADD COLUMN observed_outcome TEXT NOT NULL DEFAULT '';
      ALTER TABLE commands ADD COLUMN observed_at BIGINT;
      ALTER TABLE commands ADD COLUMN observed_note TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 10,
    name: 'a policy decision\'s parameters with its event',
    sql: `
      ALTER TABLE events ADD COLUMN params TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 11,
    name: 'shard leases of controllers sharing one database',
    sql: `
      -- 64 shards: fixed here, so that every controller maps a rig to the same shard and its epochs only grow.
      CREATE TABLE shard_leases (
        shard      INTEGER PRIMARY KEY,
        owner      TEXT,
        epoch      BIGINT NOT NULL DEFAULT 0,
        expires_at BIGINT NOT NULL DEFAULT 0 -- epoch ms on the database's clock
      );
      INSERT INTO shard_leases (shard) SELECT generate_series(0, 63);
      CREATE TABLE replicas (
        replica_id TEXT PRIMARY KEY,
        seen_at    BIGINT NOT NULL
      );
    `,
  },
  {
    version: 12,
    name: 'the controller and lease epoch that last sent each command',
    sql: `
      ALTER TABLE commands ADD COLUMN sent_by TEXT NOT NULL DEFAULT '';
      ALTER TABLE commands ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 13,
    name: 'one row per command result',
    sql: `
      DELETE FROM command_results WHERE id NOT IN (
        SELECT MIN(id) FROM command_results GROUP BY command_id, outcome, COALESCE(finished_at, -1)
      );
      CREATE UNIQUE INDEX command_results_once ON command_results (command_id, outcome, COALESCE(finished_at, -1));
    `,
  },
];

/** Serialises migrations of controllers starting together against one database (an arbitrary, fixed key). */
const MIGRATION_LOCK = 7_345_001;

/** Applies every migration not applied yet, each in its own transaction, under an advisory lock. Returns the version. */
export async function migratePostgres(db: PostgresDatabase, migrations = POSTGRES_MIGRATIONS, now: () => number = Date.now): Promise<number> {
  const latest = migrations[migrations.length - 1]!.version;
  return db.transaction(async (tx) => {
    await tx.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const applied = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const current = Math.max(0, ...applied);
    if (current > latest) {
      throw new Error(`database schema is version ${current} but this controller knows up to ${latest}: upgrade the controller or restore a matching backup`);
    }
    // DDL is transactional in PostgreSQL: all pending migrations commit together or not at all.
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.run(m.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
    }
    return latest;
  });
}
