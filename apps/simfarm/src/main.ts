#!/usr/bin/env node
/**
 * rigwarden-simfarm: a small simulated farm for the demo and for trying Rigwarden
 * without hardware. Starts N cgminer-API miners on loopback and, if asked, writes
 * an agent config that polls them.
 *
 *   rigwarden-simfarm --rigs 4 --agent-config data/agent.demo.yaml --mqtt-url mqtt://127.0.0.1:1883
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CgminerSimulator } from '@rigwarden/simulators';

interface Args { rigs: number; agentConfig?: string; mqttUrl: string; readyFile?: string; intervalMs: number; dataDir: string; keysFile?: string }

function parseArgs(argv: string[]): Args {
  const args: Args = { rigs: 3, mqttUrl: 'mqtt://127.0.0.1:1883', intervalMs: 2000, dataDir: './data/agent' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) { console.error(`rigwarden-simfarm: ${arg} needs a value`); process.exit(2); }
      return v;
    };
    if (arg === '--rigs') args.rigs = Number(value());
    else if (arg === '--agent-config') args.agentConfig = value();
    else if (arg === '--mqtt-url') args.mqttUrl = value();
    else if (arg === '--ready-file') args.readyFile = value();
    else if (arg === '--interval-ms') args.intervalMs = Number(value());
    else if (arg === '--agent-data-dir') args.dataDir = value();
    else if (arg === '--keys-file') args.keysFile = value();
    else { console.error(`rigwarden-simfarm: unknown argument "${arg}"`); process.exit(2); }
  }
  if (!Number.isInteger(args.rigs) || args.rigs < 1 || args.rigs > 5000) { console.error('rigwarden-simfarm: --rigs must be 1-5000'); process.exit(2); }
  return args;
}

const MODELS = ['Rigwarden SimASIC X1', 'Rigwarden SimASIC X2 Pro', 'Rigwarden SimASIC X1 Hydro'];

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sims: Array<{ rig: string; sim: CgminerSimulator; port: number }> = [];
  for (let i = 0; i < args.rigs; i++) {
    const sim = new CgminerSimulator({ state: { model: MODELS[i % MODELS.length]! } });
    const { port } = await sim.start();
    sims.push({ rig: `sim-${String(i + 1).padStart(3, '0')}`, sim, port });
  }
  // Small random walks so the numbers move like a real farm's.
  const drift = setInterval(() => {
    for (const { sim } of sims) {
      for (const board of sim.state.boards) {
        board.tempC = Math.round(Math.min(95, Math.max(40, board.tempC + (Math.random() - 0.5) * 1.5)) * 10) / 10;
        board.chipTempC = Math.round((board.tempC + 14) * 10) / 10;
        board.hashrateHs = Math.max(0, board.hashrateHs * (1 + (Math.random() - 0.5) * 0.02));
      }
      sim.state.fans = sim.state.fans.map((rpm) => Math.round(Math.min(7000, Math.max(3000, rpm + (Math.random() - 0.5) * 60))));
      const active = sim.state.pools[sim.state.activePool];
      if (active) {
        active.accepted += 1;
        active.lastShareTime = Math.floor(Date.now() / 1000);
        sim.state.accepted += 1;
      }
    }
  }, 2000);

  if (args.agentConfig) {
    const lines = [
      '# Written by rigwarden-simfarm for the demo; see agent.sample.yaml for every key.',
      'agent:',
      '  id: demo-agent',
      `  dataDir: ${JSON.stringify(args.dataDir)}`,
      'mqtt:',
      `  url: ${JSON.stringify(args.mqttUrl)}`,
      'poll:',
      `  intervalMs: ${args.intervalMs}`,
      ...(args.keysFile ? ['security:', `  keysFile: ${JSON.stringify(args.keysFile)}`] : []),
      'miners:',
      ...sims.flatMap(({ rig, port }) => [`  - rig: ${rig}`, '    driver: cgminer', '    host: 127.0.0.1', `    port: ${port}`]),
      '',
    ];
    mkdirSync(dirname(args.agentConfig), { recursive: true });
    writeFileSync(args.agentConfig, lines.join('\n'));
  }
  const ready = { miners: sims.map(({ rig, port }) => ({ rig, host: '127.0.0.1', port })), pid: process.pid };
  if (args.readyFile) writeFileSync(args.readyFile, JSON.stringify(ready));
  console.error(`rigwarden-simfarm: ${sims.length} simulated cgminer miners on 127.0.0.1 ports ${sims.map((s) => s.port).join(', ')}`);

  const stop = async (): Promise<void> => {
    clearInterval(drift);
    await Promise.all(sims.map(({ sim }) => sim.stop()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`rigwarden-simfarm: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
