#!/usr/bin/env node
// Fault telemetry to signed command: 10,000 simulated rigs report through the broker to the built controller (with a
// fleet spec and command keys); a sample of them reports its active pool dead while the rest keep reporting; the time
// from publishing the fault snapshot to the controller's signed SwitchPool arriving on that rig's commands topic.
// Broker: MQTT_URL, else Mosquitto on 127.0.0.1:1883 if it answers, else the controller's embedded aedes.
//   npm run bench -- failover [--rigs 10000] [--interval-ms 10000] [--faults 200] [--fault-window-ms 20000] [--embedded]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rigs = arg('rigs', 10_000);
const intervalMs = arg('interval-ms', 10_000);
const faults = Math.min(arg('faults', 200), rigs);
const faultWindowMs = arg('fault-window-ms', 20_000);
const publishers = 4;
if (!existsSync(join(root, 'dist/controller/main.js'))) throw new Error('run `npm run build` first');

const POOLS = ['stratum+tcp://primary.bench.example:3333', 'stratum+tcp://backup.bench.example:3333'];
const rigId = (i) => `fo-${String(i).padStart(5, '0')}`;

async function reachable(url) {
  try {
    await (await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 })).endAsync();
    return true;
  } catch {
    return false;
  }
}

const forceEmbedded = process.argv.includes('--embedded');
let brokerUrl = forceEmbedded ? undefined : process.env.MQTT_URL || undefined;
let brokerKind = brokerUrl ? `MQTT_URL ${brokerUrl}` : '';
if (!brokerUrl && !forceEmbedded && (await reachable('mqtt://127.0.0.1:1883'))) {
  brokerUrl = 'mqtt://127.0.0.1:1883';
  brokerKind = 'Mosquitto on 127.0.0.1:1883';
}

const topicRoot = `bench-failover-${randomBytes(4).toString('hex')}/v1`;
const dir = mkdtempSync(join(tmpdir(), 'rigwarden-bench-failover-'));
const keysFile = join(dir, 'keys.json');
const faulty = new Set();
while (faulty.size < faults) faulty.add(Math.floor(Math.random() * rigs));
// Keys only for the rigs that will need a command (the controller signs per rig).
writeFileSync(keysFile, JSON.stringify({
  rigs: Object.fromEntries([...faulty].map((i) => [rigId(i), [{ id: 'bench-k1', secret: randomBytes(32).toString('base64url') }]])),
}));
const fleetFile = join(dir, 'fleet.yaml');
writeFileSync(fleetFile, ['groups:', '  - name: bench', '    match: { rigIdPrefix: "fo-" }', '    pools:',
  ...POOLS.map((url) => `      - { url: "${url}", user: "farm.worker", password: "x" }`), ''].join('\n'));

const ready = join(dir, 'ready.json');
const controller = spawn(process.execPath, [...(process.env.CONTROLLER_NODE_FLAGS ?? '').split(' ').filter(Boolean), join(root, 'bin/rigwarden-controller.js'),
  '--data-dir', join(dir, 'data'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', ready, '--fleet', fleetFile, '--keys-file', keysFile,
  ...(brokerUrl ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], {
  env: { ...process.env, ...(brokerUrl ? { MQTT_URL: brokerUrl } : { MQTT_URL: '' }), RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `bench-ctl-${topicRoot}`, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = new Promise((r) => controller.once('exit', r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function snapshot(i, seq, dead) {
  return JSON.stringify({
    rigId: rigId(i), minerId: 'm1', host: `10.1.${i >> 8}.${i & 255}`, port: 4028, vendor: 'antminer', model: 'Antminer S19 Pro',
    firmware: 'bmminer 1.0.0', uptimeS: 86_400 + seq * (intervalMs / 1000), hashrate5sHs: 110e12, hashrateAvgHs: 109e12,
    accepted: 1000 + seq, rejected: 3, stale: 1, hwErrors: 12,
    boards: [0, 1, 2].map((b) => ({ index: b, hashrateHs: 36.6e12, boardTempC: 60 + b, chipTempC: 75 + b, chips: 76, status: 'BOARD_STATUS_OK' })),
    fans: [1, 2, 3, 4].map((f) => ({ index: f, rpm: 5400 + f })),
    pools: POOLS.map((url, p) => ({
      index: p, url, user: 'farm.worker', priority: p, active: p === 0,
      status: p === 0 && dead ? 'POOL_STATUS_DEAD' : 'POOL_STATUS_ALIVE', accepted: p === 0 ? 1000 + seq : 0,
      ...(p === 0 ? { lastShareTime: new Date().toISOString() } : {}),
    })),
    collectedAt: new Date().toISOString(), seq, agentId: 'bench-agent', driver: 'antminer',
  });
}

const latencies = [];
const faultAt = new Map(); // rig index -> performance.now() of the fault publish
const commandFor = new Map(); // rig index -> first command envelope
let badCommands = 0;
let t0 = 0;
let clients = [];
let result;
try {
  for (let i = 0; i < 300 && !existsSync(ready); i++) {
    if (controller.exitCode !== null) throw new Error(`the controller exited with code ${controller.exitCode} before it was ready`);
    await sleep(100);
  }
  if (!existsSync(ready)) throw new Error('the controller was not ready within 30 s');
  const endpoints = JSON.parse(readFileSync(ready, 'utf8'));
  if (!brokerUrl) {
    brokerUrl = endpoints.mqtt;
    brokerKind = `embedded aedes in the controller (${brokerUrl}${forceEmbedded ? ', --embedded' : '; no Mosquitto at MQTT_URL or 127.0.0.1:1883'})`;
  }
  console.error(`failover bench: ${rigs} rigs every ${intervalMs} ms, ${faults} faults over ${faultWindowMs} ms, broker: ${brokerKind}`);

  const commands = await mqtt.connectAsync(brokerUrl, { clientId: `bench-cmd-${topicRoot}` });
  const pubs = await Promise.all(Array.from({ length: publishers }, (_, k) => mqtt.connectAsync(brokerUrl, { clientId: `bench-rigs-${k}-${topicRoot}` })));
  clients = [commands, ...pubs];
  const seqs = new Int32Array(rigs);
  const prefix = `${topicRoot}/rigs/`;
  commands.on('message', (topic, payload) => {
    const now = performance.now();
    const id = topic.slice(prefix.length, -'/commands'.length);
    const i = Number(id.slice(3));
    if (commandFor.has(i)) return; // a retry of the same command
    const envelope = JSON.parse(payload.toString());
    const signed = typeof envelope.signature === 'string' && envelope.signature.length > 0 && envelope.keyId === 'bench-k1' && envelope.rigId === id;
    if (!signed || envelope.switchPool?.poolIndex !== 1 || !faultAt.has(i)) { badCommands++; return; }
    commandFor.set(i, envelope);
    latencies.push(now - faultAt.get(i));
    if (process.env.BENCH_DEBUG) console.error(`fault at +${((faultAt.get(i) - t0) / 1000).toFixed(2)} s: ${(now - faultAt.get(i)).toFixed(1)} ms`);
    // Answer like an agent, so the controller does not retry.
    const answer = { commandId: envelope.commandId, rigId: id, outcome: 'COMMAND_OUTCOME_SUCCEEDED', cause: 'switched', durationMs: 1, finishedAt: new Date().toISOString() };
    pubs[i % publishers].publish(`${prefix}${id}/results`, JSON.stringify(answer), { qos: 1 });
  });
  await commands.subscribeAsync(`${prefix}+/commands`, { qos: 1 });

  const report = (i) => {
    seqs[i]++;
    const dead = faultAt.has(i) && !commandFor.has(i);
    pubs[i % publishers].publish(`${prefix}${rigId(i)}/telemetry`, snapshot(i, seqs[i], dead), { qos: 1 });
  };
  // Every rig reports once per interval, spread evenly over it (10 ms slots).
  const slots = Math.max(1, Math.floor(intervalMs / 10));
  const started = performance.now();
  t0 = started;
  const faultOrder = [...faulty];
  const warmupMs = intervalMs + 2000; // every rig known and read once before the first fault
  let slot = 0;
  let faultsSent = 0;
  const end = warmupMs + faultWindowMs + 5000;
  while (performance.now() - started < end) {
    const elapsed = performance.now() - started;
    while (slot < Math.floor(elapsed / 10)) {
      const s = slot % slots;
      for (let i = s; i < rigs; i += slots) report(i);
      slot++;
    }
    // Faults, evenly over the window: the faulty rig reports now, out of its turn, with its active pool dead.
    while (faultsSent < faultOrder.length && elapsed >= warmupMs + (faultsSent * faultWindowMs) / faultOrder.length) {
      const i = faultOrder[faultsSent++];
      seqs[i]++;
      const payload = snapshot(i, seqs[i], true);
      faultAt.set(i, performance.now());
      pubs[i % publishers].publish(`${prefix}${rigId(i)}/telemetry`, payload, { qos: 1 });
    }
    if (faultsSent === faultOrder.length && commandFor.size === faultOrder.length) break;
    await sleep(5);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => (sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(1)) : null);
  result = {
    bench: 'failover', date: new Date().toISOString(), broker: brokerKind, rigs, intervalMs, reportsPerS: Math.round((rigs * 1000) / intervalMs),
    faults: faultOrder.length, commands: latencies.length, missing: faultOrder.length - latencies.length, badCommands,
    p50Ms: pct(50), p99Ms: pct(99), maxMs: sorted.length ? Number(sorted[sorted.length - 1].toFixed(1)) : null, goalP99Ms: 100,
  };
} finally {
  await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  if (controller.exitCode === null) controller.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
mkdirSync(join(root, 'bench/results'), { recursive: true });
appendFileSync(join(root, 'bench/results/failover.jsonl'), `${JSON.stringify(result)}\n`);
console.log(`\nfailover: ${rigs} rigs reporting every ${intervalMs / 1000} s (${result.reportsPerS} snapshots/s), ${result.faults} with the active pool dead`);
console.log(`  broker                        ${result.broker}`);
console.log(`  fault -> signed command p50   ${result.p50Ms} ms`);
console.log(`  fault -> signed command p99   ${result.p99Ms} ms   (goal <= 100 ms)`);
console.log(`  max                           ${result.maxMs} ms`);
console.log(`  commands received             ${result.commands} of ${result.faults}${result.badCommands ? `; ${result.badCommands} unexpected` : ''}`);
if (result.missing > 0) process.exitCode = 1;
