#!/usr/bin/env node
// The floor of durable ingest on this machine: the least work any MQTT-to-SQLite consumer must do per telemetry
// message, with the same client library, broker session, SQLite settings and snapshots table as the controller:
// receive at QoS 1 (MQTT.js; acknowledgements of a burst in one write, as the controller does), JSON.parse the payload, and append it with its key columns to SQLite in
// group-committed 250-row prepared INSERTs. No validation, no duplicate check of its own, no latest status, no
// reconcile. The ingest bench runs it beside the controller, so its rate bounds what the controller can reach here.
//   node bench/ingest-floor.consumer.mjs <mqtt-url> <topic-root> <sqlite-file> <ready-file>
import { writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import sqlite3 from 'sqlite3';

const [url, topicRoot, dbPath, readyFile] = process.argv.slice(2);
if (!readyFile) {
  console.error('usage: ingest-floor.consumer.mjs <mqtt-url> <topic-root> <sqlite-file> <ready-file>');
  process.exit(2);
}
const ROWS = 250;
const COLUMNS = 7;
const db = new sqlite3.Database(dbPath);
const exec = (sql) => new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
await exec(`PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 4000;
  CREATE TABLE snapshots (id INTEGER PRIMARY KEY, rig_id TEXT NOT NULL, seq INTEGER NOT NULL, miner_id TEXT NOT NULL,
    collected_at INTEGER NOT NULL, hashrate_hs REAL, max_temp_c REAL, snapshot TEXT NOT NULL);
  CREATE UNIQUE INDEX snapshots_by_rig_seq ON snapshots (rig_id, seq);
  CREATE INDEX snapshots_by_time ON snapshots (collected_at);`);
const values = (rows) => Array(rows).fill('(?, ?, ?, ?, ?, ?, CAST(? AS TEXT))').join(', ');
const insertSql = (rows) => `INSERT INTO snapshots (rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot) VALUES ${values(rows)} ON CONFLICT (rig_id, seq) DO NOTHING`;
const full = db.prepare(insertSql(ROWS));

let pending = [];
let writing = false;
let chain = Promise.resolve();
const run = (stmtOrSql, params) => new Promise((resolve, reject) => {
  const cb = (err) => (err ? reject(err) : resolve());
  if (typeof stmtOrSql === 'string') db.run(stmtOrSql, params, cb);
  else stmtOrSql.run(params, cb);
});
function write() {
  const params = pending;
  pending = [];
  writing = true;
  chain = chain.then(async () => {
    await exec('BEGIN IMMEDIATE');
    const parts = [];
    for (let i = 0; i < params.length; i += ROWS * COLUMNS) {
      const part = params.slice(i, i + ROWS * COLUMNS);
      parts.push(part.length === ROWS * COLUMNS ? run(full, part) : run(insertSql(part.length / COLUMNS), part));
    }
    await Promise.all(parts);
    await exec('COMMIT');
  }).finally(() => {
    writing = false;
    if (pending.length > 0) write();
  });
}

const client = mqtt.connect(url, { clientId: `floor-${topicRoot}`, clean: false, protocolVersion: 4, reconnectPeriod: 1000 });
let acksHeld = false;
client.on('message', (_topic, payload) => {
  if (!acksHeld && client.stream) {
    const stream = client.stream;
    acksHeld = true;
    stream.cork();
    setImmediate(() => { acksHeld = false; stream.uncork(); });
  }
  const s = JSON.parse(payload.toString('utf8'));
  let maxTemp = null;
  for (const b of s.boards ?? []) for (const t of [b.boardTempC, b.chipTempC]) if (typeof t === 'number' && (maxTemp === null || t > maxTemp)) maxTemp = t;
  pending.push(s.rigId, s.seq, s.minerId, Date.parse(s.collectedAt), s.hashrate5sHs ?? s.hashrateAvgHs ?? null, maxTemp, payload);
  if (pending.length >= 2000 * COLUMNS) { if (!writing) write(); } else if (!writing) setImmediate(() => { if (!writing && pending.length > 0) write(); });
});
await client.subscribeAsync(`${topicRoot}/rigs/+/telemetry`, { qos: 1 });
writeFileSync(readyFile, JSON.stringify({ db: dbPath }));
const stop = () => client.endAsync().then(() => chain).then(() => db.close(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
