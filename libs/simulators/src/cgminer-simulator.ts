import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DIALECT_DEFAULTS, FLAVOR_SOFTWARE, personalityFor } from './cgminer/personalities';
import type { GenericFlavor } from './cgminer/generic.personality';
import type { CgminerPersonality, SimContext, SimDialect, SimReply } from './cgminer/personality';
import { StratumMiningEngine, type MiningOptions } from './cgminer/stratum-mining.engine';
import { applyThermals } from './cgminer/thermal.model';
import { RealProgramModel } from './cgminer/real/real-program.model';
import { REAL_PROGRAM_PROFILES, compressedProfile, type RealProgram } from './cgminer/real/real-program.profile';
import { realProgramPersonality, realProgramState } from './cgminer/real/real-programs.personality';

export interface SimBoard {
  hashrateHs: number;
  tempC: number;
  chipTempC?: number;
  chips?: number;
  hwErrors: number;
  alive: boolean;
  /** Chip frequency; ascset frequency scales the hashrate with it. */
  frequencyMhz?: number;
}

export interface SimPool {
  url: string;
  user: string;
  status: 'Alive' | 'Dead' | 'Disabled';
  priority: number;
  accepted: number;
  rejected: number;
  stale: number;
  /** Unix seconds; 0 = never. */
  lastShareTime: number;
  password?: string;
  /** Set by a real program's model (options.program): the pool's own "Stratum Active" flag, which may be true on two pools. */
  stratumActive?: boolean;
  /** The difficulty the miner works at on this pool, and what it has been credited (real programs). */
  workDifficulty?: number;
  difficultyAccepted?: number;
  lastShareDifficulty?: number;
  /** "Diff1 Shares": the difficulty of every share found for this pool, counted when found (cgminer's
   * update_work_stats), before the pool answers: on a hung pool it grows while accepted stands still. */
  diff1Shares?: number;
}

export interface CgminerSimState {
  model: string;
  /** cgminer version string reported by `version`. */
  software: string;
  startedAtS: number;
  boards: SimBoard[];
  /** Fan speeds in RPM, fan1..fanN. */
  fans: number[];
  pools: SimPool[];
  /** Index into pools of the pool the miner is hashing on. */
  activePool: number;
  accepted: number;
  rejected: number;
  stale: number;
  powerW?: number;
  /** Work mode set through ascset (Avalon/LuxOS) or the Whatsminer API. */
  workMode?: number;
  /** Intake air temperature; when set, board temperatures follow frequency, fans and ambient (thermal.model.ts). */
  ambientC?: number;
  /** With ambientC: a board whose chips pass this temperature shuts down, like bmminer's overheat protection. */
  overheatShutdownC?: number;
  /**
   * Accepted shares per minute credited to the active pool as the injected clock advances, for demos that do not
   * run stratum pools (with `startMining` the pools' answers count instead). 1 % of them are rejected.
   */
  sharesPerMinute?: number;
  /**
   * A miner without failover of its own keeps naming the pool it was told to use ("Stratum Active") even while that
   * pool is dead; cgminer drops the flag, and fails over by itself.
   */
  flagsDeadActivePool?: boolean;
}

/** How the simulated miner misbehaves, to exercise the client's error paths. */
export type CgminerSimFault =
  | 'none'
  | 'close-without-reply' // not in --api-allow: FIN with zero bytes
  | 'hang'                // accept, never answer
  | 'no-nul'              // reply, then keep the socket open without a NUL
  | 'garbage'             // reply bytes that are not JSON
  | 'slow'                // answer after slowMs
  | 'crash-on-write';     // a privileged command kills the process mid-command: no reply, API gone

/** One change of the active pool: `by` says whether an API client or the miner itself made it. */
export interface SimPoolSwitch {
  atMs: number;
  from: number;
  to: number;
  by: 'api' | 'miner';
}

export interface CgminerSimulatorOptions {
  /** 127.0.0.1 by default; any 127.x address works on Linux (for discovery scans). */
  host?: string;
  port?: number;
  state?: Partial<CgminerSimState>;
  /** Clock in ms; defaults to the wall clock. Used for "When", elapsed and restart downtime. */
  now?: () => number;
  /** Write access for privileged commands (switchpool, restart). */
  writeAccess?: boolean;
  /** Whether multi-commands ("summary+pools") are answered joined (cgminer >= 3) or refused (Code 14). */
  joinCommands?: boolean;
  /** Which firmware to impersonate; generic cgminer 4.11.1 by default. */
  dialect?: SimDialect;
  /** For the generic dialect: cgminer 4.x (default), cgminer 2.x (no joins, invalid restart reply) or bfgminer. */
  flavor?: GenericFlavor;
  /** How long the API stays away after `restart` (real miners: 3 to 7 s). */
  restartDownMs?: number;
  /** Delay of the 'slow' fault. */
  slowMs?: number;
  /** Whatsminer admin password for the v2 write API. */
  adminPassword?: string;
  /** Stops the server by itself after this long, so a forgotten simulator cannot keep a test run alive. */
  lifetimeMs?: number;
  /**
   * Impersonate one of the real programs recorded in shared/fixtures/cgminer-real and shared/traces: their exact
   * replies, their own failover and failback delays, "Stratum Active" rules, hash rate and restart (see
   * cgminer/real/). Overrides dialect and flavor; restartDownMs, when given, overrides the program's.
   */
  program?: RealProgram;
  /** Seed of a real program's hash rate walk and share finds (default 1). */
  seed?: number;
  /** Divide a real program's delays (return to Alive, failback, silence, restart) by this, for end-to-end tests. */
  programTimeCompression?: number;
}

const PRIVILEGED = new Set(['switchpool', 'restart', 'enablepool', 'disablepool', 'addpool', 'removepool', 'poolpriority', 'quit', 'ascset']);

export function defaultSimState(nowS: number): CgminerSimState {
  return {
    model: 'Rigwarden SimASIC X1',
    software: '4.11.1',
    startedAtS: nowS - 3600,
    boards: [0, 1, 2].map((i) => ({ hashrateHs: 30e12 + i * 1e11, tempC: 60 + i, chipTempC: 75 + i, chips: 76, hwErrors: i, alive: true })),
    fans: [5400, 5460, 5520, 5580],
    pools: [
      { url: 'stratum+tcp://pool-a.example:3333', user: 'farm.worker1', status: 'Alive', priority: 0, accepted: 1200, rejected: 3, stale: 1, lastShareTime: nowS - 5 },
      { url: 'stratum+tcp://pool-b.example:3333', user: 'farm.worker1', status: 'Alive', priority: 1, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 },
    ],
    activePool: 0,
    accepted: 1200,
    rejected: 3,
    stale: 1,
  };
}

/**
 * A miner that speaks the cgminer RPC API on loopback the way a given firmware
 * does: one request per connection, read once (at most 4095 bytes), reply in
 * JSON (or key=value text for `cmd|param` requests) followed by one NUL byte,
 * then close. Pool commands follow cgminer 4.x's rules and codes.
 */
export class CgminerSimulator {
  readonly state: CgminerSimState;
  fault: CgminerSimFault = 'none';
  writeAccess: boolean;
  joinCommands: boolean;
  /** Every request received, as raw bytes, for tests that check the exact wire format. */
  readonly requests: Buffer[] = [];
  readonly dialect: SimDialect;
  readonly adminPassword: string;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;
  private readonly personality: CgminerPersonality;
  private downUntilMs = 0;
  private crashedAt: AddressInfo | undefined;
  private sharesCreditedAtMs: number | undefined;
  private quitRequested = false;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private mining: StratumMiningEngine | undefined;
  /** Dead boards that a miner restart brings back (a chain that failed to initialise); the rest need a reboot. */
  private readonly restartableBoards = new Set<number>();
  /** Dead boards that only a replacement (reviveBoards) brings back. */
  private readonly brokenBoards = new Set<number>();
  /** How many times the miner was restarted through the API, and rebooted (see reboot()). */
  restarts = 0;
  reboots = 0;
  /** Every change of the active pool, by the API (switchpool) or by the miner's own failover. */
  readonly poolSwitches: SimPoolSwitch[] = [];
  /** With options.program: the program's pools, hash rate and shares over time. */
  readonly program: RealProgramModel | undefined;

  constructor(private readonly options: CgminerSimulatorOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.dialect = options.dialect ?? 'cgminer';
    this.writeAccess = options.writeAccess ?? true;
    this.joinCommands = options.joinCommands ?? (options.flavor !== 'cgminer-2' && options.program !== 'cgminer-2.11.4-cpu');
    this.adminPassword = options.adminPassword ?? 'admin';
    const base = defaultSimState(Math.floor(this.now() / 1000));
    if (options.program) {
      const profile = compressedProfile(REAL_PROGRAM_PROFILES[options.program], options.programTimeCompression ?? 1);
      const state: CgminerSimState = { ...base, ...realProgramState(options.program), startedAtS: Math.floor(this.now() / 1000), ...options.state };
      if (!options.state?.pools) state.pools = state.pools.map((p) => ({ ...p, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 }));
      if (!options.state?.accepted) Object.assign(state, { accepted: 0, rejected: 0, stale: 0 });
      this.state = state;
      this.program = new RealProgramModel(profile, state, this.now(), options.seed ?? 1, (from, to, by) => this.poolSwitches.push({ atMs: this.now(), from, to, by }));
      this.personality = realProgramPersonality(options.program, this.program);
      return;
    }
    this.personality = personalityFor(this.dialect, { adminPassword: () => this.adminPassword, writeEnabled: () => this.writeAccess }, options.flavor);
    const flavorSoftware = options.flavor ? { software: FLAVOR_SOFTWARE[options.flavor] } : {};
    this.state = { ...base, ...DIALECT_DEFAULTS[this.dialect], ...flavorSoftware, ...options.state };
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    if (this.options.lifetimeMs !== undefined) {
      this.lifetimeTimer = setTimeout(() => void this.stop(), this.options.lifetimeMs);
      this.lifetimeTimer.unref();
    }
    return this.address();
  }

  address(): { host: string; port: number } {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('simulator is not listening');
    return { host: addr.address, port: addr.port };
  }

  /**
   * Mines against the pools in `state.pools` over stratum: pools that die or go
   * silent are seen Dead, the miner fails over and back like cgminer, shares
   * accumulate from the pool's answers. Pool URLs must be stratum+tcp://host:port.
   */
  startMining(options: MiningOptions = {}): StratumMiningEngine {
    this.mining?.stop();
    const o = this.program ? { silenceTimeoutMs: this.program.profile.silenceDeadMs, reconnectMs: 250, ...options } : options;
    this.mining = new StratumMiningEngine(this.state, this.now, o, (from, to) => this.poolSwitches.push({ atMs: this.now(), from, to, by: 'miner' }), this.program);
    this.mining.start();
    return this.mining;
  }

  stopMining(): void {
    this.mining?.stop();
    this.mining = undefined;
  }

  /** Whether the API port is open (false once stopped, by stop() or at the end of its lifetime). */
  get listening(): boolean {
    return this.server !== undefined;
  }

  async stop(): Promise<void> {
    this.stopMining();
    clearTimeout(this.lifetimeTimer);
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Fault: the miner process dies. The port is closed (connections are refused) and mining stops. */
  async crash(): Promise<void> {
    this.stopMining();
    const server = this.server;
    if (!server) return;
    this.crashedAt = server.address() as AddressInfo;
    for (const socket of this.sockets) socket.destroy();
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Brings the miner back after `quit` or a crash (the operator or a watchdog restarted it), on the same address. */
  async revive(): Promise<void> {
    this.downUntilMs = 0;
    this.state.startedAtS = this.nowS();
    if (this.server || !this.crashedAt) return;
    const { address, port } = this.crashedAt;
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve());
    });
  }

  /**
   * Fault: a hash board stops hashing (its chips no longer answer). By default it stays dead through a miner
   * restart (a reboot brings it back); `clearedByRestart` makes it a chain that a restart re-initialises, `broken` a
   * failed board that neither a restart nor a reboot brings back (reviveBoards does: the board was replaced).
   */
  killBoard(index: number, options: { clearedByRestart?: boolean; broken?: boolean } = {}): void {
    this.board(index).alive = false;
    this.restartableBoards.delete(index);
    this.brokenBoards.delete(index);
    if (options.broken) this.brokenBoards.add(index);
    else if (options.clearedByRestart) this.restartableBoards.add(index);
  }

  /** Every board hashes again and no board fault is remembered. */
  reviveBoards(): void {
    for (const board of this.state.boards) board.alive = true;
    this.restartableBoards.clear();
    this.brokenBoards.clear();
  }

  /**
   * The host reboots: the API is away for `downMs`, every board comes back (a power-on re-initialises every
   * chain) but a broken one, counters and uptime start again. Mining against the pools carries on.
   */
  reboot(downMs = this.options.restartDownMs ?? 0): void {
    this.reboots++;
    this.state.boards.forEach((board, i) => { board.alive = this.brokenBoards.has(i) ? board.alive : true; });
    this.restartableBoards.clear();
    this.state.startedAtS = this.nowS();
    this.downUntilMs = this.now() + downMs;
  }

  /** Fault: a fan stops (0 RPM); with `ambientC` set, the boards heat up. */
  failFan(index: number): void {
    if (index < 0 || index >= this.state.fans.length) throw new Error(`no fan ${index}`);
    this.state.fans[index] = 0;
    applyThermals(this.state);
  }

  /** Fault: a burst of hardware errors on one board. */
  hwErrorBurst(index: number, count: number): void {
    this.board(index).hwErrors += count;
  }

  /** Fault or scenario: the intake air temperature changes (overheat when high). */
  setAmbient(celsius: number): void {
    this.state.ambientC = celsius;
    applyThermals(this.state);
  }

  private board(index: number): SimBoard {
    const board = this.state.boards[index];
    if (!board) throw new Error(`no board ${index}`);
    return board;
  }

  /** A pool goes dead or comes back; the miner fails over to the best-priority alive pool. */
  setPoolStatus(index: number, status: SimPool['status']): void {
    const pool = this.state.pools[index];
    if (!pool) throw new Error(`no pool ${index}`);
    if (this.program && status !== 'Disabled') {
      // A real program decides Status itself: the pool only becomes reachable or not.
      this.program.setReachable(index, status === 'Alive', this.now());
      return;
    }
    pool.status = status;
    this.failover();
  }

  /**
   * For a real program without stratum pools (no startMining): whether the miner can reach pool `index` (killed or
   * back). Status, "Stratum Active" and the pool in use then follow the program's own rules and delays.
   */
  setPoolReachable(index: number, reachable: boolean): void {
    if (!this.program) throw new Error('setPoolReachable needs options.program');
    this.program.setReachable(index, reachable, this.now());
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // During a restart's re-exec the port still accepts but nobody answers: closed with zero bytes.
    if (this.fault === 'close-without-reply' || this.now() < this.downUntilMs) {
      socket.end();
      return;
    }
    // cgminer does a single recv() of at most 4095 bytes and answers that.
    socket.once('data', (chunk: Buffer) => {
      const request = chunk.subarray(0, 4095);
      this.requests.push(Buffer.from(request));
      if (this.fault === 'hang') return;
      if (this.fault === 'garbage') {
        socket.end(Buffer.from('{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS 5s":\u0000', 'latin1'));
        return;
      }
      const text = request.toString('latin1');
      if (this.fault === 'crash-on-write' && this.isPrivileged(text)) {
        // The process aborts mid-command ("free(): invalid pointer"): the change may be half done, no reply.
        this.handle(text);
        socket.destroy();
        void this.crash();
        return;
      }
      const reply = this.handle(text);
      if (this.quitRequested) {
        // `quit`: cgminer answers BYE, then the process exits and the port closes.
        this.quitRequested = false;
        socket.end(Buffer.concat([Buffer.from(reply, 'latin1'), Buffer.from([0])]), () => void this.crash());
        return;
      }
      if (this.fault === 'no-nul') {
        socket.write(reply + '\n');
        return;
      }
      const send = (): void => {
        if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(reply, 'latin1'), Buffer.from([0])]));
      };
      if (this.fault === 'slow') setTimeout(send, this.options.slowMs ?? 1000);
      else send();
    });
  }

  private isPrivileged(text: string): boolean {
    const m = /"(?:command|cmd)"\s*:\s*"([^"]+)"/.exec(text) ?? /^([a-z_]+)\|?/.exec(text.trim());
    return text.includes('"enc"') || (m !== null && PRIVILEGED.has(m[1]!.split('+')[0]!));
  }

  /** Answers one request as the firmware would. Public so tests can check replies without a socket. */
  handle(text: string): string {
    applyThermals(this.state);
    this.program?.advance(this.now());
    this.creditShares();
    const ctx = this.context();
    const raw = this.personality.rawRequest?.(ctx, text);
    if (raw !== undefined) return raw;
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      let parsed: { command?: unknown; parameter?: unknown };
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        return JSON.stringify({ STATUS: [this.status('E', 23, 'Invalid JSON')], id: 1 });
      }
      if (typeof parsed.command !== 'string') {
        return JSON.stringify({ STATUS: [this.status('E', 24, 'Missing JSON \'command\'')], id: 1 });
      }
      const parameter = parsed.parameter === undefined ? undefined : String(parsed.parameter);
      return this.serialize(parsed.command, parameter);
    }
    // cgminer splits a plain-text request at its first "|"; the parameter may hold more.
    const bar = trimmed.indexOf('|');
    const command = bar < 0 ? trimmed : trimmed.slice(0, bar);
    const parameter = bar < 0 ? undefined : trimmed.slice(bar + 1);
    return toPlainText(this.reply(command, parameter).body);
  }

  private serialize(command: string, parameter: string | undefined): string {
    if (!command.includes('+')) {
      const r = this.reply(command, parameter);
      return r.raw ?? JSON.stringify(r.body);
    }
    // cgminer 4.11.1's Code 14 has no Description key.
    if (!this.joinCommands) return JSON.stringify({ STATUS: [{ STATUS: 'E', When: this.nowS(), Code: 14, Msg: 'Invalid command' }], id: 1 });
    const parts = command.split('+').map((part) => {
      const r = this.personality.joinable.has(part) && !PRIVILEGED.has(part)
        ? this.reply(part, parameter)
        : { body: { STATUS: [this.status('E', 45, `Access denied to '${part}' command`)], id: 1 } };
      return `${JSON.stringify(part)}:[${r.raw ?? JSON.stringify(r.body)}]`;
    });
    return `{${parts.join(',')},"id":1}`;
  }

  private reply(command: string, parameter: string | undefined): SimReply {
    if (command.includes('+')) {
      // Plain-text joined requests: cgminer answers them as one JSON object; not worth a second format here.
      return { body: { STATUS: [this.status('E', 14, 'Invalid command')], id: 1 } };
    }
    const ctx = this.context();
    if (PRIVILEGED.has(command) || ((command === 'logon' || command === 'logoff') && this.dialect === 'luxos')) {
      if (PRIVILEGED.has(command) && !this.writeAccess) {
        return { body: { STATUS: [this.status('E', 45, `Access denied to '${command}' command`)], id: 1 } };
      }
      const own = this.personality.privileged?.(ctx, command, parameter);
      if (own) return own;
      if (PRIVILEGED.has(command)) return this.control(command, parameter);
    }
    return this.personality.read(ctx, command, parameter)
      ?? { body: { STATUS: [{ STATUS: 'E', When: this.nowS(), Code: 14, Msg: 'Invalid command' }], id: 1 } };
  }

  private context(): SimContext {
    return {
      state: this.state,
      nowS: () => this.nowS(),
      status: (letter, code, msg) => this.status(letter, code, msg),
      totalHashrateHs: () => this.totalHashrateHs(),
      control: (command, parameter) => this.control(command, parameter),
    };
  }

  /** cgminer 4.x pool, restart, quit and ascset commands, with its rules and codes. */
  private control(command: string, parameter: string | undefined): SimReply {
    const s = this.state;
    const err = (code: number, msg: string): SimReply => ({ body: { STATUS: [this.status('E', code, msg)], id: 1 } });
    const ok = (code: number, msg: string, letter = 'S'): SimReply => ({ body: { STATUS: [this.status(letter, code, msg)], id: 1 } });
    const poolArg = (): number | SimReply => {
      if (parameter === undefined || parameter.trim() === '') return err(24, 'Missing pool id parameter');
      const index = Number(parameter);
      if (!Number.isInteger(index) || index < 0 || index >= s.pools.length) {
        return err(26, `Invalid pool id ${parameter} - range is 0 - ${s.pools.length - 1}`);
      }
      return index;
    };
    switch (command) {
      case 'switchpool': {
        const index = poolArg();
        if (typeof index !== 'number') return index;
        const pool = s.pools[index]!;
        if (pool.status === 'Disabled') pool.status = 'Alive';
        // cgminer's switch_pools moves the chosen pool to priority 0.
        const old = pool.priority;
        for (const p of s.pools) if (p.priority < old) p.priority++;
        pool.priority = 0;
        if (s.activePool !== index) this.poolSwitches.push({ atMs: this.now(), from: s.activePool, to: index, by: 'api' });
        s.activePool = index;
        return ok(27, `Switching to pool ${index}:'${pool.url}'`);
      }
      case 'enablepool': {
        const index = poolArg();
        if (typeof index !== 'number') return index;
        const pool = s.pools[index]!;
        if (pool.status !== 'Disabled') return ok(49, `Pool ${index}:'${pool.url}' already enabled`, 'I');
        pool.status = 'Alive';
        this.failover();
        return ok(47, `Enabling pool ${index}:'${pool.url}'`);
      }
      case 'disablepool': {
        const index = poolArg();
        if (typeof index !== 'number') return index;
        const pool = s.pools[index]!;
        if (pool.status === 'Disabled') return ok(50, `Pool ${index}:'${pool.url}' already disabled`, 'I');
        if (s.pools.filter((p) => p.status !== 'Disabled').length === 1) return err(51, `Cannot disable last active pool ${index}:'${pool.url}'`);
        pool.status = 'Disabled';
        this.failover();
        return ok(48, `Disabling pool ${index}:'${pool.url}'`);
      }
      case 'addpool': {
        if (!parameter) return err(52, 'Missing addpool details');
        const fields = splitEscaped(parameter);
        if (fields.length < 2 || !fields[0] || !fields[1]) return err(53, `Invalid addpool details '${parameter}'`);
        s.pools.push({
          url: fields[0], user: fields[1], password: fields[2] ?? '', status: 'Alive', priority: s.pools.length,
          accepted: 0, rejected: 0, stale: 0, lastShareTime: 0,
        });
        return ok(55, `Added pool ${s.pools.length - 1}: '${fields[0]}'`);
      }
      case 'removepool': {
        const index = poolArg();
        if (typeof index !== 'number') return index;
        const pool = s.pools[index]!;
        if (s.pools.length === 1) return err(66, `Cannot remove last pool ${index}:'${pool.url}'`);
        if (index === s.activePool) return err(67, `Cannot remove active pool ${index}:'${pool.url}'`);
        s.pools.splice(index, 1);
        if (s.activePool > index) s.activePool--;
        [...s.pools].sort((a, b) => a.priority - b.priority).forEach((p, i) => { p.priority = i; });
        return ok(68, `Removed pool ${index}:'${pool.url}'`);
      }
      case 'poolpriority': {
        if (!parameter) return err(24, 'Missing pool id parameter');
        const order = parameter.split(',').map((v) => Number(v.trim()));
        const seen = new Set<number>();
        for (const id of order) {
          if (!Number.isInteger(id) || id < 0 || id >= s.pools.length) return err(26, `Invalid pool id ${id} - range is 0 - ${s.pools.length - 1}`);
          if (seen.has(id)) return err(74, `Duplicate pool specified ${id}`);
          seen.add(id);
        }
        const rest = s.pools.map((p, i) => ({ p, i })).filter(({ i }) => !seen.has(i)).sort((a, b) => a.p.priority - b.p.priority).map(({ i }) => i);
        [...order, ...rest].forEach((id, prio) => { s.pools[id]!.priority = prio; });
        this.failover(true);
        return ok(73, 'Changed pool priorities');
      }
      case 'restart':
        this.restarts++;
        for (const index of this.restartableBoards) this.board(index).alive = true;
        this.restartableBoards.clear();
        s.startedAtS = this.nowS();
        this.downUntilMs = this.now() + (this.options.restartDownMs ?? (this.program ? this.program.profile.restartDownMs ?? Number.POSITIVE_INFINITY : 0));
        this.program?.restart(this.now());
        return this.personality.restartReply?.(this.context()) ?? { body: { STATUS: 'RESTART', id: 1 } };
      case 'quit':
        this.quitRequested = true;
        return this.personality.quitReply?.(this.context()) ?? { body: { STATUS: 'BYE', id: 1 } };
      case 'ascset': {
        const [dev, opt, ...values] = (parameter ?? '').split(',');
        if (dev === undefined || opt === undefined || opt === '') return err(95, 'Missing ASC parameter');
        if (opt === 'frequency') {
          const mhz = Number(values[0]);
          if (!Number.isFinite(mhz) || mhz <= 0) return err(119, `ASC ${dev} set failed: invalid frequency`);
          for (const b of s.boards) {
            const old = b.frequencyMhz ?? 650;
            b.hashrateHs = b.hashrateHs * (mhz / old);
            b.frequencyMhz = mhz;
          }
          return ok(119, `ASC ${dev} set OK`);
        }
        if (opt === 'workmode') {
          const mode = Number(values[values.length - 1]);
          if (!Number.isInteger(mode) || mode < 0) return err(119, `ASC ${dev} set failed: invalid workmode`);
          s.workMode = mode;
          return ok(119, `ASC ${dev} set OK`);
        }
        return err(120, `ASC ${dev} set failed: unknown option ${opt}`);
      }
      default:
        return err(14, 'Invalid command');
    }
  }

  /** Credits the shares found since the last request to the active pool (only with `state.sharesPerMinute`). */
  private creditShares(): void {
    const rate = this.state.sharesPerMinute;
    const now = this.now();
    const since = this.sharesCreditedAtMs;
    const pool = this.state.pools[this.state.activePool];
    if (rate === undefined || rate <= 0 || this.mining || since === undefined || !pool || pool.status !== 'Alive' || this.totalHashrateHs() === 0) {
      this.sharesCreditedAtMs = now; // nothing found while not hashing on a live pool
      return;
    }
    const found = Math.floor(((now - since) / 60_000) * rate);
    if (found <= 0) return;
    const rejected = Math.floor(found / 100);
    pool.accepted += found - rejected;
    pool.rejected += rejected;
    pool.lastShareTime = this.nowS();
    this.state.accepted += found - rejected;
    this.state.rejected += rejected;
    this.sharesCreditedAtMs = since + Math.round((found / rate) * 60_000);
  }

  /** Keeps the miner on an enabled, alive pool: the best-priority one when `toBest` or when the current one is gone. */
  private failover(toBest = false): void {
    const s = this.state;
    const current = s.pools[s.activePool];
    if (!toBest && current && current.status === 'Alive') return;
    const best = s.pools.map((p, i) => ({ p, i })).filter(({ p }) => p.status === 'Alive').sort((a, b) => a.p.priority - b.p.priority)[0];
    if (best) s.activePool = best.i;
  }

  totalHashrateHs(): number {
    if (this.program) return this.program.averageHs(this.now(), 5_000);
    return this.state.boards.reduce((sum, b) => sum + (b.alive ? b.hashrateHs : 0), 0);
  }

  private nowS(): number {
    return Math.floor(this.now() / 1000);
  }

  private status(letter: string, code: number, msg: string): Record<string, unknown> {
    return { STATUS: letter, When: this.nowS(), Code: code, Msg: msg, Description: this.personality.description(this.state) };
  }
}

/** cgminer's addpool parameter: fields separated by "," with "\," and "\\" escapes. */
function splitEscaped(text: string): string[] {
  const out: string[] = [''];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      out[out.length - 1] += text[++i];
    } else if (ch === ',') {
      out.push('');
    } else {
      out[out.length - 1] += ch;
    }
  }
  return out;
}

const ID_KEYS = new Set(['POOL', 'ASC', 'PGA', 'GPU', 'STATS', 'DEVDETAILS', 'FAN', 'TEMP']);

/** cgminer's plain-text form: "STATUS=S,When=..,Code=..,Msg=..|SUMMARY,key=value,...|POOL=0,URL=...|". */
function toPlainText(reply: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(reply)) {
    if (key === 'id') continue;
    if (key === 'STATUS' && typeof value === 'string') {
      parts.push(`STATUS=${value}`);
      continue;
    }
    if (!Array.isArray(value)) continue;
    value.forEach((entry: Record<string, unknown>) => {
      const fields = Object.entries(entry).map(([k, v]) => `${k}=${String(v)}`);
      const firstKey = Object.keys(entry)[0] ?? '';
      parts.push(key === 'STATUS' || ID_KEYS.has(firstKey) ? fields.join(',') : [key, ...fields].join(','));
    });
  }
  return parts.map((p) => `${p}|`).join('');
}
