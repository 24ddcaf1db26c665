import { AntminerWebSimulator, type AntminerWebLive } from '../antminer-web/antminer-web.simulator';
import { BraiinsGrpcSimulator } from '../braiins/braiins-grpc.simulator';
import { WhatsminerV3Simulator } from '../whatsminer-v3/whatsminer-v3.simulator';
import { CgminerSimulator, type SimPool, type SimPoolSwitch } from '../cgminer-simulator';
import type { SimDialect } from '../cgminer/personality';
import type { MiningOptions } from '../cgminer/stratum-mining.engine';
import { REAL_PROGRAM_PROFILES, compressedProfile, type RealProgram } from '../cgminer/real/real-program.profile';
import { StratumPoolSimulator } from '../cgminer/stratum-pool.simulator';
import { GpuMinerSimulator, defaultSimGpus, type GpuMinerFlavor } from '../gpu/gpu-miner-simulator';
import { DEFAULT_HEAT, HeatFault, type HeatParams } from './heat.fault';

export interface FarmPoolSpec {
  /** Referred to by rigs and faults: "pool-a". */
  name: string;
  /** How often the pool sends a new job (default 1 s). */
  notifyIntervalMs?: number;
}

interface FarmRigBase {
  /** The rig id the agent publishes it under. */
  id: string;
  /** Operator labels for the agent config (model, dialect, row, ...). */
  labels?: Record<string, string>;
}

export interface FarmAsicRigSpec extends FarmRigBase {
  kind: 'asic';
  dialect: SimDialect;
  /** Pool names, in the miner's priority order. */
  pools: string[];
  model?: string;
  /** Whatsminer admin password for the API v2 writes (default "admin"). */
  adminPassword?: string;
  /** This rig's own mining options, over the farm's. */
  mining?: MiningOptions;
  /**
   * Impersonate a real program (cgminer 4.11.1 without devices, cgminer 2.11.4 on the CPU, bfgminer 5.5.0 on the
   * CPU): its replies, its own failover/failback delays, hash rate and restart. `dialect` must be "cgminer".
   */
  program?: RealProgram;
  /** Seed of a real program's hash rate and shares. */
  seed?: number;
  /** Divide the program's delays by this (bfgminer's 300 s failback in 30 s with 10), for end-to-end tests. */
  programTimeCompression?: number;
  /**
   * A stock Antminer's web UI next to its cgminer API (dialect "antminer" only, whose API refuses writes): its
   * config holds the rig's pools, and a pool write through it moves the mining after a mining restart.
   */
  web?: FarmWebApiSpec;
}

/** The web UI of a stock Antminer rig (an AntminerWebSimulator paired with the rig's cgminer simulator). */
export interface FarmWebApiSpec {
  /** AntminerWebSimulator personality (default "s19-2020", the JSON generation). */
  personality?: string;
  /** Digest credentials (default root / root). */
  user?: string;
  password?: string;
  /**
   * After a pool write through the web UI mining stops for this long (no hashrate, no shares), then carries on on
   * the written pools, from the first (default 5000 ms; real firmware: 2-3 minutes).
   */
  miningRestartMs?: number;
}

export interface FarmGpuRigSpec extends FarmRigBase {
  kind: 'gpu';
  flavor: GpuMinerFlavor;
  gpus?: number;
}

/**
 * A miner driven through its firmware's own API, not the cgminer API: Braiins OS+ over gRPC (bos-plus-api) or a
 * Whatsminer on API v3 (TCP 4433). Its pools are the farm's by name (its simulator models the mining: shares, its own
 * failover to the next live pool); the farm's pool faults reach it by URL, overheat and cool by the farm's heat.
 */
export interface FarmApiRigSpec extends FarmRigBase {
  kind: 'braiins-grpc' | 'whatsminer-v3';
  /** Pool names, in the miner's priority order (Whatsminer: at most 3). */
  pools: string[];
  model?: string;
  /** Braiins: the gRPC user (default root). */
  user?: string;
  /** Braiins: the gRPC password (default empty); Whatsminer v3: the admin password (default "super"). */
  password?: string;
  /** Braiins: one share per this much hashing (default 2000 ms; the pools' difficulty follows). */
  shareIntervalMs?: number;
  /** How long mining stops after a restart or a pool write (Braiins, default 5000 ms) or a restart (Whatsminer, 2000 ms). */
  restartPauseMs?: number;
  /** Braiins: the nominal power target in W, where it starts (default 3000); any lower target cools an overheating board. */
  powerTargetW?: number;
}

export type FarmRigSpec = FarmAsicRigSpec | FarmGpuRigSpec | FarmApiRigSpec;

/** A rig driven through its firmware's own API (Braiins OS+ gRPC, Whatsminer v3). */
export function isApiRig(rig: FarmRigSpec): rig is FarmApiRigSpec {
  return rig.kind === 'braiins-grpc' || rig.kind === 'whatsminer-v3';
}

/** What a fault does; every target is named (a pool or rig name), so faults can come from another process. */
export type FarmFault =
  | { fault: 'kill-pool'; pool: string }
  | { fault: 'revive-pool'; pool: string }
  | { fault: 'silence-pool'; pool: string }
  | { fault: 'resume-pool'; pool: string }
  | { fault: 'bounce-pool'; pool: string; periodMs?: number }
  | { fault: 'overheat'; rig: string }
  | { fault: 'cool'; rig: string }
  | { fault: 'kill-board'; rig: string; board?: number; sticky?: boolean; broken?: boolean }
  | { fault: 'lose-gpu'; rig: string; gpu?: number }
  | { fault: 'reboot'; rig: string }
  | { fault: 'clear'; rig: string };

export const FARM_FAULTS = [
  'kill-pool', 'revive-pool', 'silence-pool', 'resume-pool', 'bounce-pool', 'overheat', 'cool', 'kill-board', 'lose-gpu', 'reboot', 'clear',
] as const satisfies readonly FarmFault['fault'][];

export interface ScheduledFault {
  /** From the farm's start (plus the schedule's startMs). */
  atMs: number;
  fault: FarmFault;
}

export interface FaultSchedule {
  /** Shifts every step: the first fault comes this much later (or earlier, when negative and steps allow). */
  startMs?: number;
  /** Runs the steps again this long after the schedule began, forever. */
  repeatMs?: number;
  steps: ScheduledFault[];
}

export interface FarmSpec {
  pools: FarmPoolSpec[];
  rigs: FarmRigSpec[];
  /** The pool user every ASIC rig works as (the fleet spec's pools must name the same user). */
  poolUser?: string;
  /** How the ASIC miners mine: silence timeout, own failover and failback, share interval. */
  mining?: MiningOptions;
  heat?: Partial<HeatParams>;
  /** API down time after a restart and after a reboot (default 1 s and 3 s). */
  restartDownMs?: number;
  rebootDownMs?: number;
  /** Small random walks of temperatures, hashrates and fans, like a real farm (default true). */
  drift?: boolean;
  schedule?: FaultSchedule;
}

export interface FarmLogEntry {
  atMs: number;
  fault: FarmFault;
  message: string;
}

export interface AsicRigState {
  id: string;
  kind: 'asic';
  dialect: SimDialect;
  port: number;
  model: string;
  activePool: number;
  pools: Array<{ name: string; url: string; status: string; accepted: number; priority: number }>;
  workMode: number;
  boards: Array<{ alive: boolean; chipTempC: number; hashrateHs: number }>;
  hottestC: number;
  overheating: boolean;
  restarts: number;
  reboots: number;
  poolSwitches: SimPoolSwitch[];
  /** Only on a rig with a web UI (spec `web`). */
  web?: WebApiRigState;
}

export interface WebApiRigState {
  port: number;
  personality: string;
  /** The power mode the web config holds (bitmain-work-mode 0 normal, 3 low, 1 or 254 sleep). */
  powerMode: 'normal' | 'low' | 'sleep' | string;
  /** Config writes the web UI stored (pools, mode, fans). */
  writes: number;
  /** Whether mining is restarting after a pool change. */
  restarting: boolean;
  /** The pools the web config holds, in order, by farm pool name (a URL for a pool the farm does not have). */
  configuredPools: string[];
  /** Every pool change written through the web UI, oldest first. */
  poolChanges: WebPoolChange[];
}

export interface WebPoolChange {
  /** When the write was stored; mining stopped then. */
  atMs: number;
  /** The written pools, by name, in priority order. */
  pools: string[];
  /** The pool mined on before the write. */
  from: string | undefined;
  /** When mining carried on on the written pools (absent while restarting, or when a later write superseded it). */
  resumedAtMs?: number;
  /** The pool mined on once resumed. */
  to?: string;
}

export interface GpuRigState {
  id: string;
  kind: 'gpu';
  flavor: GpuMinerFlavor;
  port: number;
  gpus: Array<{ index: number; lost: boolean; hashrateHs: number; tempC: number }>;
  reboots: number;
}

/** A rig of FarmApiRigSpec as its simulator has it. */
export interface ApiRigState {
  id: string;
  kind: 'braiins-grpc' | 'whatsminer-v3';
  port: number;
  /** The miner's pools, in its order, by farm pool name (a URL for a pool the farm does not have). */
  pools: Array<{ name: string; url: string; alive: boolean; accepted?: number }>;
  /** Index into pools of the pool mined on; absent while it mines on none. */
  activePool?: number;
  hashing: boolean;
  hottestC: number;
  overheating: boolean;
  /** Braiins: the power target in W. */
  powerTargetW?: number;
  /** Whatsminer v3: the power mode (low, normal, high) and the power limit in W. */
  powerMode?: string;
  powerLimitW?: number;
  restarts: number;
  reboots: number;
  /** The writes the miner took through its API, oldest first ("PoolService/SetPoolGroups", "set.miner.mode low", ...). */
  writes: string[];
}

export type RigState = AsicRigState | GpuRigState | ApiRigState;

export interface FarmState {
  pools: Array<{ name: string; url: string; state: PoolRunState }>;
  rigs: RigState[];
  log: FarmLogEntry[];
}

type PoolRunState = 'up' | 'killed' | 'silent' | 'bouncing';

interface FarmPool {
  spec: FarmPoolSpec;
  sim: StratumPoolSimulator;
  state: PoolRunState;
  bounce?: NodeJS.Timeout;
}

interface AsicRig {
  spec: FarmAsicRigSpec;
  sim: CgminerSimulator;
  heat: HeatFault;
  port: number;
  base: Array<{ chipTempC: number; hashrateHs: number }>;
  mining: MiningOptions;
  web?: WebApiRig;
}

interface WebApiRig {
  sim: AntminerWebSimulator;
  port: number;
  restartMs: number;
  /** url + user of the pools the cgminer side mines on, or will once the restart is over. */
  poolsKey: string;
  resume?: NodeJS.Timeout;
  changes: WebPoolChange[];
  /** The config's power mode is sleep: the miner does not hash. */
  asleep: boolean;
}

interface WebPool {
  url: string;
  user: string;
  pass: string;
}

const DEFAULT_WEB_RESTART_MS = 5000;
/** The web config's bitmain-work-mode as the farm's work mode (0 low, 1 normal): 0 normal, 3 low, 1 / 254 sleep. */
const WEB_WORK_MODES: Readonly<Record<string, number>> = { 0: 1, 3: 0, 1: 0, 254: 0 };
const WEB_POWER_MODES: Readonly<Record<string, string>> = { 0: 'normal', 3: 'low', 1: 'sleep', 254: 'sleep' };
const poolsKey = (pools: ReadonlyArray<{ url: string; user: string }>): string => pools.map((p) => `${p.url}\n${p.user}`).join('\n\n');

interface ApiRig {
  spec: FarmApiRigSpec;
  port: number;
  braiins?: BraiinsGrpcSimulator;
  whatsminer?: WhatsminerV3Simulator;
  overheating: boolean;
}

interface GpuRig {
  spec: FarmGpuRigSpec;
  sim: GpuMinerSimulator;
  port: number;
  reboots: number;
  base: Array<{ tempC: number; hashrateHs: number }>;
}

const TICK_MS = 1000;
const WORK_MODE_HASHRATE: Readonly<Record<number, number>> = { 0: 0.8, 1: 1, 2: 1.15 };
/** No scheduled fault before the miners have joined their pools (a pool hung before that is merely never used). */
const FIRST_FAULT_MS = 2000;

/** Thrown for a fault that names something the farm does not have; the message says what it has. */
export class FarmFaultError extends Error {
  override readonly name = 'FarmFaultError';
}

/**
 * A simulated farm on loopback: stratum pools, ASIC miners of every dialect mining on them, GPU miners, and
 * faults that hit them by name (from a schedule, or from another process through the control server). Miners
 * answer commands as their firmware does: switchpool moves them, a work mode cools an overheating board, a
 * restart revives a board only when its fault allows, a reboot (rebootCommand -> control server) revives all.
 */
export class SimFarm {
  readonly log: FarmLogEntry[] = [];
  private readonly pools = new Map<string, FarmPool>();
  private readonly asics = new Map<string, AsicRig>();
  private readonly gpus = new Map<string, GpuRig>();
  private readonly apis = new Map<string, ApiRig>();
  private tick: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastTickMs: number;
  private startedAtMs: number;

  private constructor(readonly spec: FarmSpec, private readonly now: () => number) {
    this.lastTickMs = now();
    this.startedAtMs = now();
  }

  static async start(spec: FarmSpec, options: { now?: () => number; onFault?: (entry: FarmLogEntry) => void } = {}): Promise<SimFarm> {
    const farm = new SimFarm(spec, options.now ?? (() => Date.now()));
    farm.onFault = options.onFault;
    try {
      await farm.boot();
    } catch (err) {
      await farm.stop();
      throw err;
    }
    return farm;
  }

  private onFault: ((entry: FarmLogEntry) => void) | undefined;

  private async boot(): Promise<void> {
    const names = new Set<string>();
    for (const p of this.spec.pools) {
      if (names.has(p.name)) throw new FarmFaultError(`pool "${p.name}" is listed twice`);
      names.add(p.name);
      const sim = new StratumPoolSimulator({ notifyIntervalMs: p.notifyIntervalMs });
      this.pools.set(p.name, { spec: p, sim, state: 'up' });
      await sim.start();
    }
    const heat: HeatParams = { ...DEFAULT_HEAT, ...this.spec.heat };
    const user = this.spec.poolUser ?? 'rigwarden.demo';
    const now = this.now();
    for (const r of this.spec.rigs) {
      if (this.asics.has(r.id) || this.gpus.has(r.id) || this.apis.has(r.id)) throw new FarmFaultError(`rig "${r.id}" is listed twice`);
      if (isApiRig(r)) {
        this.apis.set(r.id, await this.startApiRig(r, user));
        continue;
      }
      if (r.kind === 'asic') {
        const pools = r.pools.map((name, priority) => {
          const pool = this.pools.get(name) ?? this.fail(`rig ${r.id} names pool "${name}"; the farm has: ${[...this.pools.keys()].join(', ')}`);
          return { url: pool.sim.url, user, status: 'Alive' as const, priority, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 };
        });
        const profile = r.program ? compressedProfile(REAL_PROGRAM_PROFILES[r.program], r.programTimeCompression ?? 1) : undefined;
        const mining: MiningOptions = profile
          ? { silenceTimeoutMs: profile.silenceDeadMs, ...r.mining }
          : { silenceTimeoutMs: 90_000, ...this.spec.mining, ...r.mining };
        const sim = new CgminerSimulator({
          dialect: r.dialect, adminPassword: r.adminPassword, now: this.now, program: r.program, seed: r.seed, programTimeCompression: r.programTimeCompression,
          restartDownMs: profile ? this.spec.restartDownMs : this.spec.restartDownMs ?? 1000,
          state: {
            pools, activePool: 0, accepted: 0, rejected: 0, stale: 0, ...(r.model ? { model: r.model } : {}),
            ...(mining.ownFailover === false ? { flagsDeadActivePool: true } : {}),
          },
        });
        const { port } = await sim.start();
        if (pools.length > 0) sim.startMining(mining);
        // A well-cooled farm: chips in the high 60s, clear of a thermal policy's usual 80 °C.
        sim.state.boards.forEach((b, i) => {
          b.chipTempC = 66 + i + Math.round(Math.random() * 20) / 10;
          b.tempC = Math.round((b.chipTempC - 8) * 10) / 10;
        });
        const base = sim.state.boards.map((b) => ({ chipTempC: b.chipTempC!, hashrateHs: b.hashrateHs }));
        const rig: AsicRig = { spec: r, sim, heat: new HeatFault(sim.state, heat), port, base, mining };
        this.asics.set(r.id, rig);
        if (r.web) rig.web = await this.startWeb(rig, r.web);
      } else if (r.kind === 'gpu') {
        const gpus = defaultSimGpus(r.gpus ?? 4, r.flavor === 'lolminer' ? 'amd' : 'nvidia');
        const sim = new GpuMinerSimulator({ flavor: r.flavor, now: this.now, state: { gpus, startedAtMs: now - 600_000 } });
        const { port } = await sim.start();
        this.gpus.set(r.id, { spec: r, sim, port, reboots: 0, base: gpus.map((g) => ({ tempC: g.tempC, hashrateHs: g.hashrateHs })) });
      }
    }
    this.tick = setInterval(() => this.step(), TICK_MS);
    this.tick.unref();
    if (this.spec.schedule) this.schedule(this.spec.schedule);
  }

  /** A miner behind its firmware's own API, on the farm's pools by URL. */
  private async startApiRig(r: FarmApiRigSpec, user: string): Promise<ApiRig> {
    const urls = r.pools.map((name) => (this.pools.get(name) ?? this.fail(`rig ${r.id} names pool "${name}"; the farm has: ${[...this.pools.keys()].join(', ')}`)).sim.url);
    if (r.kind === 'braiins-grpc') {
      const sim = new BraiinsGrpcSimulator({
        username: r.user ?? 'root', password: r.password ?? '', now: this.now, lifetimeMs: 2 ** 31 - 1,
        ...(r.model ? { model: r.model } : {}), ...(r.shareIntervalMs !== undefined ? { shareIntervalMs: r.shareIntervalMs } : {}),
        ...(r.restartPauseMs !== undefined ? { restartPauseMs: r.restartPauseMs } : {}),
        nominalPowerW: r.powerTargetW ?? 3000, powerTargetW: r.powerTargetW ?? 3000,
        pools: [{ name: 'Default', quota: 1, pools: urls.map((url) => ({ url, user, password: 'x', enabled: true })) }],
      });
      const port = await sim.start();
      return { spec: r, port, braiins: sim, overheating: false };
    }
    if (urls.length > 3) this.fail(`rig ${r.id}: a Whatsminer holds 3 pools; got ${urls.length}`);
    const sim = new WhatsminerV3Simulator({
      now: this.now, ...(r.password !== undefined ? { password: r.password } : {}), ...(r.model ? { model: r.model } : {}),
      ...(r.restartPauseMs !== undefined ? { restartPauseMs: r.restartPauseMs } : {}),
      pools: urls.map((url) => ({ url, user, passwd: 'x' })),
    });
    const { port } = await sim.start();
    return { spec: r, port, whatsminer: sim, overheating: false };
  }

  /** The miners of the API rigs that mine on this pool URL, for the pool faults. */
  private apiPoolFault(url: string, reachable: boolean | undefined, silent: boolean | undefined): void {
    for (const rig of this.apis.values()) {
      if (rig.braiins) {
        if (reachable === false) rig.braiins.state.killPool(url);
        if (reachable === true) rig.braiins.state.revivePool(url);
        if (silent === true) rig.braiins.state.silencePool(url);
        if (silent === false) rig.braiins.state.resumePool(url);
      }
      // API v3 shows no share counters: a silent pool looks like a healthy one there, so only outages reach it.
      if (rig.whatsminer && reachable !== undefined) rig.whatsminer.setPoolReachable(url, reachable);
    }
  }

  /** Overheat (true) or cool (false) an API rig with the farm's heat. */
  private apiHeat(rig: ApiRig, on: boolean): string {
    const heat: HeatParams = { ...DEFAULT_HEAT, ...this.spec.heat };
    rig.overheating = on;
    if (rig.braiins) {
      const nominal = rig.spec.powerTargetW ?? 3000;
      if (on) rig.braiins.state.overheat({ hotC: heat.hotC, coolC: heat.coolC, hotAboveW: nominal - 1, rampCPerS: heat.rampCPerS });
      else rig.braiins.state.cool();
      return on ? `rig ${rig.spec.id} overheating: heading for ${heat.hotC} °C at its ${nominal} W power target, ${heat.coolC} °C below it` : `rig ${rig.spec.id} cooling back to normal`;
    }
    if (on) rig.whatsminer!.overheat({ hotC: heat.hotC, coolC: heat.coolC, rampCPerS: heat.rampCPerS });
    else rig.whatsminer!.cool();
    return on ? `rig ${rig.spec.id} overheating: heading for ${heat.hotC} °C out of the low power mode, ${heat.coolC} °C in it` : `rig ${rig.spec.id} cooling back to normal`;
  }

  /** The rig's web UI, its config holding the rig's pools; a pool write there restarts the mining on them. */
  private async startWeb(rig: AsicRig, spec: FarmWebApiSpec): Promise<WebApiRig> {
    const id = rig.spec.id;
    if (rig.spec.dialect !== 'antminer') this.fail(`rig ${id}: a web UI needs dialect "antminer" (stock firmware); got "${rig.spec.dialect}"`);
    if (rig.spec.pools.length > 3) this.fail(`rig ${id}: a stock Antminer's config holds 3 pools; got ${rig.spec.pools.length}`);
    const restartMs = spec.miningRestartMs ?? DEFAULT_WEB_RESTART_MS;
    if (!Number.isInteger(restartMs) || restartMs < 0) this.fail(`rig ${id}: web.miningRestartMs must be a whole number of ms, 0 or more; got ${spec.miningRestartMs}`);
    const pools = rig.sim.state.pools;
    const sim = new AntminerWebSimulator({
      personality: spec.personality, user: spec.user, password: spec.password, miningRestartMs: restartMs, now: this.now,
      afterWrite: (conf) => this.webWritten(rig, web, conf),
      live: () => this.webLive(rig),
    });
    const web: WebApiRig = { sim, port: 0, restartMs, poolsKey: poolsKey(pools), changes: [], asleep: false };
    sim.state.conf['pools'] = [0, 1, 2].map((i) => ({ url: pools[i]?.url ?? '', user: pools[i]?.user ?? '', pass: pools[i] ? 'x' : '' }));
    web.port = (await sim.start()).port;
    return web;
  }

  /**
   * What the web UI's stats.cgi, summary.cgi and pools.cgi show: the rig's own miner (on the firmware both the CGI
   * scripts and the cgminer API ask bmminer), so the two views of one rig agree: its boards' hashrates and
   * temperatures (an overheat or a dead board shows on both), its fans, its pools with their counters.
   */
  private webLive(rig: AsicRig): AntminerWebLive {
    const s = rig.sim.state;
    return {
      elapsedS: Math.max(0, Math.floor(this.now() / 1000) - s.startedAtS),
      chains: s.boards.map((b) => ({ rateGhs: b.alive ? b.hashrateHs / 1e9 : 0, chipC: b.chipTempC ?? b.tempC + 8, pcbC: b.tempC, hw: b.hwErrors })),
      fans: [...s.fans],
      pools: s.pools.map((p) => ({ url: p.url, user: p.user, alive: p.status === 'Alive', priority: p.priority, accepted: p.accepted, rejected: p.rejected, stale: p.stale })),
    };
  }

  /**
   * A config write through the web UI. Its work mode becomes the rig's (normal = farm work mode 1, low = 0, so an
   * overheating board cools at low; sleep = 0 and no hashing). When it changed the pools, bmminer restarts: the
   * cgminer side stops mining (its API keeps answering with the old pools), and after the restart mines on the
   * written pools from the first.
   */
  private webWritten(rig: AsicRig, web: WebApiRig, conf: Record<string, unknown>): void {
    const mode = String(conf['bitmain-work-mode'] ?? '0');
    rig.sim.state.workMode = WEB_WORK_MODES[mode] ?? 1;
    const asleep = WEB_POWER_MODES[mode] === 'sleep';
    const written = (Array.isArray(conf['pools']) ? conf['pools'] as Array<Record<string, unknown>> : [])
      .map((p) => ({ url: String(p['url'] ?? ''), user: String(p['user'] ?? ''), pass: String(p['pass'] ?? '') }))
      .filter((p) => p.url !== '');
    const key = poolsKey(written);
    const wasAsleep = web.asleep;
    web.asleep = asleep;
    if (key === web.poolsKey) {
      // A mode or fan write: mining carries on, or stops for sleep and starts again on waking.
      if (web.resume) return;
      if (asleep && !wasAsleep) rig.sim.stopMining();
      if (!asleep && wasAsleep && written.length > 0) rig.sim.startMining(rig.mining);
      return;
    }
    web.poolsKey = key;
    if (web.resume) {
      clearTimeout(web.resume);
      this.timers.delete(web.resume);
    }
    rig.sim.stopMining();
    const active = rig.sim.state.pools[rig.sim.state.activePool];
    const change: WebPoolChange = { atMs: this.now(), pools: written.map((p) => this.poolName(p.url)), from: active && this.poolName(active.url) };
    web.changes.push(change);
    if (web.changes.length > 100) web.changes.shift();
    const resume = setTimeout(() => {
      this.timers.delete(resume);
      web.resume = undefined;
      this.resumeMining(rig, written, change);
    }, web.restartMs);
    resume.unref();
    web.resume = resume;
    this.timers.add(resume);
  }

  private resumeMining(rig: AsicRig, written: WebPool[], change: WebPoolChange): void {
    const s = rig.sim.state;
    const before = s.activePool;
    const old = s.pools;
    s.pools = written.map((p, priority): SimPool => {
      const kept = old.find((o) => o.url === p.url && o.user === p.user);
      return {
        url: p.url, user: p.user, password: p.pass, status: 'Alive', priority,
        accepted: kept?.accepted ?? 0, rejected: kept?.rejected ?? 0, stale: kept?.stale ?? 0, lastShareTime: kept?.lastShareTime ?? 0,
      };
    });
    s.activePool = 0;
    if (written.length > 0 && !rig.web?.asleep) rig.sim.startMining(rig.mining);
    const now = s.pools[s.activePool];
    change.resumedAtMs = this.now();
    change.to = now && this.poolName(now.url);
    if (old[before]?.url !== now?.url) rig.sim.poolSwitches.push({ atMs: this.now(), from: before, to: s.activePool, by: 'api' });
  }

  /** A pool's farm name from its URL (the URL itself for a pool the farm does not have). */
  private poolName(url: string): string {
    for (const p of this.pools.values()) if (p.sim.url === url) return p.spec.name;
    return url;
  }

  private fail(message: string): never {
    throw new FarmFaultError(message);
  }

  /** Where the agent finds each rig's miner API (port) and, on a rig with a web UI, that (webPort). */
  endpoints(): Array<{ rig: FarmRigSpec; host: string; port: number; webPort?: number }> {
    return [
      ...[...this.asics.values()].map((a) => ({ rig: a.spec as FarmRigSpec, host: '127.0.0.1', port: a.port, ...(a.web ? { webPort: a.web.port } : {}) })),
      ...[...this.gpus.values()].map((g) => ({ rig: g.spec as FarmRigSpec, host: '127.0.0.1', port: g.port })),
      ...[...this.apis.values()].map((a) => ({ rig: a.spec as FarmRigSpec, host: '127.0.0.1', port: a.port })),
    ].sort((a, b) => this.spec.rigs.indexOf(a.rig) - this.spec.rigs.indexOf(b.rig));
  }

  poolUrl(name: string): string {
    return this.pool(name).sim.url;
  }

  /** The simulators themselves, for in-process tests. */
  asic(id: string): CgminerSimulator {
    return this.asicRig(id).sim;
  }

  /** A rig's web UI simulator (spec `web`). */
  web(id: string): AntminerWebSimulator {
    const web = this.asicRig(id).web;
    if (!web) this.fail(`rig "${id}" has no web UI; rigs with one: ${[...this.asics.values()].filter((a) => a.web).map((a) => a.spec.id).join(', ') || '(none)'}`);
    return web.sim;
  }

  /** A Braiins OS+ rig's gRPC simulator (kind braiins-grpc). */
  braiins(id: string): BraiinsGrpcSimulator {
    return this.apis.get(id)?.braiins ?? this.fail(`no braiins-grpc rig "${id}"`);
  }

  /** A Whatsminer v3 rig's simulator (kind whatsminer-v3). */
  whatsminerV3(id: string): WhatsminerV3Simulator {
    return this.apis.get(id)?.whatsminer ?? this.fail(`no whatsminer-v3 rig "${id}"`);
  }

  gpu(id: string): GpuMinerSimulator {
    const rig = this.gpus.get(id);
    if (!rig) this.fail(`no GPU rig "${id}"; GPU rigs: ${[...this.gpus.keys()].join(', ') || '(none)'}`);
    return rig.sim;
  }

  private pool(name: string): FarmPool {
    return this.pools.get(name) ?? this.fail(`no pool "${name}"; pools: ${[...this.pools.keys()].join(', ')}`);
  }

  private asicRig(id: string): AsicRig {
    return this.asics.get(id) ?? this.fail(`no ASIC rig "${id}"; ASIC rigs: ${[...this.asics.keys()].join(', ') || '(none)'}`);
  }

  /** Injects one fault; returns what happened in words. Throws FarmFaultError for unknown targets. */
  async apply(fault: FarmFault): Promise<string> {
    const message = await this.run(fault);
    const entry = { atMs: this.now(), fault, message };
    this.log.push(entry);
    if (this.log.length > 500) this.log.shift();
    this.onFault?.(entry);
    return message;
  }

  private async run(f: FarmFault): Promise<string> {
    switch (f.fault) {
      case 'kill-pool': {
        const pool = this.pool(f.pool);
        this.stopBounce(pool);
        await pool.sim.kill();
        pool.state = 'killed';
        this.apiPoolFault(pool.sim.url, false, undefined);
        return `pool ${f.pool} killed (connections reset, port closed)`;
      }
      case 'revive-pool': {
        const pool = this.pool(f.pool);
        this.stopBounce(pool);
        if (pool.state === 'killed' || pool.state === 'bouncing') await this.restartPool(pool);
        pool.sim.resume();
        pool.state = 'up';
        this.apiPoolFault(pool.sim.url, true, false);
        return `pool ${f.pool} back up`;
      }
      case 'silence-pool': {
        const pool = this.pool(f.pool);
        pool.sim.silence();
        pool.state = 'silent';
        this.apiPoolFault(pool.sim.url, undefined, true);
        return `pool ${f.pool} silent (sockets open, no jobs, no share answers)`;
      }
      case 'resume-pool': {
        const pool = this.pool(f.pool);
        pool.sim.resume();
        if (pool.state === 'silent') pool.state = 'up';
        this.apiPoolFault(pool.sim.url, undefined, false);
        return `pool ${f.pool} answering again`;
      }
      case 'bounce-pool': {
        const pool = this.pool(f.pool);
        const periodMs = f.periodMs ?? 3000;
        if (!Number.isFinite(periodMs) || periodMs < 200) this.fail(`bounce-pool periodMs must be 200 or more; got ${f.periodMs}`);
        this.stopBounce(pool);
        pool.state = 'bouncing';
        let down = false;
        const flip = async (): Promise<void> => {
          down = !down;
          if (down) await pool.sim.kill();
          else await this.restartPool(pool);
        };
        await flip();
        pool.bounce = setInterval(() => void flip().catch(() => undefined), periodMs);
        pool.bounce.unref();
        return `pool ${f.pool} bouncing: down and up every ${periodMs} ms (revive-pool stops it)`;
      }
      case 'overheat': {
        const api = this.apis.get(f.rig);
        if (api) return this.apiHeat(api, true);
        const rig = this.asicRig(f.rig);
        rig.heat.start();
        const p = rig.heat.params;
        return `rig ${f.rig} overheating: heading for ${p.hotC} °C at work mode ${p.hotFromWorkMode} or above, ${p.coolC} °C below`;
      }
      case 'cool': {
        const api = this.apis.get(f.rig);
        if (api) return this.apiHeat(api, false);
        this.asicRig(f.rig).heat.stop();
        return `rig ${f.rig} cooling back to normal`;
      }
      case 'kill-board': {
        const rig = this.asicRig(f.rig);
        const board = f.board ?? 0;
        if (!Number.isInteger(board) || board < 0 || board >= rig.sim.state.boards.length) {
          this.fail(`rig ${f.rig} has boards 0-${rig.sim.state.boards.length - 1}; got ${f.board}`);
        }
        rig.sim.killBoard(board, { clearedByRestart: f.sticky === false, broken: f.broken === true });
        const how = f.broken ? 'broken: neither a restart nor a reboot brings it back, clear does'
          : f.sticky === false ? 'a miner restart brings it back' : 'sticky: survives a miner restart, a reboot brings it back';
        return `rig ${f.rig} board ${board} dead (${how})`;
      }
      case 'lose-gpu': {
        const rig = this.gpus.get(f.rig) ?? this.fail(`no GPU rig "${f.rig}"; GPU rigs: ${[...this.gpus.keys()].join(', ') || '(none)'}`);
        const gpu = f.gpu ?? 0;
        rig.sim.loseGpu(gpu);
        return `rig ${f.rig} GPU ${gpu} fell off the bus (a reboot brings it back)`;
      }
      case 'reboot': {
        const api = this.apis.get(f.rig);
        if (api?.braiins) {
          api.braiins.state.reboot();
          return `rig ${f.rig} rebooted`;
        }
        if (api) this.fail(`rig ${f.rig}: reboot it through its API (set.system.reboot)`);
        const asic = this.asics.get(f.rig);
        if (asic) {
          asic.sim.reboot(this.spec.rebootDownMs ?? 3000);
          return `rig ${f.rig} rebooted`;
        }
        const gpu = this.gpus.get(f.rig) ?? this.fail(`no rig "${f.rig}"`);
        gpu.reboots++;
        for (const g of gpu.sim.state.gpus) g.lost = false;
        gpu.sim.state.startedAtMs = this.now();
        return `rig ${f.rig} rebooted`;
      }
      case 'clear': {
        const api = this.apis.get(f.rig);
        if (api) {
          this.apiHeat(api, false);
          api.braiins?.state.deadBoards.clear();
          return `rig ${f.rig} healthy again`;
        }
        const asic = this.asics.get(f.rig);
        if (asic) {
          asic.heat.stop();
          asic.sim.reviveBoards();
          return `rig ${f.rig} healthy again`;
        }
        const gpu = this.gpus.get(f.rig) ?? this.fail(`no rig "${f.rig}"`);
        for (const g of gpu.sim.state.gpus) g.lost = false;
        return `rig ${f.rig} healthy again`;
      }
    }
  }

  private stopBounce(pool: FarmPool): void {
    clearInterval(pool.bounce);
    pool.bounce = undefined;
  }

  private async restartPool(pool: FarmPool): Promise<void> {
    await pool.sim.kill();
    await pool.sim.start();
  }

  private schedule(schedule: FaultSchedule): void {
    const shift = schedule.startMs ?? 0;
    const runSteps = (): void => {
      for (const step of schedule.steps) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.apply(step.fault).catch((err: unknown) => {
            this.log.push({ atMs: this.now(), fault: step.fault, message: `failed: ${(err as Error).message}` });
          });
        }, Math.max(FIRST_FAULT_MS, step.atMs + shift));
        timer.unref();
        this.timers.add(timer);
      }
    };
    runSteps();
    if (schedule.repeatMs !== undefined && schedule.repeatMs > 0) {
      const repeat = setInterval(runSteps, schedule.repeatMs);
      repeat.unref();
      this.timers.add(repeat);
    }
  }

  /** One second of farm life: heat ramps, drift, GPU shares. */
  private step(): void {
    const now = this.now();
    const elapsed = now - this.lastTickMs;
    this.lastTickMs = now;
    const drift = this.spec.drift !== false;
    const wobble = (value: number, base: number, spread: number): number => value + (base - value) * 0.2 + (Math.random() - 0.5) * spread;
    for (const rig of this.asics.values()) {
      rig.heat.tick(elapsed);
      // The work mode sets the hashrate: low 80 %, normal 100 %, high 115 % of the board's nominal rate.
      const factor = WORK_MODE_HASHRATE[rig.sim.state.workMode ?? 1] ?? 1;
      rig.sim.state.boards.forEach((b, i) => {
        const base = rig.base[i];
        if (!base) return;
        const target = base.hashrateHs * factor;
        if (!drift) {
          b.hashrateHs = target;
          return;
        }
        if (!rig.heat.engaged) {
          const chip = Math.round(wobble(b.chipTempC ?? base.chipTempC, base.chipTempC, 1.2) * 10) / 10;
          b.chipTempC = chip;
          b.tempC = Math.round((chip - 8) * 10) / 10;
        }
        b.hashrateHs = Math.max(0, wobble(b.hashrateHs, target, base.hashrateHs * 0.01));
      });
      if (!drift) continue;
      rig.sim.state.fans = rig.sim.state.fans.map((rpm) => (rpm === 0 ? 0 : Math.round(wobble(rpm, 5500, 60))));
    }
    for (const rig of this.gpus.values()) {
      rig.sim.state.gpus.forEach((g, i) => {
        const base = rig.base[i];
        if (!base || g.lost) return;
        if (drift) {
          g.tempC = Math.round(wobble(g.tempC, base.tempC, 1));
          g.hashrateHs = Math.max(0, wobble(g.hashrateHs, base.hashrateHs, base.hashrateHs * 0.01));
        }
        if (Math.random() < elapsed / 10_000) g.accepted++;
      });
    }
  }

  state(): FarmState {
    return {
      pools: [...this.pools.values()].map((p) => ({ name: p.spec.name, url: p.sim.url, state: p.state })),
      rigs: this.spec.rigs.map((r) => this.rigState(r.id)),
      log: [...this.log],
    };
  }

  rigState(id: string): RigState {
    const asic = this.asics.get(id);
    if (asic) {
      const s = asic.sim.state;
      const names = new Map([...this.pools.values()].map((p) => [p.sim.url, p.spec.name]));
      return {
        id, kind: 'asic', dialect: asic.spec.dialect, port: asic.port, model: s.model, activePool: s.activePool,
        pools: s.pools.map((p) => ({ name: names.get(p.url) ?? p.url, url: p.url, status: p.status, accepted: p.accepted, priority: p.priority })),
        workMode: s.workMode ?? 1,
        boards: s.boards.map((b) => ({ alive: b.alive, chipTempC: b.chipTempC ?? b.tempC, hashrateHs: b.alive ? b.hashrateHs : 0 })),
        hottestC: Math.max(...s.boards.map((b) => b.chipTempC ?? b.tempC)),
        overheating: asic.heat.active,
        restarts: asic.sim.restarts,
        reboots: asic.sim.reboots,
        poolSwitches: [...asic.sim.poolSwitches],
        ...(asic.web ? { web: this.webState(asic.web) } : {}),
      };
    }
    const api = this.apis.get(id);
    if (api) return this.apiState(api);
    const gpu = this.gpus.get(id) ?? this.fail(`no rig "${id}"; rigs: ${this.spec.rigs.map((r) => r.id).join(', ')}`);
    return {
      id, kind: 'gpu', flavor: gpu.spec.flavor, port: gpu.port, reboots: gpu.reboots,
      gpus: gpu.sim.state.gpus.map((g) => ({ index: g.index, lost: g.lost, hashrateHs: gpu.sim.view(g).hashrateHs, tempC: gpu.sim.view(g).tempC })),
    };
  }

  private apiState(rig: ApiRig): ApiRigState {
    const base = { id: rig.spec.id, kind: rig.spec.kind, port: rig.port, overheating: rig.overheating };
    if (rig.braiins) {
      const sim = rig.braiins;
      const st = sim.state;
      const pools = st.groups.flatMap((g) => g.pools);
      const active = st.activePool();
      const activeUrl = active ? st.groups[active.group]!.pools[active.pool]!.url : undefined;
      const index = activeUrl === undefined ? -1 : pools.findIndex((p) => p.url === activeUrl);
      return {
        ...base, hashing: st.hashing, hottestC: st.chipTempC(st.boards), powerTargetW: st.powerTargetW, restarts: st.restarts, reboots: st.reboots,
        pools: pools.map((p) => ({ name: this.poolName(p.url), url: p.url, alive: st.poolAlive(p.url), accepted: st.acceptedShares(p.url) })),
        ...(index >= 0 ? { activePool: index } : {}),
        writes: sim.calls.filter((c) => /\/(Set|Update|Remove|Create|Pause|Resume|Restart|Reboot|Start|Stop)/.test(c.method)).map((c) => c.method),
      };
    }
    const sim = rig.whatsminer!;
    const st = sim.state;
    const active = sim.activePool();
    return {
      ...base, hashing: sim.hashing(), hottestC: sim.chipTempMaxC(2), powerMode: st.mode, powerLimitW: st.powerLimitW, restarts: st.restarts, reboots: st.reboots,
      pools: st.pools.map((p) => ({ name: this.poolName(p.url), url: p.url, alive: sim.poolReachable(p.url) })),
      ...(active !== undefined ? { activePool: active } : {}),
      writes: sim.requests.map((r) => r.body).filter((b): b is Record<string, unknown> => b !== undefined && typeof b['cmd'] === 'string' && (b['cmd'] as string).startsWith('set.'))
        .map((b) => (b['cmd'] === 'set.miner.pools' ? 'set.miner.pools' : `${String(b['cmd'])} ${JSON.stringify(b['param'])}`)),
    };
  }

  private webState(web: WebApiRig): WebApiRigState {
    const conf = Array.isArray(web.sim.state.conf['pools']) ? web.sim.state.conf['pools'] as Array<Record<string, unknown>> : [];
    return {
      port: web.port, personality: web.sim.personality.name, powerMode: WEB_POWER_MODES[String(web.sim.state.conf['bitmain-work-mode'] ?? '0')] ?? String(web.sim.state.conf['bitmain-work-mode']),
      writes: web.sim.state.writes, restarting: web.resume !== undefined,
      configuredPools: conf.map((p) => String(p['url'] ?? '')).filter((url) => url !== '').map((url) => this.poolName(url)),
      poolChanges: web.changes.map((c) => ({ ...c, pools: [...c.pools] })),
    };
  }

  /** How long the farm has run. */
  uptimeMs(): number {
    return this.now() - this.startedAtMs;
  }

  async stop(): Promise<void> {
    clearInterval(this.tick);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const pool of this.pools.values()) this.stopBounce(pool);
    await Promise.all([
      ...[...this.asics.values()].map((a) => a.sim.stop()),
      ...[...this.asics.values()].map((a) => a.web?.sim.stop()),
      ...[...this.gpus.values()].map((g) => g.sim.stop()),
      ...[...this.apis.values()].map((a) => (a.braiins ?? a.whatsminer)!.stop()),
      ...[...this.pools.values()].map((p) => p.sim.stop()),
    ]);
  }
}
