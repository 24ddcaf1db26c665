#!/usr/bin/env node
// `npm start`: the controller (embedded MQTT broker + SQLite under ./data), a simulated farm of about 30 rigs
// (every ASIC dialect, GPU miners, stratum pools, scheduled faults: a pool hangs at 45 s, a board overheats at
// 60 s, a board dies at 75 s, a GPU is lost at 90 s, again every 5 minutes) and an agent reading it, with the
// demo fleet spec (deploy/demo/fleet.demo.yaml). `npm start -- --no-demo` runs the controller alone.
// Options: --rigs N (default 30), --data-dir DIR, --no-build, --no-faults, --faults-start S (the first fault at
// S seconds; env RIGWARDEN_DEMO_FAULTS_START). See docs/demo.md.
// Ctrl-C stops every process this script started, and nothing else.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const demo = !args.includes('--no-demo');
const rigsArg = args.indexOf('--rigs');
const rigs = rigsArg >= 0 ? Number(args[rigsArg + 1]) : 30;
const faultsArg = args.indexOf('--faults-start');
const faultsStart = faultsArg >= 0 ? args[faultsArg + 1] : process.env.RIGWARDEN_DEMO_FAULTS_START;
const faults = !args.includes('--no-faults');
const dataDirArg = args.indexOf('--data-dir');
const dataDir = dataDirArg >= 0 ? args[dataDirArg + 1] : join(root, 'data');
mkdirSync(dataDir, { recursive: true });

// Build first so a checkout that changed since `npm install` runs what it contains (about a second).
if (!args.includes('--no-build')) execFileSync(process.execPath, [join(root, 'tools/build.mjs')], { stdio: 'inherit' });

const children = [];
let stopping = false;

function launch(name, script, argv, env = {}) {
  const child = spawn(process.execPath, [join(root, 'bin', script), ...argv], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`rigwarden: ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the rest`);
      void stopAll(1);
    }
  });
  return child;
}

async function waitForFile(file, what, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(file)) {
      try { return JSON.parse(readFileSync(file, 'utf8')); } catch { /* partially written */ }
    }
    if (stopping) throw new Error('stopped');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Agent first (it marks its rigs offline), then the simulators, then the controller.
  const order = ['agent', 'simfarm', 'controller'];
  for (const { child } of [...children].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
  console.error(`rigwarden: stopped (${children.map(({ name, child }) => `${name} ${child.exitCode ?? child.signalCode}`).join(', ')})`);
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const controllerReady = join(dataDir, 'controller.ready.json');
  rmSync(controllerReady, { force: true });
  // Demo command keys, shared by the controller (signs) and the agent (verifies); made once, kept in ./data.
  const keysFile = join(dataDir, 'keys.json');
  if (!existsSync(keysFile)) {
    const rigs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`sim-${String(i + 1).padStart(3, '0')}`, [{ id: 'demo-1', secret: randomBytes(32).toString('base64url') }]]));
    writeFileSync(keysFile, JSON.stringify({ rigs }), { mode: 0o600 });
  }
  // The embedded broker lets in only clients with a login: the demo agent's, made once with rigctl broker-config
  // --format rigwarden (the controller reads the hashes; the agent gets its password here), kept in ./data (0600).
  const embedded = !process.env.MQTT_URL;
  const usersFile = join(dataDir, 'broker-users.yaml');
  const agentPasswordFile = join(dataDir, 'demo-agent.mqtt-password');
  if (embedded && demo && (!existsSync(usersFile) || !existsSync(agentPasswordFile))) {
    const agentsFile = join(dataDir, 'broker-agents.yaml');
    writeFileSync(agentsFile, '# The demo agent speaks for every simulated rig (sim-001, sim-002, ...).\nagents:\n  demo-agent: ["sim-*"]\n');
    const printed = execFileSync(process.execPath, [join(root, 'bin/rigctl.js'), 'broker-config', '--format', 'rigwarden', '--agents', agentsFile, '--out-dir', dataDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const password = printed.split('\n').map((line) => line.split('\t')).find(([user]) => user === 'demo-agent')?.[1];
    if (!password) throw new Error('rigctl broker-config printed no password for demo-agent');
    writeFileSync(agentPasswordFile, password + '\n', { mode: 0o600 });
    chmodSync(agentPasswordFile, 0o600);
  }
  const agentLogin = embedded && demo
    ? { RIGWARDEN_MQTT_USERNAME: 'demo-agent', RIGWARDEN_MQTT_PASSWORD: readFileSync(agentPasswordFile, 'utf8').trim() }
    : {};
  let fleet;
  let farm;
  if (demo) {
    // The farm first: its pools' addresses go into the fleet spec the controller loads at start.
    const simReady = join(dataDir, 'simfarm.ready.json');
    rmSync(simReady, { force: true });
    launch('simfarm', 'rigwarden-simfarm.js', ['--rigs', String(rigs), '--agent-id', 'demo-agent', '--agent-config', join(dataDir, 'agent.demo.yaml'),
      '--agent-data-dir', join(dataDir, 'agent'), '--ready-file', simReady, '--keys-file', keysFile,
      ...(faults ? [] : ['--no-faults']), ...(faults && faultsStart !== undefined && faultsStart !== '' ? ['--faults-start', String(faultsStart)] : [])]);
    farm = await waitForFile(simReady, 'the simulated farm');
    fleet = join(dataDir, 'fleet.demo.yaml');
    const values = { ...farm.pools, user: farm.poolUser };
    writeFileSync(fleet, readFileSync(join(root, 'deploy/demo/fleet.demo.yaml'), 'utf8').replace(/\{\{([a-z-]+)\}\}/g, (m, key) => values[key] ?? m));
  }
  launch('controller', 'rigwarden-controller.js', ['--data-dir', dataDir, '--ready-file', controllerReady, '--keys-file', keysFile,
    ...(fleet ? ['--fleet', fleet] : []), ...(embedded ? ['--broker-users', usersFile] : [])]);
  const endpoints = await waitForFile(controllerReady, 'the controller');
  // rigctl reads ./data/admin.token (the controller's first admin API key) by default; name the file otherwise.
  const tokenFile = join(dataDir, 'admin.token');
  const keyEnv = tokenFile === join(process.cwd(), 'data', 'admin.token') ? '' : `RIGWARDEN_API_KEY_FILE=${tokenFile} `;
  const server = endpoints.grpc === '127.0.0.1:50051' ? '' : ` --server ${endpoints.grpc}`;
  const rigctl = `${keyEnv}npx rigctl${server} rigs`;
  if (demo) launch('agent', 'rigwarden-agent.js', ['--config', join(dataDir, 'agent.demo.yaml')], { MQTT_URL: endpoints.mqtt, ...agentLogin });

  console.error([
    '',
    'Rigwarden is running.',
    `  Dashboard    ${endpoints.http ?? '(this controller serves none)'}   (sign in with the API key below)`,
    `  gRPC API     ${endpoints.grpc}`,
    `  MQTT broker  ${endpoints.mqtt}${process.env.MQTT_URL ? ' (MQTT_URL)' : ' (embedded)'}`,
    `  SQLite       ${endpoints.db}`,
    `  API key      ${tokenFile} (admin; rigctl keys create --name me --scopes operate makes your own)`,
    demo ? `  demo farm    ${rigs} simulated rigs (ASIC dialects and GPU miners), polled every 2 s; fleet ${fleet}` : '  demo farm    off (--no-demo)',
    ...(demo ? [`  faults       ${faults ? `scheduled (first at ${faultsStart ?? 45} s; docs/demo.md)` : 'off (--no-faults)'}; inject more: node bin/rigwarden-simfarm.js ctl --control ${farm.control} kill-pool pool-b`] : []),
    `Try: ${rigctl}   (in another terminal; add --json for JSON)`,
    ...(demo ? [`     ${keyEnv}npx rigctl${server} events sim-002   (what the policies did and why)`] : []),
    'Ctrl-C stops everything.',
    `(pids: ${children.map(({ name, child }) => `${name} ${child.pid}`).join(', ')})`,
    '',
  ].join('\n'));
} catch (err) {
  console.error(`rigwarden: ${err.message}`);
  await stopAll(1);
}
