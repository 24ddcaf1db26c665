#!/usr/bin/env node
// Durable ingest rate: snapshots/s committed to SQLite by the built controller (after one warm-up snapshot per rig), from a publisher through a real
// Mosquitto, beside the broker's raw QoS 1 delivery rate to an MQTT.js subscriber measured in the same run. Each round
// measures, one after another, three consumers in processes of their own with the same publisher: the stock MQTT.js
// subscriber (raw), the controller, and the floor consumer (bench/ingest-floor.consumer.mjs: parse and append only),
// then the raw rate once more with the subscriber inside the publisher's process, as earlier rounds measured it.
// Each process's CPU time per message is read from /proc, a steadier measure than rates on shared cores.
// The bench starts its own Mosquitto with deploy/mosquitto.conf's queue settings on a free port (MQTT_URL to use another).
//   npm run bench -- ingest [--messages 50000] [--rigs 1000] [--rounds 5] [--database postgres://...]
// --database: the controller stores into PostgreSQL (--database, a schema of its own per round, dropped after it)
// instead of SQLite; the floor consumer (SQLite only) is left out, and the CPU of the server's processes
// (every process named postgres on this host) is read beside the others. synchronous_commit is the server's own.
// --fleet gives the controller a fleet spec whose group holds every bench rig, so that each reconcile also runs the
// policies (without it no rig has a spec: ingest alone is measured, as the goal asks).
// BENCH_CONTROLLER_ENTRY=<file.js> runs another build of the controller (A/B comparisons); CONTROLLER_NODE_FLAGS adds Node flags.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import sqlite3 from 'sqlite3';
import pg from 'pg';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const messages = arg('messages', 50_000);
const rigs = arg('rigs', 1000);
const databaseUrl = (() => { const i = process.argv.indexOf('--database'); return i >= 0 ? process.argv[i + 1] : undefined; })();
if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error(`--database: expected postgres://..., got ${databaseUrl}`);
const admin = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 2 }) : undefined;
const serverSettings = admin ? Object.fromEntries((await admin.query(
  "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_level', 'shared_buffers', 'server_version')")).rows.map((r) => [r.name, r.setting])) : undefined;
let url = process.env.MQTT_URL;
let broker;
if (!url) {
  const port = await new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const conf = join(mkdtempSync(join(tmpdir(), 'rigwarden-bench-mq-')), 'mosquitto.conf');
  // The queue settings of the shipped deploy/mosquitto.conf, on a free loopback port without persistence.
  const shipped = readFileSync(join(root, 'deploy/mosquitto.conf'), 'utf8').split('\n').filter((l) => /^(max_queued_|max_inflight_|set_tcp_nodelay)/.test(l));
  writeFileSync(conf, [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...shipped, ''].join('\n'));
  broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    try { await (await mqtt.connectAsync(url, { reconnectPeriod: 0 })).endAsync(); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
}
if (!existsSync(join(root, 'dist/controller/main.js'))) throw new Error('run `npm run build` first');

// CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere.
const hz = 100;
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / hz;
  } catch {
    return undefined;
  }
}
/** CPU seconds of a process's main thread and of its other threads (GC helpers, the libuv pool running SQLite); {} elsewhere. */
function threadCpu(pid) {
  const out = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = process.env.BENCH_TIDS ? `${readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()} ${tid - pid}` : tid === String(pid) ? 'main' : 'other threads';
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / hz;
    }
  } catch { /* not Linux, or the process ended */ }
  return out;
}
/** CPU seconds of every process named postgres on this host (the server's backends, WAL writer, checkpointer...). */
function postgresCpu() {
  if (!admin) return undefined;
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) continue;
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / hz;
    } catch { /* the process ended */ }
  }
  return total;
}
const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
/** CPU µs per message of each process between two readings. */
function cpuPerMessage(before, after, count) {
  const out = {};
  for (const k of Object.keys(before)) if (before[k] !== undefined && after[k] !== undefined) out[k] = Math.round(((after[k] - before[k]) / count) * 1e6 * 10) / 10;
  return out;
}

function snapshot(rig, seq) {
  return JSON.stringify({
    rigId: `bench-${rig}`, minerId: `10.0.${rig >> 8}.${rig & 255}:4028`, host: `10.0.${rig >> 8}.${rig & 255}`, port: 4028,
    vendor: 'antminer', model: 'Antminer S19 Pro', firmware: 'bmminer 1.0.0', uptimeS: 86400 + seq,
    hashrate5sHs: 110e12 + seq, hashrateAvgHs: 109e12, accepted: 1000 + seq, rejected: 3, stale: 1, hwErrors: 12,
    boards: [0, 1, 2].map((i) => ({ index: i, hashrateHs: 36.6e12, boardTempC: 60 + i, chipTempC: 75 + i, chips: 76, hwErrors: 4, status: 'BOARD_STATUS_OK' })),
    fans: [1, 2, 3, 4].map((i) => ({ index: i, rpm: 5400 + i })),
    pools: [0, 1].map((i) => ({ index: i, url: `stratum+tcp://pool-${i}.example:3333`, user: 'farm.worker', status: 'POOL_STATUS_ALIVE', priority: i, active: i === 0, accepted: 1000 })),
    collectedAt: new Date().toISOString(), seq, agentId: 'bench-agent', driver: 'antminer',
  });
}

async function publishAll(client, topicRoot, total = messages, firstSeq = 1) {
  const window = 1000;
  let inflight = 0;
  let sent = 0;
  await new Promise((resolve, reject) => {
    const next = () => {
      while (inflight < window && sent < total) {
        const i = sent++;
        const rig = i % rigs;
        const seq = Math.floor(i / rigs) + firstSeq;
        inflight++;
        client.publish(`${topicRoot}/rigs/bench-${rig}/telemetry`, snapshot(rig, seq), { qos: 1 }, (err) => {
          if (err) return reject(err);
          inflight--;
          if (sent === total && inflight === 0) resolve();
          else next();
        });
      }
    };
    next();
  });
}

/**
 * The raw QoS 1 delivery rate to a stock MQTT.js subscriber in a process of its own (bench/ingest-raw.subscriber.mjs),
 * the same topology as the controller's run: publisher, broker and consumer are three processes.
 */
async function rawRate() {
  const topicRoot = `bench-raw-${randomBytes(4).toString('hex')}/v1`;
  const dir = mkdtempSync(join(tmpdir(), 'rigwarden-bench-raw-'));
  const ready = join(dir, 'ready.json');
  const sub = spawn(process.execPath, [join(root, 'bench/ingest-raw.subscriber.mjs'), url, topicRoot, String(messages), ready], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  sub.stdout.on('data', (d) => { out += d; });
  const finished = new Promise((resolve) => sub.once('exit', () => resolve(performance.now())));
  try {
    for (let i = 0; i < 300 && !existsSync(ready); i++) {
      if (sub.exitCode !== null) throw new Error(`the raw subscriber exited with code ${sub.exitCode} before it subscribed`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const pub = await mqtt.connectAsync(url, { clientId: `bench-pub-${topicRoot}` });
    const reading = () => ({ bench: selfCpu(), broker: broker && cpuSeconds(broker.pid), controller: cpuSeconds(sub.pid) });
    const cpu0 = reading();
    let cpu1 = cpu0;
    // The subscriber's CPU is read while it runs: every 20 ms, the last reading before it exits counts.
    const sampler = setInterval(() => { const r = reading(); if (r.controller !== undefined) cpu1 = r; }, 20);
    const t0 = performance.now();
    await publishAll(pub, topicRoot);
    const published = performance.now() - t0;
    // A broker that drops messages must not hang the bench: stop the subscriber well after publishing ended.
    const stall = setTimeout(() => sub.kill('SIGTERM'), Math.max(30_000, 5 * published));
    const end = await finished;
    clearTimeout(stall);
    clearInterval(sampler);
    await pub.endAsync();
    const received = JSON.parse(out.trim().split('\n').pop() || '{"received":0}').received;
    if (received < messages) console.error(`raw: the broker delivered ${received} of ${messages} messages (it drops QoS 1 messages for slow subscribers: raise max_queued_messages)`);
    return { rate: received / ((end - t0) / 1000), cpu: cpuPerMessage(cpu0, cpu1, received) };
  } finally {
    if (sub.exitCode === null) sub.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same with the subscriber in the publisher's process (one event loop for both), as the earlier rounds of docs/benchmarks.md
 * measured it: kept for comparison with those.
 */
async function rawRateInProcess() {
  const topicRoot = `bench-raw-${randomBytes(4).toString('hex')}/v1`;
  const sub = await mqtt.connectAsync(url, { clientId: `bench-sub-${topicRoot}` });
  await sub.subscribeAsync(`${topicRoot}/rigs/+/telemetry`, { qos: 1 });
  let received = 0;
  let last = performance.now();
  const done = new Promise((resolve) => {
    sub.on('message', () => { last = performance.now(); if (++received === messages) resolve(); });
    // A broker that drops messages must not hang the bench: give up 5 s after the last one.
    const check = setInterval(() => { if (performance.now() - last > 5000) { clearInterval(check); resolve(); } }, 500);
    sub.once('close', () => clearInterval(check));
  });
  const pub = await mqtt.connectAsync(url, { clientId: `bench-pub-${topicRoot}` });
  const reading = () => ({ bench: selfCpu(), broker: broker && cpuSeconds(broker.pid) });
  const cpu0 = reading();
  const t0 = performance.now();
  await publishAll(pub, topicRoot);
  await done;
  const seconds = ((received === messages ? performance.now() : last) - t0) / 1000;
  const cpu = cpuPerMessage(cpu0, reading(), received);
  await pub.endAsync();
  await sub.endAsync();
  if (received < messages) console.error(`raw: the broker delivered ${received} of ${messages} messages (it drops QoS 1 messages for slow subscribers: raise max_queued_messages)`);
  return { rate: received / seconds, cpu };
}

/** The consumer under test: the built controller, or the floor consumer (bench/ingest-floor.consumer.mjs). */
function startConsumer(kind, dir, topicRoot, ready, database) {
  if (kind === 'floor') {
    return spawn(process.execPath, [join(root, 'bench/ingest-floor.consumer.mjs'), url, topicRoot, join(dir, 'floor.sqlite'), ready], { stdio: 'inherit' });
  }
  const fleet = [];
  if (process.argv.includes('--fleet')) {
    // The pools the bench's snapshots report, in their order: a healthy rig, so the policies decide nothing.
    writeFileSync(join(dir, 'fleet.yaml'), ['groups:', '  - name: bench', '    match: { rigIdPrefix: "bench-" }', '    pools:',
      ...[0, 1].map((i) => `      - { url: "stratum+tcp://pool-${i}.example:3333", user: "farm.worker", password: "x" }`), ''].join('\n'));
    fleet.push('--fleet', join(dir, 'fleet.yaml'));
  }
  return spawn(process.execPath, [...(process.env.CONTROLLER_NODE_FLAGS ?? '').split(' ').filter(Boolean), process.env.BENCH_CONTROLLER_ENTRY ?? join(root, 'bin/rigwarden-controller.js'), '--data-dir', dir, '--grpc', '127.0.0.1:0', '--ready-file', ready, ...fleet, ...(database ? ['--database', database] : [])], {
    env: { ...process.env, MQTT_URL: url, RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `bench-ctl-${topicRoot}`, LOG_LEVEL: 'warn' }, stdio: 'inherit',
  });
}

async function durableRate(kind) {
  const topicRoot = `bench-ingest-${randomBytes(4).toString('hex')}/v1`;
  const dir = mkdtempSync(join(tmpdir(), 'rigwarden-bench-'));
  const ready = join(dir, 'ready.json');
  // PostgreSQL: a schema of its own for this round (fresh ids from 1, as in a new SQLite file), dropped at the end.
  const schema = admin ? `bench_ingest_${randomBytes(4).toString('hex')}` : undefined;
  let database;
  if (schema) {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const u = new URL(databaseUrl);
    u.searchParams.set('options', `-c search_path=${schema}`);
    database = u.toString();
  }
  const controller = startConsumer(kind, dir, topicRoot, ready, database);
  const exited = new Promise((r) => controller.once('exit', r));
  try {
    for (let i = 0; i < 300 && !existsSync(ready); i++) {
      if (controller.exitCode !== null) throw new Error(`the controller exited with code ${controller.exitCode} before it was ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!existsSync(ready)) throw new Error('the controller was not ready within 30 s');
    // Rows are appended with ids 1, 2, ... (no duplicates here), so MAX(id) counts them in O(log n): a COUNT(*)
    // every 20 ms would read the whole index and take CPU from the run it measures. PostgreSQL: a committed row only.
    let db;
    let count;
    if (schema) {
      count = async () => Number((await admin.query(`SELECT COALESCE(MAX(id), 0) AS n FROM ${schema}.snapshots`)).rows[0].n);
    } else {
      const { db: dbPath } = JSON.parse(readFileSync(ready, 'utf8'));
      db = new sqlite3.Database(dbPath, sqlite3.OPEN_READONLY);
      count = () => new Promise((resolve, reject) => db.get('SELECT COALESCE(MAX(id), 0) AS n FROM snapshots', (err, row) => (err ? reject(err) : resolve(row.n))));
    }
    const pub = await mqtt.connectAsync(url, { clientId: `bench-pub-${topicRoot}` });
    // Warm-up: one snapshot per rig, so the controller knows every rig (as in a running farm) before the clock starts.
    await publishAll(pub, topicRoot, rigs, 1);
    for (let t = performance.now(); (await count()) < rigs;) {
      if (performance.now() - t > 60_000) throw new Error('the warm-up snapshots were not stored within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500)); // the reconciler's first read of each rig
    const reading = () => ({ bench: selfCpu(), broker: broker && cpuSeconds(broker.pid), controller: cpuSeconds(controller.pid), postgres: postgresCpu() });
    const cpu0 = reading();
    const threads0 = threadCpu(controller.pid);
    const t0 = performance.now();
    await publishAll(pub, topicRoot, messages, 2);
    if (process.env.BENCH_DEBUG) console.error(`published in ${(performance.now() - t0).toFixed(0)} ms; stored so far ${await count()}`);
    let n = 0;
    while ((n = (await count()) - rigs) < messages) {
      if (performance.now() - t0 > 300_000) throw new Error(`only ${n} of ${messages} stored after 300 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuPerMessage(cpu0, reading(), messages);
    if (process.env.BENCH_DEBUG) console.error(`${kind} CPU µs/message by thread: ${JSON.stringify(cpuPerMessage(threads0, threadCpu(controller.pid), messages))}`);
    await pub.endAsync();
    if (db) await new Promise((r) => db.close(r));
    return { rate: messages / seconds, cpu };
  } finally {
    if (controller.exitCode === null) controller.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if (schema) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

// Raw and durable rates alternate for --rounds rounds (other work on the machine moves both): the ratio of each
// round is what counts, and the median round is reported with the range. Five rounds by default: on a shared 2-core
// machine single rounds of one build range over ±15 %, and the median of 3 still moved 0.62-0.81 between runs.
const rounds = arg('rounds', 5);
const runs = [];
try {
  for (let r = 0; r < rounds; r++) {
    const raw = await rawRate();
    const durable = await durableRate('controller');
    // The floor consumer writes SQLite: no floor for PostgreSQL.
    const floor = admin ? { rate: NaN, cpu: {} } : await durableRate('floor');
    const inProcess = await rawRateInProcess();
    runs.push({
      raw: Math.round(raw.rate), durable: Math.round(durable.rate), floor: Math.round(floor.rate), rawInProcess: Math.round(inProcess.rate),
      ratio: Number((durable.rate / raw.rate).toFixed(2)), floorRatio: Number((floor.rate / raw.rate).toFixed(2)),
      ratioToInProcess: Number((durable.rate / inProcess.rate).toFixed(2)),
      cpuUsPerMessage: { raw: raw.cpu, durable: durable.cpu, floor: floor.cpu, rawInProcess: inProcess.cpu },
    });
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify(runs.at(-1)));
  }
} finally {
  if (broker) { broker.kill('SIGTERM'); await new Promise((r) => broker.once('exit', r)); }
  await admin?.end();
}
const median = [...runs].sort((a, b) => a.ratio - b.ratio)[Math.floor(runs.length / 2)];
const medianOf = (key) => [...runs].map((x) => x[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
const range = (key) => `${Math.min(...runs.map((x) => x[key]))}-${Math.max(...runs.map((x) => x[key]))}`;
const cpuMedian = (phase, proc) => [...runs].map((x) => x.cpuUsPerMessage[phase][proc]).filter((v) => v !== undefined).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
const result = {
  bench: 'ingest', date: new Date().toISOString(), broker: url, messages, rigs, rounds, policies: process.argv.includes('--fleet'),
  store: admin ? 'postgres' : 'sqlite', ...(admin ? { database: databaseUrl.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@'), server: serverSettings } : {}),
  rawQos1PerS: median.raw, durablePerS: median.durable, ratio: median.ratio, goalRatio: 0.8,
  floorPerS: medianOf('floor'), floorRatio: medianOf('floorRatio'),
  rawInProcessPerS: medianOf('rawInProcess'), ratioToInProcess: medianOf('ratioToInProcess'), runs,
};
console.log(JSON.stringify(result));
mkdirSync(join(root, 'bench/results'), { recursive: true });
appendFileSync(join(root, 'bench/results/ingest.jsonl'), `${JSON.stringify(result)}\n`);
const us = (phase, proc) => (cpuMedian(phase, proc) === undefined ? 'n/a' : `${cpuMedian(phase, proc)} µs`);
console.log(`\ningest, ${messages} snapshots from ${rigs} rigs through ${url}, median of ${rounds} rounds (range)`);
console.log(`  raw QoS 1 delivery to an MQTT.js subscriber   ${result.rawQos1PerS} msgs/s (${range('raw')}), a process of its own`);
console.log(`  committed to ${admin ? 'PostgreSQL' : 'SQLite'} by the controller ${admin ? '    ' : '        '}${result.durablePerS} snapshots/s (${range('durable')})`);
console.log(`  ratio                                         ${result.ratio} (${range('ratio')}); goal >= 0.8`);
if (!admin) console.log(`  floor: parse + append only (no validation)    ${result.floorPerS} snapshots/s (${range('floor')}), ratio ${result.floorRatio} (${range('floorRatio')})`);
else console.log(`  server: ${JSON.stringify(serverSettings)}; its processes' CPU per message (median): ${us('durable', 'postgres')}`);
console.log(`  raw with the subscriber in the publisher's process (as earlier rounds): ${result.rawInProcessPerS} msgs/s (${range('rawInProcess')}); controller ratio to it ${result.ratioToInProcess} (${range('ratioToInProcess')})`);
console.log(`  CPU per message (median)   publisher     broker      consumer`);
console.log(`    raw                      ${us('raw', 'bench').padEnd(13)} ${us('raw', 'broker').padEnd(11)} ${us('raw', 'controller')}`);
console.log(`    controller               ${us('durable', 'bench').padEnd(13)} ${us('durable', 'broker').padEnd(11)} ${us('durable', 'controller')}`);
if (!admin) console.log(`    floor                    ${us('floor', 'bench').padEnd(13)} ${us('floor', 'broker').padEnd(11)} ${us('floor', 'controller')}`);
console.log(`    raw, one process         ${us('rawInProcess', 'bench').padEnd(13)} ${us('rawInProcess', 'broker').padEnd(11)} (publisher and subscriber)`);
