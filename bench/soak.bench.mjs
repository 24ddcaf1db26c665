#!/usr/bin/env node
// Soak: nothing lost, nothing run twice, through crashes (issue 16, item 6). Not in the default test suite.
//   npm run bench -- soak [--minutes 30] [--rigs 1000] [--interval-ms 5000] [--command-every-ms 4000] [--chaos-every-s 45] [--seed 1]
//                         [--chaos controller-kill,broker-saved,broker-lost,agent-kill,agent-term]
// Runs the built controller, a Mosquitto with persistence (autosave every 5 min, so a SIGKILL loses its state), the
// simulated farm (rigwarden-simfarm, no faults) and the agent polling every rig, all as real processes on loopback.
// Meanwhile: a restart command every --command-every-ms to a random ASIC rig (rigctl restart --no-wait), and every
// --chaos-every-s one of: kill -9 of the controller, a broker restart with its saved state (SIGTERM), a broker restart
// without it (SIGKILL before its autosave + the file removed), kill -9 of the agent, SIGTERM of the agent.
// Then chaos stops, everything settles, and it counts:
//   collected  snapshots the agent made: the stored ones, the seqs missing inside a run of seqs, and what its outbox
//              still holds at the end (read from disk). An agent restart skips the rest of its reserved block of 1,000
//              seqs (never used, so never collected); a missing seq below a stored one in its block, or the first seq
//              of a block with nothing stored, was collected: lost unless still in the outbox (a lower bound).
//   stored     distinct (rig, seq) rows in the controller's SQLite
//   commandsIssued / commandsRun / commandsRunTwice / commandsNotRun / commandsSucceededNotRun: restart commands the
//              controller accepted, against the restarts each simulated miner counted (nothing else restarts them: no
//              faults, no fleet spec) and the final state the controller gives each (FAILED: the miner refused it)
// Prints a table and one JSON line, appended to bench/results/soak.jsonl. Goal: collected == stored, commandsRunTwice 0.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('minutes', 30);
const rigs = arg('rigs', 1000);
const intervalMs = arg('interval-ms', 5000);
const commandEveryMs = arg('command-every-ms', 4000);
const chaosEveryS = arg('chaos-every-s', 45);
let seed = arg('seed', 1);
const chaosKinds = ['controller-kill', 'broker-saved', 'broker-lost', 'agent-kill', 'agent-term'];
const chaosArg = process.argv.indexOf('--chaos');
const chaosAllowed = chaosArg >= 0 ? process.argv[chaosArg + 1].split(',') : chaosKinds;
for (const kind of chaosAllowed) if (!chaosKinds.includes(kind)) throw new Error(`--chaos: unknown kind "${kind}"; known: ${chaosKinds.join(', ')}`);
const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
if (!existsSync(join(root, 'dist/controller/main.js'))) throw new Error('run `npm run build` first');

const dir = mkdtempSync(join(tmpdir(), 'rigwarden-soak-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...a);
const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
async function waitFile(file, what, ms = 60_000, child = undefined) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${child.tail()}`);
    if (existsSync(file)) { try { return JSON.parse(readFileSync(file, 'utf8')); } catch { /* half written */ } }
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${ms} ms${child ? `: ${child.tail()}` : ''}`);
}
const children = new Set();
mkdirSync(join(dir, 'logs'));
function launch(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  // Every child's stderr, kept in <dir>/logs/<name>.log (the dir is kept when the goal is missed).
  child.stderr.on('data', (d) => { tail = (tail + d.toString()).slice(-4000); appendFileSync(join(dir, 'logs', `${name}.log`), d); });
  child.tail = () => tail;
  child.name = name;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
const exited = (child) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));
async function stop(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited(child);
  clearTimeout(t);
}

// --- Mosquitto with persistence -------------------------------------------------------------------------------
const mqPort = await freePort();
const mqDir = join(dir, 'mosquitto');
mkdirSync(mqDir);
const shipped = readFileSync(join(root, 'deploy/mosquitto.conf'), 'utf8').split('\n').filter((l) => /^(max_queued_|max_inflight_|set_tcp_nodelay)/.test(l));
writeFileSync(join(mqDir, 'mosquitto.conf'), [`user ${userInfo().username}`, `listener ${mqPort} 127.0.0.1`, 'allow_anonymous true',
  'persistence true', `persistence_location ${mqDir}/`, 'autosave_interval 300', ...shipped, ''].join('\n'));
let broker;
async function startBroker() {
  broker = launch('mosquitto', 'mosquitto', ['-c', join(mqDir, 'mosquitto.conf')]);
  for (let i = 0; i < 100; i++) {
    const open = await new Promise((resolve) => { const s = createServer(); s.once('error', () => resolve(true)); s.listen(mqPort, '127.0.0.1', () => s.close(() => resolve(false))); });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`mosquitto did not listen on ${mqPort}: ${broker.tail()}`);
}
await startBroker();
const mqttUrl = `mqtt://127.0.0.1:${mqPort}`;

// --- keys, farm, controller, agent -----------------------------------------------------------------------------
const keysFile = join(dir, 'keys.json');
writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(Array.from({ length: Math.max(rigs, 1000) + 10 }, (_, i) => [`sim-${String(i + 1).padStart(3, '0')}`, [{ id: 'soak-1', secret: randomBytes(32).toString('base64url') }]])) }), { mode: 0o600 });
const agentConfig = join(dir, 'agent.yaml');
const farmReady = join(dir, 'farm.ready.json');
const farm = launch('simfarm', process.execPath, [join(root, 'bin/rigwarden-simfarm.js'), '--rigs', String(rigs), '--agent-config', agentConfig,
  '--agent-data-dir', join(dir, 'agent'), '--ready-file', farmReady, '--keys-file', keysFile, '--no-faults', '--interval-ms', String(intervalMs),
  '--mqtt-url', mqttUrl, '--agent-id', 'soak-agent']);
const farmInfo = await waitFile(farmReady, 'the simulated farm', 180_000);
log(`farm of ${rigs} rigs ready`);

const controllerDir = join(dir, 'controller');
const controllerReady = join(dir, 'controller.ready.json');
let controller;
let grpc;
async function startController() {
  rmSync(controllerReady, { force: true });
  controller = launch('controller', process.execPath, [join(root, 'bin/rigwarden-controller.js'), '--data-dir', controllerDir, '--grpc', '127.0.0.1:0',
    '--http', '127.0.0.1:0', '--ready-file', controllerReady, '--keys-file', keysFile],
  { MQTT_URL: mqttUrl, RIGWARDEN_CONTROLLER_ID: 'soak-controller', LOG_LEVEL: 'warn' });
  // A restart after kill -9 takes over the broker's backlog first; on 2 busy cores that can take a while.
  grpc = (await waitFile(controllerReady, 'the controller', 180_000, controller)).grpc;
}
await startController();
let agent;
const startAgent = () => { agent = launch('agent', process.execPath, [join(root, 'bin/rigwarden-agent.js'), '--config', agentConfig], { MQTT_URL: mqttUrl, LOG_LEVEL: 'warn' }); };
startAgent();

async function farmState() {
  const res = await fetch(`${farmInfo.control}/state`);
  return res.json();
}
const asicRigs = (await farmState()).rigs.filter((r) => r.kind === 'asic').map((r) => r.id);

// --- load: commands; chaos ------------------------------------------------------------------------------------
const issued = new Map(); // command id -> rig
const issuedPerRig = new Map();
let commandErrors = 0;
const chaos = { controllerKills: 0, brokerRestartsSaved: 0, brokerRestartsLost: 0, agentKills: 0, agentRestarts: 0 };
const endAt = Date.now() + minutes * 60_000;
let running = true;
/** While chaos restarts something, the health check below does not count its exit as a crash. */
let busy = false;
// A crash of the bench itself must not leave its processes behind.
const killAll = () => { for (const c of children) c.kill('SIGKILL'); };
process.on('exit', killAll);
process.on('SIGINT', () => process.exit(130));
process.on('uncaughtException', (err) => { console.error(err); process.exit(1); });
process.on('unhandledRejection', (err) => { console.error(err); process.exit(1); });

const commands = (async () => {
  while (running) {
    await sleep(commandEveryMs);
    if (!running) break;
    const rig = asicRigs[Math.floor(random() * asicRigs.length)];
    const r = spawnSync(process.execPath, [join(root, 'bin/rigctl.js'), '--server', grpc, '--timeout', '5000', 'restart', rig, '--no-wait', '--json'],
      { env: { ...process.env, RIGWARDEN_API_KEY_FILE: join(controllerDir, 'admin.token') }, encoding: 'utf8', timeout: 15_000 });
    try {
      const status = JSON.parse(r.stdout);
      const id = status.commandId ?? status.id;
      if (!id) throw new Error('no command id');
      issued.set(id, rig);
      issuedPerRig.set(rig, (issuedPerRig.get(rig) ?? 0) + 1);
    } catch {
      commandErrors++; // the controller was down: not issued
    }
  }
})();

const chaosLoop = (async () => {
  while (running) {
    await sleep(chaosEveryS * 1000 * (0.5 + random()));
    if (!running) break;
    const pick = chaosKinds.indexOf(chaosAllowed[Math.floor(random() * chaosAllowed.length)]);
    busy = true;
    if (pick === 0) {
      log('kill -9 controller'); chaos.controllerKills++;
      await stop(controller, 'SIGKILL'); await sleep(500 + random() * 2000); await startController();
    } else if (pick === 1) {
      log('broker restart, state saved'); chaos.brokerRestartsSaved++;
      await stop(broker, 'SIGTERM'); await sleep(500 + random() * 2000); await startBroker();
    } else if (pick === 2) {
      log('broker restart, state lost'); chaos.brokerRestartsLost++;
      await stop(broker, 'SIGKILL'); rmSync(join(mqDir, 'mosquitto.db'), { force: true }); await sleep(500 + random() * 2000); await startBroker();
    } else if (pick === 3) {
      log('kill -9 agent'); chaos.agentKills++;
      await stop(agent, 'SIGKILL'); await sleep(500 + random() * 2000); startAgent();
    } else {
      log('agent restart'); chaos.agentRestarts++;
      await stop(agent, 'SIGTERM'); await sleep(500 + random() * 2000); startAgent();
    }
    busy = false;
  }
})();

const countStored = () => new Promise((resolve, reject) => {
  const db = new sqlite3.Database(join(controllerDir, 'rigwarden.db'), sqlite3.OPEN_READONLY, (err) => {
    if (err) { reject(err); return; }
    db.get('SELECT COUNT(*) AS n FROM snapshots', (e, row) => { db.close(); if (e) reject(e); else resolve(row.n); });
  });
});
/** Segment files left in the agent's outbox, at about 1 MB (some 900 snapshots) each. */
const outboxDepth = () => { try { return readdirSync(join(dir, 'agent', 'outbox')).filter((n) => n.startsWith('seg-')).length * 900; } catch { return 0; } };
let lastProgressLog = Date.now();
while (Date.now() < endAt) {
  await sleep(5000);
  if (Date.now() - lastProgressLog >= 30_000) {
    lastProgressLog = Date.now();
    const n = await countStored().catch(() => undefined);
    const depth = outboxDepth();
    log(`progress: ${n ?? '?'} snapshots stored, about ${depth} messages in the agent's outbox`);
  }
  if (busy) continue;
  for (const [name, child] of [['controller', controller], ['agent', agent], ['mosquitto', broker], ['simfarm', farm]]) {
    if (child.exitCode !== null && child.signalCode === null) throw new Error(`${name} exited with ${child.exitCode}: ${child.tail()}`);
  }
}
running = false;
await commands;
await chaosLoop;
log('chaos over; letting everything settle');

// --- settle and count -----------------------------------------------------------------------------------------
const dbFile = join(controllerDir, 'rigwarden.db');
function query(sql) {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(dbFile, sqlite3.OPEN_READONLY, (err) => {
      if (err) { reject(err); return; }
      db.all(sql, (e, rows) => { db.close(); if (e) reject(e); else resolve(rows); });
    });
  });
}
// The agent keeps polling and confirming for a while, then stops; what its outbox still holds is read from disk:
// collected, queued, not lost (it would be sent at its next start).
await sleep(Math.max(30_000, intervalMs * 4));
await stop(agent, 'SIGTERM');
let last = -1;
for (let i = 0; i < 60; i++) {
  const [{ n }] = await query('SELECT COUNT(*) AS n FROM snapshots');
  if (n === last) break;
  last = n;
  await sleep(3000);
}
const queued = new Set();
{
  const outbox = join(dir, 'agent', 'outbox');
  const cursor = existsSync(join(outbox, 'cursor.json')) ? JSON.parse(readFileSync(join(outbox, 'cursor.json'), 'utf8')) : { segment: 0, line: 0 };
  for (const name of existsSync(outbox) ? readdirSync(outbox).sort() : []) {
    const m = /^seg-(\d{12})\.jsonl$/.exec(name);
    if (!m || Number(m[1]) < cursor.segment) continue;
    const lines = readFileSync(join(outbox, name), 'utf8').split('\n').filter(Boolean);
    for (const line of Number(m[1]) === cursor.segment ? lines.slice(cursor.line) : lines) {
      try { const { key } = JSON.parse(line); if (key?.startsWith('t\u0000')) queued.add(key.slice(2).replace('\u0000', '/')); } catch { /* corrupt line: counted by the agent */ }
    }
  }
}
const rows = await query('SELECT rig_id, seq FROM snapshots ORDER BY rig_id, seq');
let stored = 0;
let lost = 0;
let blockSkips = 0;
let queuedNotStored = 0;
const storedKeys = new Set();
let previous = { rig: '', seq: 0 };
for (const { rig_id: rig, seq } of rows) {
  if (rig === previous.rig && seq === previous.seq) continue;
  stored++;
  storedKeys.add(`${rig}/${seq}`);
  if (rig === previous.rig && seq > previous.seq + 1) {
    // Seqs are reserved in blocks of 1,000 that start on multiples of 1,000; an agent restart skips the rest of its
    // block. Missing seqs in the block of `seq` below it were taken by the same run, so collected: lost unless still
    // queued. Each whole block in between was reserved by a run that took at least its first seq: one lost at least.
    const lastBlock = Math.floor(seq / 1000) * 1000;
    const firstBlock = Math.floor(previous.seq / 1000) * 1000 + 1000;
    if (lastBlock <= previous.seq) {
      for (let missing = previous.seq + 1; missing < seq; missing++) if (!queued.has(`${rig}/${missing}`)) lost++;
    } else {
      blockSkips++;
      for (let missing = lastBlock; missing < seq; missing++) if (!queued.has(`${rig}/${missing}`)) lost++;
      for (let block = firstBlock; block < lastBlock; block += 1000) if (!queued.has(`${rig}/${block}`)) lost++;
    }
  }
  previous = { rig, seq };
}
for (const key of queued) if (!storedKeys.has(key)) queuedNotStored++;
// The agent's outbox counts what it dropped (full, expired, corrupt) with its cursor, across kills: those were collected
// and lost, whether a seq gap shows them or not (a whole run's block never stored leaves no gap).
let outboxDropped = 0;
try {
  const { dropped = {} } = JSON.parse(readFileSync(join(dir, 'agent', 'outbox', 'cursor.json'), 'utf8'));
  outboxDropped = (dropped.droppedFull ?? 0) + (dropped.droppedExpired ?? 0) + (dropped.droppedCorrupt ?? 0);
} catch { /* no cursor: nothing dropped */ }
const seqGapLost = lost;
lost = Math.max(lost, outboxDropped);
const restarts = new Map((await farmState()).rigs.filter((r) => r.kind === 'asic').map((r) => [r.id, r.restarts]));
// Each issued command's final state in the controller, and per rig how many it says succeeded against how many
// restarts the miner counted. A miner that refuses restarts (stock Antminer: Code 45) ends FAILED: not run, as said.
const restartRows = await query("SELECT id, rig_id, state, attempts, created_at, sent_at, finished_at, cause FROM commands WHERE type LIKE '%restart%'");
const stateOf = new Map(restartRows.map((r) => [r.id, r.state]));
// A request whose reply rigctl never got (its 5 s deadline passed while the controller was busy) may still have been
// accepted: what was issued is what the controller's commands table holds, not what rigctl answered.
let acceptedUnanswered = 0;
for (const r of restartRows) {
  if (issued.has(r.id)) continue;
  issued.set(r.id, r.rig_id);
  issuedPerRig.set(r.rig_id, (issuedPerRig.get(r.rig_id) ?? 0) + 1);
  acceptedUnanswered++;
}
const succeededPerRig = new Map();
const commandStates = {};
for (const [id, rig] of issued) {
  const state = stateOf.get(id) ?? 'MISSING';
  commandStates[state] = (commandStates[state] ?? 0) + 1;
  if (state === 'SUCCEEDED') succeededPerRig.set(rig, (succeededPerRig.get(rig) ?? 0) + 1);
}
let commandsRun = 0;
let commandsRunTwice = 0;
let commandsSucceededNotRun = 0;
// Run twice: a rig restarted more often than it was asked. A command can have run although the controller gave up
// on its result (TIMED_OUT), so what ran is held against what was issued, and SUCCEEDED against what ran.
for (const rig of new Set([...issuedPerRig.keys()])) {
  const ran = restarts.get(rig) ?? 0;
  const asked = issuedPerRig.get(rig) ?? 0;
  const succeeded = succeededPerRig.get(rig) ?? 0;
  commandsRun += Math.min(ran, asked);
  if (ran > asked) {
    commandsRunTwice += ran - asked;
    // The evidence, to explain it: what the controller holds for that rig, and what the agent's journal says it ran.
    const journal = existsSync(join(dir, 'agent', 'commands.journal')) ? readFileSync(join(dir, 'agent', 'commands.journal'), 'utf8') : '';
    log(`rig ${rig} restarted ${ran} times, asked ${asked}:`, JSON.stringify(restartRows.filter((r) => r.rig_id === rig)),
      '\n  events:', JSON.stringify(await query(`SELECT * FROM events WHERE rig_id = '${rig.replace(/'/g, "''")}' ORDER BY rowid`).catch((e) => String(e))),
      '\n  journal:', journal.split('\n').filter((l) => restartRows.some((r) => r.rig_id === rig && l.includes(r.id))).join('\n  '));
  }
  if (ran < succeeded) commandsSucceededNotRun += succeeded - ran;
}
const commandsNotRun = issued.size - commandsRun;
const states = Object.entries(commandStates).map(([state, n]) => ({ state, n }));

await Promise.all([...children].map((c) => stop(c, 'SIGTERM')));
if (commandsRunTwice > 0 || lost > 0) log(`kept ${dir} for a look`);
else rmSync(dir, { recursive: true, force: true });

const result = {
  bench: 'soak', date: new Date().toISOString(), node: process.version, minutes, rigs, intervalMs,
  collected: stored + lost + queuedNotStored, stored, lost, seqGapLost, agentOutboxDropped: outboxDropped, queuedInAgentOutbox: queuedNotStored, agentRestartSeqSkips: blockSkips,
  commandsIssued: issued.size, commandsRun, commandsRunTwice, commandsNotRun, commandsSucceededNotRun, commandRequestsRefused: commandErrors - acceptedUnanswered, commandsAcceptedUnanswered: acceptedUnanswered,
  commandStates: Object.fromEntries(states.map((s) => [s.state, s.n])), chaos,
  goal: { lost: 0, commandsRunTwice: 0, commandsSucceededNotRun: 0 },
};
console.log(`soak: ${minutes} min, ${rigs} rigs polled every ${intervalMs} ms`);
console.log(`  snapshots  collected ${result.collected}  stored ${stored}  lost ${lost}  still queued in the agent's outbox ${queuedNotStored}`);
console.log(`  commands   issued ${issued.size}  run ${commandsRun}  run twice ${commandsRunTwice}  not run ${commandsNotRun} (of which reported SUCCEEDED: ${commandsSucceededNotRun})  states ${JSON.stringify(result.commandStates)}`);
console.log(`  chaos      ${JSON.stringify(chaos)}`);
console.log(JSON.stringify(result));
mkdirSync(join(root, 'bench/results'), { recursive: true });
appendFileSync(join(root, 'bench/results/soak.jsonl'), JSON.stringify(result) + '\n');
process.exit(0);
