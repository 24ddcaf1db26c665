import type { SimDialect } from '../cgminer/personality';
import type { GpuMinerFlavor } from '../gpu/gpu-miner-simulator';
import type { FarmRigSpec, FarmSpec, ScheduledFault } from './sim-farm';

/** "antminer-web": a stock Antminer driven through its web UI (read-only cgminer API plus the web config). */
type DemoKind = SimDialect | GpuMinerFlavor | 'antminer-web';

/**
 * The demo farm's 30 rigs, in id order (sim-001 ... sim-030). The first three carry the scheduled faults so a
 * demo with `--rigs 3` still shows all of them. The demo fleet (deploy/demo/fleet.demo.yaml) groups rigs by their
 * labels; a test keeps the two in step.
 */
export const DEMO_LAYOUT: readonly DemoKind[] = [
  'cgminer', 'avalon', 't-rex', 'antminer-web', 'whatsminer', 'luxos', 'braiins', 'antminer', 'whatsminer', 'avalon',
  'lolminer', 'antminer-web', 'luxos', 'braiins', 'whatsminer', 'avalon', 'cgminer', 'gminer', 'antminer', 'whatsminer',
  'luxos', 'braiins', 'avalon', 't-rex', 'antminer-web', 'whatsminer', 'luxos', 'braiins', 'avalon', 'antminer',
];

/** A demo stock Antminer's mining restart after a pool change through its web UI (real firmware: 2-3 minutes). */
export const DEMO_WEB_RESTART_MS = 5000;

const GPU_FLAVORS: ReadonlySet<string> = new Set<GpuMinerFlavor>(['t-rex', 'lolminer', 'lolminer-legacy', 'gminer', 'xmrig', 'xmrig-legacy']);

/** Which models the dialects show in the demo. */
const DEMO_MODELS: Partial<Record<SimDialect, string>> = {
  cgminer: 'Rigwarden SimASIC X1', antminer: 'Antminer S19 Pro', whatsminer: 'Whatsminer M31S', avalon: 'Avalon 1566',
  braiins: 'Antminer S9', luxos: 'Antminer S19j Pro',
};

/** Controllable firmware mines on pool-a; stock Antminer and Braiins (read-only APIs here) and Whatsminer (no switchpool) on pool-c. */
const PRIMARY_POOL: Record<SimDialect, string> = {
  cgminer: 'pool-a', avalon: 'pool-a', luxos: 'pool-a', antminer: 'pool-c', braiins: 'pool-c', whatsminer: 'pool-c',
};

export function demoRigId(index: number): string {
  return `sim-${String(index + 1).padStart(3, '0')}`;
}

/** The demo's rig n (0-based); past 30 the layout repeats. */
export function demoRig(index: number, options: { webRestartMs?: number } = {}): FarmRigSpec {
  const kind = DEMO_LAYOUT[index % DEMO_LAYOUT.length]!;
  const id = demoRigId(index);
  if (kind === 'antminer-web') {
    // Mines on pool-a like the controllable firmware: the failover policy moves it through the web UI when pool-a hangs.
    const model = 'Antminer S19';
    return {
      id, kind: 'asic', dialect: 'antminer', model, pools: ['pool-a', 'pool-b'],
      web: { personality: 's19-2020', miningRestartMs: options.webRestartMs ?? DEMO_WEB_RESTART_MS },
      labels: { kind: 'asic', dialect: 'antminer', model, control: 'web' },
    };
  }
  if (GPU_FLAVORS.has(kind)) {
    const flavor = kind as GpuMinerFlavor;
    return { id, kind: 'gpu', flavor, gpus: 4, labels: { kind: 'gpu', miner: flavor, model: flavor === 'lolminer' ? 'AMD RX 6800 x4' : 'NVIDIA RTX 3070 x4' } };
  }
  const dialect = kind as SimDialect;
  const model = DEMO_MODELS[dialect]!;
  return { id, kind: 'asic', dialect, model, pools: [PRIMARY_POOL[dialect], 'pool-b'], labels: { kind: 'asic', dialect, model } };
}

/** The scheduled faults, from the farm's start: every one within the first two minutes, again every 5 minutes. */
export const DEMO_FAULTS: readonly ScheduledFault[] = [
  { atMs: 45_000, fault: { fault: 'silence-pool', pool: 'pool-a' } },
  { atMs: 60_000, fault: { fault: 'overheat', rig: 'sim-002' } },
  { atMs: 75_000, fault: { fault: 'kill-board', rig: 'sim-001', board: 1, sticky: false } },
  { atMs: 90_000, fault: { fault: 'lose-gpu', rig: 'sim-003', gpu: 1 } },
  { atMs: 165_000, fault: { fault: 'resume-pool', pool: 'pool-a' } },
  { atMs: 180_000, fault: { fault: 'cool', rig: 'sim-002' } },
];

export interface DemoFarmOptions {
  rigs?: number;
  /** Shift of the fault schedule: the pool fault comes at 45 s + this (negative: earlier; -40000 starts it at 5 s). */
  faultsShiftMs?: number;
  /** False: no scheduled faults. */
  faults?: boolean;
  /** The stock Antminers' mining restart after a pool change through the web UI (default DEMO_WEB_RESTART_MS). */
  webRestartMs?: number;
}

/** The farm `npm start` runs: ~30 rigs across the ASIC dialects and GPU miners, pools, and scheduled faults. */
export function demoFarmSpec(options: DemoFarmOptions = {}): FarmSpec {
  const count = options.rigs ?? DEMO_LAYOUT.length;
  const rigs = Array.from({ length: count }, (_, i) => demoRig(i, { webRestartMs: options.webRestartMs }));
  const ids = new Set(rigs.map((r) => r.id));
  const steps = DEMO_FAULTS.filter((s) => !('rig' in s.fault) || ids.has(s.fault.rig));
  return {
    pools: [{ name: 'pool-a' }, { name: 'pool-b' }, { name: 'pool-c' }],
    rigs,
    poolUser: 'rigwarden.demo',
    // Like cgminer: a pool is Dead only after 90 s of silence, and the miner fails back after 2 minutes of stability.
    mining: { silenceTimeoutMs: 90_000, failbackStableMs: 120_000, shareIntervalMs: 2000 },
    heat: { hotC: 88, coolC: 64, hotFromWorkMode: 1, rampCPerS: 1.5 },
    restartDownMs: 2000,
    rebootDownMs: 5000,
    ...(options.faults === false ? {} : { schedule: { startMs: options.faultsShiftMs ?? 0, repeatMs: 300_000, steps } }),
  };
}
