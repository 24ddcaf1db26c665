#!/usr/bin/env node
/**
 * rigwarden-simfarm: a simulated farm for the demo, the end-to-end scenarios and trying Rigwarden without
 * hardware. Stratum pools, ASIC miners of every cgminer dialect mining on them, GPU miners, a fault schedule, and a
 * control port (loopback HTTP) through which faults are injected and the miners' state is read.
 *
 *   rigwarden-simfarm --rigs 30 --agent-config data/agent.demo.yaml --ready-file data/simfarm.ready.json
 *   rigwarden-simfarm --farm farm.json ...           a farm of your own (FarmSpec JSON: pools, rigs, mining, schedule)
 *   rigwarden-simfarm ctl --control http://127.0.0.1:PORT kill-pool pool-a
 *   rigwarden-simfarm ctl --control http://127.0.0.1:PORT state [rig]
 *   rigwarden-simfarm --replay DIR [--port P] [--host H] [--loop] [--no-latency] [--ready-file F]
 *                                                    serve a `rigwarden-agent record` recording as a miner (docs/record-replay.md)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  FARM_FAULTS, FarmControlServer, RecordingReplaySimulator, SimFarm, farmControl, parseFault, type FarmSpec,
} from '@rigwarden/simulators';
import { driverFor, renderAgentConfig } from './agent-config.writer';
import { demoFarmWithApiRigs } from './demo-farm.layout';

interface Args {
  rigs: number;
  farmFile?: string;
  agentConfig?: string;
  mqttUrl?: string;
  readyFile?: string;
  intervalMs: number;
  dataDir: string;
  keysFile?: string;
  controlPort: number;
  faults: boolean;
  faultsShiftMs: number;
  agentId: string;
}

function die(message: string, code = 2): never {
  console.error(`rigwarden-simfarm: ${message}`);
  process.exit(code);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rigs: 30, intervalMs: 2000, dataDir: './data/agent', controlPort: 0, faults: true, faultsShiftMs: 0, agentId: 'demo-agent' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => argv[++i] ?? die(`${arg} needs a value`);
    const num = (): number => {
      const v = Number(value());
      return Number.isFinite(v) ? v : die(`${arg} must be a number`);
    };
    if (arg === '--rigs') args.rigs = num();
    else if (arg === '--farm') args.farmFile = value();
    else if (arg === '--agent-config') args.agentConfig = value();
    else if (arg === '--agent-id') args.agentId = value();
    else if (arg === '--mqtt-url') args.mqttUrl = value();
    else if (arg === '--ready-file') args.readyFile = value();
    else if (arg === '--interval-ms') args.intervalMs = num();
    else if (arg === '--agent-data-dir') args.dataDir = value();
    else if (arg === '--keys-file') args.keysFile = value();
    else if (arg === '--control-port') args.controlPort = num();
    else if (arg === '--no-faults') args.faults = false;
    else if (arg === '--faults-start') args.faultsShiftMs = num() * 1000 - 45_000;
    else die(`unknown argument "${arg}"`);
  }
  if (!Number.isInteger(args.rigs) || args.rigs < 1 || args.rigs > 5000) die('--rigs must be 1-5000');
  return args;
}

function loadFarm(args: Args): FarmSpec {
  if (!args.farmFile) return demoFarmWithApiRigs({ rigs: args.rigs, faults: args.faults, faultsShiftMs: args.faultsShiftMs });
  try {
    const spec = JSON.parse(readFileSync(args.farmFile, 'utf8')) as FarmSpec;
    if (!Array.isArray(spec.pools) || !Array.isArray(spec.rigs)) die(`${args.farmFile}: needs "pools" and "rigs" lists`);
    return args.faults ? spec : { ...spec, schedule: undefined };
  } catch (err) {
    return die(`${args.farmFile}: ${(err as Error).message}`);
  }
}

/** `ctl`: talks to a running farm's control port. */
async function ctl(argv: string[]): Promise<void> {
  const usage = `usage: rigwarden-simfarm ctl --control URL <state [rig] | ${FARM_FAULTS.join(' | ')}> <pool-or-rig> [--board N] [--gpu N] [--sticky|--not-sticky|--broken] [--period-ms N]`;
  const i = argv.indexOf('--control');
  const url = i >= 0 ? argv[i + 1] : process.env['RIGWARDEN_SIMFARM_CONTROL'];
  if (!url) die(`--control URL (or env RIGWARDEN_SIMFARM_CONTROL) is required\n${usage}`);
  const rest = argv.filter((_, j) => i < 0 || (j !== i && j !== i + 1));
  const [command, target, ...opts] = rest;
  if (command === 'state') {
    console.log(JSON.stringify(await farmControl(url, 'GET', target ? `/rigs/${encodeURIComponent(target)}` : '/state'), null, 2));
    return;
  }
  if (!command || !target) die(usage);
  const body: Record<string, unknown> = { fault: command, [command.endsWith('-pool') ? 'pool' : 'rig']: target };
  for (let k = 0; k < opts.length; k++) {
    const o = opts[k]!;
    if (o === '--board') body['board'] = Number(opts[++k]);
    else if (o === '--gpu') body['gpu'] = Number(opts[++k]);
    else if (o === '--period-ms') body['periodMs'] = Number(opts[++k]);
    else if (o === '--sticky') body['sticky'] = true;
    else if (o === '--not-sticky') body['sticky'] = false;
    else if (o === '--broken') body['broken'] = true;
    else die(`unknown option "${o}"\n${usage}`);
  }
  const fault = parseFault(body);
  const { message } = await farmControl<{ message: string }>(url, 'POST', '/faults', fault);
  console.log(message);
}

/** `--replay DIR`: one recorded miner on a TCP port, answering with the recorded bytes at the recorded times. */
async function replay(argv: string[]): Promise<void> {
  let dir: string | undefined;
  let port = 0;
  let host = '127.0.0.1';
  let loop = false;
  let latency = true;
  let readyFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => argv[++i] ?? die(`${arg} needs a value`);
    if (arg === '--replay') dir = value();
    else if (arg === '--port') {
      port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65535) die('--port must be 0-65535');
    } else if (arg === '--host') host = value();
    else if (arg === '--loop') loop = true;
    else if (arg === '--no-latency') latency = false;
    else if (arg === '--ready-file') readyFile = value();
    else die(`unknown argument "${arg}" (with --replay: --port, --host, --loop, --no-latency, --ready-file)`);
  }
  if (!dir) die('--replay needs a recording directory');
  let sim: RecordingReplaySimulator;
  try {
    sim = new RecordingReplaySimulator({ dir, host, port, loop, latency });
  } catch (err) {
    return die(`${dir}: ${(err as Error).message}`);
  }
  const address = await sim.start();
  const r = sim.recording;
  const commands = [...r.byCommand.keys()].filter((c) => !c.includes('+'));
  if (readyFile) writeFileSync(readyFile, JSON.stringify({ pid: process.pid, host: address.host, port: address.port, dir, spanMs: r.spanMs }));
  console.error(`rigwarden-simfarm: replaying ${dir} (recorded from ${r.target}, ${Math.round(r.spanMs / 1000)} s, ${commands.join(', ')}; `
    + `${r.joins === false ? 'no multi-commands' : 'multi-commands joined'}) on ${address.host}:${address.port}, ${loop ? 'looping' : 'holding the last replies'} after the end`);
  const stop = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'ctl') return ctl(argv.slice(1));
  if (argv.includes('--replay')) return replay(argv);
  const args = parseArgs(argv);
  const spec = loadFarm(args);
  const farm = await SimFarm.start(spec, {
    onFault: (e) => console.error(`rigwarden-simfarm: fault ${e.fault.fault}: ${e.message}`),
  });
  const control = new FarmControlServer(farm);
  const controlUrl = await control.start(args.controlPort);
  const miners = farm.endpoints();

  if (args.agentConfig) {
    const self = resolve(process.argv[1]!);
    mkdirSync(dirname(args.agentConfig), { recursive: true });
    writeFileSync(args.agentConfig, renderAgentConfig({
      agentId: args.agentId, dataDir: args.dataDir, mqttUrl: args.mqttUrl, intervalMs: args.intervalMs, keysFile: args.keysFile,
      controlArgv: [process.execPath, self, 'ctl', '--control', controlUrl], miners,
    }));
  }
  const ready = {
    pid: process.pid,
    control: controlUrl,
    pools: Object.fromEntries(spec.pools.map((p) => [p.name, farm.poolUrl(p.name)])),
    poolUser: spec.poolUser ?? 'rigwarden.demo',
    miners: miners.map(({ rig, host, port, webPort }) => ({ rig: rig.id, kind: rig.kind, host, port, ...(webPort !== undefined ? { webPort } : {}) })),
  };
  if (args.readyFile) writeFileSync(args.readyFile, JSON.stringify(ready));
  const kinds = new Map<string, number>();
  for (const { rig } of miners) {
    const k = driverFor(rig);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  console.error(`rigwarden-simfarm: ${miners.length} simulated rigs (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), `
    + `${spec.pools.length} stratum pools, control port ${controlUrl}${spec.schedule ? `, ${spec.schedule.steps.length} scheduled faults` : ''}`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await control.stop();
    await farm.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => die(err instanceof Error ? err.message : String(err), 1));
