import { connect, type Socket } from 'node:net';
import type { CgminerSimState } from '../cgminer-simulator';
import type { RealProgramModel } from './real/real-program.model';

export interface MiningOptions {
  /** A pool that sends nothing for this long is Dead (cgminer's default: 90 s). */
  silenceTimeoutMs?: number;
  /** A better-priority pool must stay alive this long before the miner fails back to it (default 120 s). */
  failbackStableMs?: number;
  /** How often the miner finds a share for the active pool. */
  shareIntervalMs?: number;
  /** How long to wait before reconnecting to a pool that closed. */
  reconnectMs?: number;
  /** Housekeeping period (status, failover, shares). */
  tickMs?: number;
  /**
   * Whether the miner leaves a dead pool and fails back by itself, as cgminer does (default true). False keeps it
   * on the pool it was told to use, so that only an API client (the controller) moves it.
   */
  ownFailover?: boolean;
}

interface PoolLink {
  url: string;
  user: string;
  socket: Socket | undefined;
  authorized: boolean;
  jobId: string | undefined;
  lastMessageAtMs: number;
  aliveSinceMs: number | undefined;
  reconnectAtMs: number;
  nextId: number;
  pending: Map<number, 'subscribe' | 'authorize' | 'submit'>;
  buffer: string;
  /** Whether the first attempt ended (authorized, or the connection failed): before that a real program's pool is neither up nor down. */
  settled: boolean;
}

/**
 * The simulated miner's stratum side: it connects to every enabled pool (cgminer
 * keeps its failover pools tested), marks a pool Dead when it closes or stays
 * silent past the timeout, fails over at once to the best-priority alive pool,
 * fails back only after the better pool has been stable long enough, and submits
 * shares to the active pool, counting the pool's answers.
 */
export class StratumMiningEngine {
  private readonly links = new Map<string, PoolLink>();
  private timer: NodeJS.Timeout | undefined;
  private lastShareAtMs = 0;
  private readonly o: Required<MiningOptions>;

  constructor(
    private readonly state: CgminerSimState,
    private readonly now: () => number,
    options: MiningOptions = {},
    private readonly onSwitch: (from: number, to: number) => void = () => undefined,
    /** A real program's model: it decides Status, Stratum Active, the pool in use and when shares are found. */
    private readonly program?: RealProgramModel,
  ) {
    this.o = {
      silenceTimeoutMs: options.silenceTimeoutMs ?? 90_000,
      failbackStableMs: options.failbackStableMs ?? 120_000,
      shareIntervalMs: options.shareIntervalMs ?? 1000,
      reconnectMs: options.reconnectMs ?? 1000,
      tickMs: options.tickMs ?? 250,
      ownFailover: options.ownFailover ?? true,
    };
  }

  start(): void {
    if (this.program) this.program.shareSink = (index) => this.submitTo(index);
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.program) this.program.shareSink = undefined;
    clearInterval(this.timer);
    for (const link of this.links.values()) link.socket?.destroy();
    this.links.clear();
  }

  /** One housekeeping step; public so tests with an injected clock can drive it. */
  tick(): void {
    const now = this.now();
    const s = this.state;
    // Links follow the pool list (pools can be added, removed, disabled through the API).
    const wanted = new Set(s.pools.filter((p) => p.status !== 'Disabled').map((p) => `${p.url}\n${p.user}`));
    for (const [key, link] of this.links) {
      if (!wanted.has(key)) {
        link.socket?.destroy();
        this.links.delete(key);
      }
    }
    for (const pool of s.pools) {
      const key = `${pool.url}\n${pool.user}`;
      if (pool.status === 'Disabled') continue;
      let link = this.links.get(key);
      if (!link) {
        link = {
          url: pool.url, user: pool.user, socket: undefined, authorized: false, jobId: undefined, lastMessageAtMs: 0,
          aliveSinceMs: undefined, reconnectAtMs: 0, nextId: 1, pending: new Map(), buffer: '', settled: false,
        };
        this.links.set(key, link);
      }
      if (!link.socket && now >= link.reconnectAtMs) this.connect(link);
      const alive = link.authorized && link.socket !== undefined && now - link.lastMessageAtMs <= this.o.silenceTimeoutMs;
      if (alive) link.aliveSinceMs ??= now;
      else link.aliveSinceMs = undefined;
      if (alive) link.settled = true;
      // Before its first connection attempt has ended a pool keeps the status it had (a restarted miner does not call
      // the pools it is still connecting to Dead); then it is Alive or Dead by what the connection does.
      if (!this.program) pool.status = alive ? 'Alive' : link.settled ? 'Dead' : pool.status;
      else if (link.settled) this.program.setReachable(s.pools.indexOf(pool), alive, now);
    }
    if (this.program) {
      this.program.advance(now); // switches, Stratum Active and share finds (submitted through submitTo)
      return;
    }
    this.chooseActive(now);
    this.mine(now);
  }

  /** Submits one share a real program's model found to pool `index`. */
  private submitTo(index: number): void {
    const pool = this.state.pools[index];
    const link = pool && this.links.get(`${pool.url}\n${pool.user}`);
    if (!link?.socket || !link.authorized || link.jobId === undefined) return;
    const now = this.now();
    const nonce = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
    this.request(link, 'submit', 'mining.submit', [link.user, link.jobId, '00000000', Math.floor(now / 1000).toString(16), nonce]);
  }

  private chooseActive(now: number): void {
    const s = this.state;
    if (!this.o.ownFailover) return;
    const before = s.activePool;
    this.choose(now);
    if (s.activePool !== before) this.onSwitch(before, s.activePool);
  }

  private choose(now: number): void {
    const s = this.state;
    const ranked = s.pools.map((p, i) => ({ p, i })).filter(({ p }) => p.status === 'Alive').sort((a, b) => a.p.priority - b.p.priority);
    const current = s.pools[s.activePool];
    if (!current || current.status !== 'Alive') {
      if (ranked[0]) s.activePool = ranked[0].i; // fail over at once
      return;
    }
    const better = ranked.find(({ p }) => p.priority < current.priority);
    if (!better) return;
    const link = this.links.get(`${better.p.url}\n${better.p.user}`);
    if (link?.aliveSinceMs !== undefined && now - link.aliveSinceMs >= this.o.failbackStableMs) s.activePool = better.i;
  }

  private mine(now: number): void {
    const pool = this.state.pools[this.state.activePool];
    if (!pool || pool.status !== 'Alive' || now - this.lastShareAtMs < this.o.shareIntervalMs) return;
    const link = this.links.get(`${pool.url}\n${pool.user}`);
    if (!link?.socket || !link.authorized || link.jobId === undefined) return;
    this.lastShareAtMs = now;
    // cgminer counts found work per pool before the pool answers (update_work_stats): shares here are difficulty 1.
    pool.diff1Shares = (pool.diff1Shares ?? 0) + 1;
    const nonce = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
    this.request(link, 'submit', 'mining.submit', [link.user, link.jobId, '00000000', Math.floor(now / 1000).toString(16), nonce]);
  }

  private connect(link: PoolLink): void {
    const m = /^stratum\+tcp:\/\/([^:/]+):(\d+)/.exec(link.url);
    if (!m) {
      link.reconnectAtMs = this.now() + this.o.reconnectMs;
      return;
    }
    const socket = connect({ host: m[1]!, port: Number(m[2]) });
    link.socket = socket;
    link.authorized = false;
    link.buffer = '';
    link.pending.clear();
    socket.setNoDelay(true);
    socket.once('connect', () => {
      this.request(link, 'subscribe', 'mining.subscribe', ['rigwarden-sim/1.0']);
      this.request(link, 'authorize', 'mining.authorize', [link.user, 'x']);
    });
    socket.on('data', (chunk: Buffer) => this.onData(link, chunk));
    const down = (): void => {
      if (link.socket !== socket) return;
      link.settled = true;
      link.socket = undefined;
      link.authorized = false;
      link.reconnectAtMs = this.now() + this.o.reconnectMs;
    };
    socket.on('error', down);
    socket.on('close', down);
  }

  private request(link: PoolLink, kind: 'subscribe' | 'authorize' | 'submit', method: string, params: unknown[]): void {
    const id = link.nextId++;
    link.pending.set(id, kind);
    link.socket?.write(`${JSON.stringify({ id, method, params })}\n`);
  }

  private onData(link: PoolLink, chunk: Buffer): void {
    link.buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = link.buffer.indexOf('\n')) >= 0) {
      const line = link.buffer.slice(0, nl).trim();
      link.buffer = link.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      link.lastMessageAtMs = this.now();
      if (msg.method === 'mining.notify' && Array.isArray(msg.params)) {
        link.jobId = String(msg.params[0]);
        continue;
      }
      if (typeof msg.id !== 'number') continue;
      const kind = link.pending.get(msg.id);
      link.pending.delete(msg.id);
      if (kind === 'authorize') link.authorized = msg.result === true;
      if (kind === 'submit') this.countShare(link, msg.result === true);
    }
  }

  private countShare(link: PoolLink, accepted: boolean): void {
    const pool = this.state.pools.find((p) => p.url === link.url && p.user === link.user);
    if (!pool) return;
    if (this.program) {
      this.program.credit(pool, accepted, this.now());
      return;
    }
    if (accepted) {
      pool.accepted++;
      this.state.accepted++;
      pool.lastShareTime = Math.floor(this.now() / 1000);
      pool.difficultyAccepted = (pool.difficultyAccepted ?? 0) + 1;
      pool.lastShareDifficulty = 1;
    } else {
      pool.rejected++;
      this.state.rejected++;
    }
  }
}
