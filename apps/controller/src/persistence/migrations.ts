import type { SqliteDatabase } from './sqlite-database';

/**
 * Versioned schema migrations, applied in order inside one transaction each.
 * Never edit a released migration: add the next one.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'rigs, latest miner status and raw snapshots',
    sql: `
      CREATE TABLE rigs (
        rig_id     TEXT PRIMARY KEY,
        agent_id   TEXT,
        online     INTEGER NOT NULL DEFAULT 0,
        state_at   INTEGER,
        last_seen  INTEGER,
        last_seq   INTEGER NOT NULL DEFAULT 0
      );
      -- Latest status per miner, rebuilt from telemetry: the proto3 JSON of the newest snapshot.
      CREATE TABLE miner_status (
        rig_id       TEXT NOT NULL,
        miner_id     TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        collected_at INTEGER NOT NULL,
        snapshot     TEXT NOT NULL,
        PRIMARY KEY (rig_id, miner_id)
      );
      -- Raw snapshots; (rig_id, seq) is unique so a replayed snapshot is stored once.
      CREATE TABLE snapshots (
        rig_id       TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        miner_id     TEXT NOT NULL,
        collected_at INTEGER NOT NULL,
        hashrate_hs  REAL,
        max_temp_c   REAL,
        snapshot     TEXT NOT NULL,
        PRIMARY KEY (rig_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX snapshots_by_time ON snapshots (collected_at);
    `,
  },
  {
    version: 2,
    name: 'events, command results and agent status',
    sql: `
      -- What happened on a rig: agent-side events (safety watchdog, rejected commands), later policy decisions.
      CREATE TABLE events (
        event_id  TEXT PRIMARY KEY,
        rig_id    TEXT NOT NULL,
        kind      TEXT NOT NULL,
        severity  TEXT NOT NULL,
        reason    TEXT NOT NULL,
        message   TEXT NOT NULL,
        at        INTEGER NOT NULL,
        source    TEXT NOT NULL
      );
      CREATE INDEX events_by_rig_time ON events (rig_id, at);
      -- Every result an agent reported; a command can have several (a rejected replay after a success).
      CREATE TABLE command_results (
        id          INTEGER PRIMARY KEY,
        command_id  TEXT NOT NULL,
        rig_id      TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        cause       TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        finished_at INTEGER,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX command_results_by_command ON command_results (command_id);
      CREATE TABLE agents (
        agent_id TEXT PRIMARY KEY,
        online   INTEGER NOT NULL,
        at       INTEGER NOT NULL,
        status   TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'hashrate and temperature rollups',
    sql: `
      -- One row per rig and period: averages and extremes of its snapshots, kept longer than the raw snapshots.
      CREATE TABLE rollups (
        resolution   TEXT NOT NULL,          -- '1m' or '1h'
        rig_id       TEXT NOT NULL,
        bucket_start INTEGER NOT NULL,       -- epoch ms, aligned to the resolution
        samples      INTEGER NOT NULL,
        hashrate_avg REAL,
        hashrate_min REAL,
        hashrate_max REAL,
        temp_max     REAL,
        PRIMARY KEY (resolution, rig_id, bucket_start)
      ) WITHOUT ROWID;
      CREATE INDEX rollups_by_time ON rollups (resolution, bucket_start);
    `,
  },
  {
    version: 4,
    name: 'raw snapshots in a rowid table; latest status points at its snapshot',
    sql: `
      -- Snapshots are about 1 kB each: in a WITHOUT ROWID table keyed by (rig_id, seq) every insert lands in the middle
      -- of a b-tree of large rows, so batches from many rigs split pages all over the file. A rowid table appends them,
      -- and only the small (rig_id, seq) index takes the scattered inserts (about 3x the write rate).
      CREATE TABLE snapshots_v4 (
        id           INTEGER PRIMARY KEY,
        rig_id       TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        miner_id     TEXT NOT NULL,
        collected_at INTEGER NOT NULL,
        hashrate_hs  REAL,
        max_temp_c   REAL,
        snapshot     TEXT NOT NULL
      );
      INSERT INTO snapshots_v4 (rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot)
        SELECT rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot FROM snapshots ORDER BY collected_at;
      -- A latest status whose raw snapshot retention already deleted keeps its snapshot.
      INSERT INTO snapshots_v4 (rig_id, seq, miner_id, collected_at, snapshot)
        SELECT m.rig_id, m.seq, m.miner_id, m.collected_at, m.snapshot FROM miner_status m
         WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.rig_id = m.rig_id AND s.seq = m.seq);
      DROP TABLE snapshots;
      ALTER TABLE snapshots_v4 RENAME TO snapshots;
      CREATE UNIQUE INDEX snapshots_by_rig_seq ON snapshots (rig_id, seq);
      CREATE INDEX snapshots_by_time ON snapshots (collected_at);
      -- Latest status per miner: which snapshot it is, not a second copy of it. Retention keeps these snapshots.
      CREATE TABLE miner_status_v4 (
        rig_id       TEXT NOT NULL,
        miner_id     TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        collected_at INTEGER NOT NULL,
        PRIMARY KEY (rig_id, miner_id)
      ) WITHOUT ROWID;
      INSERT INTO miner_status_v4 SELECT rig_id, miner_id, seq, collected_at FROM miner_status;
      DROP TABLE miner_status;
      ALTER TABLE miner_status_v4 RENAME TO miner_status;
    `,
  },
  {
    version: 5,
    name: 'commands: persisted before they are published, with attempts, deadline and result',
    sql: `
      -- One row per command id (the agent runs an id once); retries reuse the row. state: PENDING, SENT, SUCCEEDED,
      -- FAILED, REJECTED, TIMED_OUT. payload: the proto3 JSON of the CommandEnvelope payload ({"setPools": {...}}).
      CREATE TABLE commands (
        id           TEXT PRIMARY KEY,
        rig_id       TEXT NOT NULL,
        miner_id     TEXT NOT NULL,
        type         TEXT NOT NULL,
        payload      TEXT NOT NULL,
        state        TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        deadline     INTEGER NOT NULL,
        sent_at      INTEGER,
        finished_at  INTEGER,
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
      -- The agent's labels from the rig's retained state, as a JSON object (fleet groups select rigs by them).
      ALTER TABLE rigs ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
      -- The command a policy decision sent, so ListEvents can link the two.
      ALTER TABLE events ADD COLUMN command_id TEXT NOT NULL DEFAULT '';
      -- Every fleet spec put in force (from the --fleet file at start or ApplyFleetSpec), newest last.
      CREATE TABLE fleet_specs (
        id         INTEGER PRIMARY KEY,
        version    TEXT NOT NULL,          -- content hash of the YAML
        yaml       TEXT NOT NULL,
        applied_at INTEGER NOT NULL,
        applied_by TEXT NOT NULL           -- "file:<path>" or "apikey:<id>"
      );
    `,
  },
  {
    version: 7,
    name: 'API keys and the append-only audit log',
    sql: `
      -- API keys: the secret is never stored, only HMAC-SHA256(pepper, id, secret); the pepper lives outside the DB.
      CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        scopes     TEXT NOT NULL,          -- comma-separated: read,operate,admin
        hash       TEXT NOT NULL,          -- base64url
        created    INTEGER NOT NULL,
        not_before INTEGER NOT NULL,
        expires    INTEGER,                -- NULL: never
        revoked    INTEGER,
        last_used  INTEGER
      );
      -- Who did what to what, and how it ended. Append-only: rows can be neither changed nor deleted, and each row's
      -- hash chains it to the previous one under a key kept outside the database.
      CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,
        principal TEXT NOT NULL,
        key_id    TEXT NOT NULL,
        action    TEXT NOT NULL,
        target    TEXT NOT NULL,
        outcome   TEXT NOT NULL,
        detail    TEXT NOT NULL,
        hash      TEXT NOT NULL
      );
      CREATE INDEX audit_by_time ON audit (at);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only: rows cannot be changed'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only: rows cannot be deleted'); END;
    `,
  },
  {
    version: 8,
    name: 'a rig\'s last seen time and seq come from its miners\' latest status',
    sql: `
      -- rigs.last_seen and last_seq repeated what miner_status holds, and ingest rewrote every rig's row on every
      -- batch to keep them current. They are now read from miner_status (newest seq per miner) through this view, and
      -- ingest writes a rigs row only when a rig is new or reports from another agent.
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
      -- The controller's own verdict (online, stale, offline, miner-unreachable) with its reason, written on each
      -- transition by the liveness sweep; rigs.online then holds whether the rig is reporting (online or
      -- miner-unreachable), no longer only what the agent's retained state claimed. rigs_seen (r.*) shows them too.
      ALTER TABLE rigs ADD COLUMN liveness TEXT NOT NULL DEFAULT '';
      ALTER TABLE rigs ADD COLUMN liveness_reason TEXT NOT NULL DEFAULT '';
      ALTER TABLE rigs ADD COLUMN liveness_message TEXT NOT NULL DEFAULT '';
      ALTER TABLE rigs ADD COLUMN liveness_since INTEGER;
      -- A command recorded FAILED or TIMED_OUT whose effect the miner showed afterwards (uptime reset after it was
      -- sent): 'succeeded-observed', when, and what was seen. The state column keeps what the agent reported.
      ALTER TABLE commands ADD COLUMN observed_outcome TEXT NOT NULL DEFAULT '';
      ALTER TABLE commands ADD COLUMN observed_at INTEGER;
      ALTER TABLE commands ADD COLUMN observed_note TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 10,
    name: 'a policy decision\'s parameters with its event',
    sql: `
      -- The decision's parameters as JSON (switch-pool: the pool left, fromUrl; apply-profile: the direction), so the
      -- policy history rebuilt after a restart keeps what the command payload does not carry: without the pool a
      -- switch left, a fail-back's stability window restarted from nothing. '' for events before v10 and non-policy events.
      ALTER TABLE events ADD COLUMN params TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 11,
    name: 'shard leases of controllers sharing one database',
    sql: `
      -- Controllers sharing a PostgreSQL database (--replica-id) split the rigs by shard (ownership/rig-shard.policy.ts):
      -- one row per shard with its owner, the epoch it was taken under (the fencing token in each command envelope) and
      -- when the lease lapses (epoch ms). SQLite has one controller, which owns every rig: the tables stay empty of
      -- owners, kept so that both schemas have the same versions.
      CREATE TABLE shard_leases (
        shard      INTEGER PRIMARY KEY,
        owner      TEXT,
        epoch      INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL DEFAULT 0
      );
      WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 63) INSERT INTO shard_leases (shard) SELECT n FROM s;
      -- Controllers seen lately: the live ones split the shards evenly.
      CREATE TABLE replicas (
        replica_id TEXT PRIMARY KEY,
        seen_at    INTEGER NOT NULL
      );
    `,
  },
  {
    version: 12,
    name: 'the controller and lease epoch that last sent each command',
    sql: `
      -- Which controller (--replica-id, '' for a controller alone) sent the command's last attempt, under which lease
      -- epoch (0 without leases): with several controllers, each decision's command shows that one of them acted.
      ALTER TABLE commands ADD COLUMN sent_by TEXT NOT NULL DEFAULT '';
      ALTER TABLE commands ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 13,
    name: 'one row per command result',
    sql: `
      -- A result heard twice (the agent sending it again, or every controller of a shared group storing it: results
      -- are not split between them) is one row: the earliest received is kept.
      DELETE FROM command_results WHERE id NOT IN (
        SELECT MIN(id) FROM command_results GROUP BY command_id, outcome, COALESCE(finished_at, -1)
      );
      CREATE UNIQUE INDEX command_results_once ON command_results (command_id, outcome, COALESCE(finished_at, -1));
    `,
  },
];

export async function migrate(db: SqliteDatabase): Promise<number> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  const current = Math.max(0, ...applied);
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (current > latest) {
    throw new Error(`database schema is version ${current} but this controller knows up to ${latest}: upgrade the controller or restore a matching backup`);
  }
  // Every migration not applied yet, in order; also one numbered below the newest applied (migrations developed in
  // parallel land in any order, and a database made in between must still get the one that arrived late).
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    await db.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
    });
  }
  return latest;
}
