#!/usr/bin/env node
// Agent footprint: RSS and CPU of the built agent polling N simulated cgminer miners.
//   npm run bench -- agent [--miners 10] [--interval-ms 10000] [--duration-s 300]
// Prints one JSON line and a short table; appends the result to bench/results/agent.jsonl.
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const miners = arg('miners', 10);
const intervalMs = arg('interval-ms', 10_000);
const durationS = arg('duration-s', 300);
if (!existsSync(join(root, 'dist/agent/main.js'))) execFileSync(process.execPath, [join(root, 'tools/build.mjs')], { stdio: 'inherit' });

const CLK_TCK = 100; // Linux USER_HZ
const pageSize = 4096;
function sample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const rssPages = Number(fields[21]);
  return { cpuS: cpuTicks / CLK_TCK, rssMb: (rssPages * pageSize) / 1024 / 1024 };
}

const dir = mkdtempSync(join(tmpdir(), 'rigwarden-bench-'));
const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const mqttUrl = `mqtt://127.0.0.1:${server.address().port}`;

const children = [];
const nodeFlags = (process.env.AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
// The agent runs as deployed: through its launcher's shebang (and its V8 flags), unless AGENT_NODE_FLAGS says otherwise.
const start = (script, args) => {
  const asDeployed = script === 'rigwarden-agent.js' && nodeFlags.length === 0;
  const [file, argv] = asDeployed ? [join(root, 'bin', script), args] : [process.execPath, [...(script === 'rigwarden-agent.js' ? nodeFlags : []), join(root, 'bin', script), ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  child.stderr.on('data', () => undefined);
  children.push(child);
  return child;
};
const stopAll = async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await new Promise((r) => broker.close(r));
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
};

try {
  const config = join(dir, 'agent.yaml');
  const ready = join(dir, 'sim.json');
  start('rigwarden-simfarm.js', ['--rigs', String(miners), '--agent-config', config, '--mqtt-url', mqttUrl, '--interval-ms', String(intervalMs), '--agent-data-dir', join(dir, 'agent'), '--ready-file', ready]);
  for (let i = 0; i < 100 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 100));
  const agent = start('rigwarden-agent.js', ['--config', config]);
  await new Promise((r) => setTimeout(r, 5_000)); // start-up is not steady state
  const first = sample(agent.pid);
  const rss = [];
  const t0 = Date.now();
  while (Date.now() - t0 < durationS * 1000) {
    await new Promise((r) => setTimeout(r, 5_000));
    rss.push(sample(agent.pid).rssMb);
  }
  const last = sample(agent.pid);
  const elapsedS = (Date.now() - t0) / 1000;
  const result = {
    bench: 'agent', date: new Date().toISOString(), node: process.version, nodeFlags: nodeFlags.length ? nodeFlags.join(' ') : readFileSync(join(root, 'bin/rigwarden-agent.js'), 'utf8').split('\n')[0], miners, intervalMs, durationS: Math.round(elapsedS),
    cpuPercentOfOneCore: Number((((last.cpuS - first.cpuS) / elapsedS) * 100).toFixed(3)),
    rssMbMax: Number(Math.max(...rss).toFixed(1)), rssMbLast: Number(last.rssMb.toFixed(1)),
    goal: { rssMbMax: 70, cpuPercentOfOneCore: 1 },
  };
  console.log(JSON.stringify(result));
  console.log(`\nagent, ${miners} miners every ${intervalMs / 1000} s for ${Math.round(elapsedS)} s`);
  console.log(`  CPU   ${result.cpuPercentOfOneCore.toFixed(2)} % of one core   (goal <= 1 %)`);
  console.log(`  RSS   ${result.rssMbMax} MB max, ${result.rssMbLast} MB at the end   (goal <= 70 MB)`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  appendFileSync(join(root, 'bench/results/agent.jsonl'), JSON.stringify(result) + '\n');
} finally {
  await stopAll();
}
