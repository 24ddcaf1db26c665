import type { CgminerSimState, SimPool } from '../../cgminer-simulator';
import type { RealProgramProfile } from './real-program.profile';

interface PoolTrack {
  /** Whether the miner can reach the pool (its stratum connection works). */
  reachable: boolean;
  /** When a dead pool became reachable again. */
  returnedAtMs: number | undefined;
  /** Since when the API shows it Alive. */
  aliveSinceMs: number;
}

/** One step of a deterministic PRNG (mulberry32), so a seed gives the same hash rate and shares every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STEP_MS = 250;
const HASHES_PER_DIFF1 = 4294967296;

/**
 * How a real miner program's pools and hash rate move over time, on an injected clock: a pool the miner cannot
 * reach is Dead at once; a returning one is Alive after the program's delay (and, for cgminer 2.11.4, "Stratum
 * Active" one poll before that); the miner fails over at once to the best alive pool and fails back after its
 * delay; "Stratum Active" follows each program's rules (bfgminer keeps it on the pool it left). The hash rate is a
 * seeded random walk; shares are found at the rate hash rate and work difficulty give, on the pool in use.
 *
 * Evaluated lazily in 250 ms steps up to `now` (the period of the traces' polls), so a test with a fixed clock sees
 * exactly the transitions a 250 ms poller would.
 */
export class RealProgramModel {
  private readonly tracks = new WeakMap<SimPool, PoolTrack>();
  private atMs: number;
  private startedAtMs: number;
  private lastActive: number;
  private readonly random: () => number;
  /** Hash rate per segment since start, and its prefix sums (H·ms) for window averages. */
  private readonly segments: number[] = [];
  private readonly prefix: number[] = [0];
  private work = 0;
  private threshold: number;
  /** Where found shares go: credited as accepted by default; the stratum engine submits them to the pool instead. */
  shareSink: ((poolIndex: number) => void) | undefined;
  /** Total hashes since start, for "Total MH". */
  private hashes = 0;

  constructor(
    readonly profile: RealProgramProfile,
    private readonly state: CgminerSimState,
    startMs: number,
    seed: number,
    private readonly onSwitch: (from: number, to: number, by: 'api' | 'miner') => void = () => undefined,
  ) {
    this.random = mulberry32(seed);
    this.atMs = startMs;
    this.startedAtMs = startMs;
    this.lastActive = state.activePool;
    this.threshold = this.nextThreshold();
    state.pools.forEach((p, i) => {
      p.stratumActive = i === state.activePool && p.status === 'Alive';
      p.workDifficulty ??= profile.workDifficulty;
    });
  }

  /** The miner's stratum connection to pool `index` works (true) or not (the pool was killed, is unreachable or hung). */
  setReachable(index: number, reachable: boolean, nowMs: number): void {
    this.advance(nowMs);
    const pool = this.state.pools[index];
    if (!pool) throw new Error(`no pool ${index}`);
    const track = this.track(pool);
    if (track.reachable === reachable) return;
    track.reachable = reachable;
    track.returnedAtMs = reachable ? nowMs : undefined;
    this.step(nowMs);
  }

  isReachable(index: number): boolean {
    const pool = this.state.pools[index];
    return pool !== undefined && this.track(pool).reachable;
  }

  /** Runs the miner up to `nowMs`. */
  advance(nowMs: number): void {
    while (this.atMs < nowMs) {
      const next = Math.min(this.atMs + STEP_MS, nowMs);
      this.mine(this.atMs, next);
      this.atMs = next;
      this.step(next);
    }
    this.step(Math.max(this.atMs, nowMs)); // an API command at this very moment (switchpool) shows at once
  }

  /** The process restarted: counters and uptime start again, the best-priority reachable pool is in use. */
  restart(nowMs: number): void {
    this.advance(nowMs);
    this.startedAtMs = nowMs;
    this.segments.length = 0;
    this.prefix.length = 1;
    this.hashes = 0;
    const s = this.state;
    s.accepted = 0;
    s.rejected = 0;
    s.stale = 0;
    for (const p of s.pools) {
      p.accepted = 0;
      p.rejected = 0;
      p.stale = 0;
      p.lastShareTime = 0;
      p.difficultyAccepted = 0;
      p.lastShareDifficulty = 0;
      p.diff1Shares = 0;
    }
    const best = s.pools.map((p, i) => ({ p, i })).filter(({ p }) => p.status !== 'Disabled' && this.track(p).reachable).sort((a, b) => a.p.priority - b.p.priority)[0];
    s.activePool = best?.i ?? 0;
    this.lastActive = s.activePool;
    s.pools.forEach((p, i) => {
      const track = this.track(p);
      if (p.status !== 'Disabled') p.status = track.reachable ? 'Alive' : 'Dead';
      track.aliveSinceMs = nowMs;
      track.returnedAtMs = undefined;
      p.stratumActive = i === s.activePool && p.status === 'Alive';
    });
  }

  /** Hash rate averaged over the last `windowMs` (cgminer's "MHS 5s", bfgminer's "MHS 20s"), or since start. */
  averageHs(nowMs: number, windowMs?: number): number {
    this.advance(nowMs);
    const from = windowMs === undefined ? this.startedAtMs : Math.max(this.startedAtMs, nowMs - windowMs);
    if (nowMs <= from) return this.segmentHs(0);
    return (this.integral(nowMs) - this.integral(from)) / (nowMs - from);
  }

  elapsedS(nowMs: number): number {
    return Math.floor((nowMs - this.startedAtMs) / 1000);
  }

  totalMh(nowMs: number): number {
    this.advance(nowMs);
    return this.hashes / 1e6;
  }

  /** Counts one share's answer on a pool (from the stub pool over stratum, or found here on the clock). */
  credit(pool: SimPool, accepted: boolean, nowMs: number): void {
    const diff = pool.workDifficulty ?? this.profile.workDifficulty;
    if (accepted) {
      pool.accepted++;
      this.state.accepted++;
      pool.difficultyAccepted = (pool.difficultyAccepted ?? 0) + diff;
      pool.lastShareDifficulty = diff;
      pool.lastShareTime = Math.floor(nowMs / 1000);
    } else {
      pool.rejected++;
      this.state.rejected++;
    }
  }

  private track(pool: SimPool): PoolTrack {
    let track = this.tracks.get(pool);
    if (!track) {
      // A pool the model has not seen (configured or added through the API) is reachable and alive.
      track = { reachable: true, returnedAtMs: undefined, aliveSinceMs: Number.NEGATIVE_INFINITY };
      this.tracks.set(pool, track);
    }
    return track;
  }

  private step(now: number): void {
    const s = this.state;
    const p = this.profile;
    if (s.activePool !== this.lastActive) {
      // switchpool through the API (the core already moved activePool and the priorities).
      const left = s.pools[this.lastActive];
      if (left) left.stratumActive = p.keepsLeftStratumOnSwitch && left.status === 'Alive' && left.stratumActive === true;
      const chosen = s.pools[s.activePool];
      if (chosen && chosen.status === 'Alive') chosen.stratumActive = true;
      this.lastActive = s.activePool;
    }
    for (const pool of s.pools) {
      if (pool.status === 'Disabled') {
        pool.stratumActive = false;
        continue;
      }
      const track = this.track(pool);
      if (!track.reachable) {
        pool.status = 'Dead';
        pool.stratumActive = false;
        continue;
      }
      if (pool.status === 'Dead' && track.returnedAtMs !== undefined) {
        if (now >= track.returnedAtMs + p.aliveAfterReturnMs - p.stratumBeforeAliveMs) pool.stratumActive = true;
        if (now >= track.returnedAtMs + p.aliveAfterReturnMs) {
          pool.status = 'Alive';
          track.aliveSinceMs = now;
          track.returnedAtMs = undefined;
        }
      }
    }
    if (!p.failsOver) {
      const current = s.pools[s.activePool];
      if (current && current.status === 'Alive') current.stratumActive = true;
      return;
    }
    const ranked = s.pools.map((pool, i) => ({ pool, i })).filter(({ pool }) => pool.status === 'Alive').sort((a, b) => a.pool.priority - b.pool.priority);
    const current = s.pools[s.activePool];
    let to: number | undefined;
    if (!current || current.status !== 'Alive') {
      to = ranked[0]?.i; // fail over at once
    } else {
      const better = ranked.find(({ pool }) => pool.priority < current.priority);
      if (better && now - this.track(better.pool).aliveSinceMs >= p.failbackAfterAliveMs) to = better.i;
    }
    if (to === undefined || to === s.activePool) return;
    const from = s.activePool;
    const left = s.pools[from];
    if (left) left.stratumActive = left.status === 'Alive' && p.keepsLeftStratumOnFailback;
    s.activePool = to;
    s.pools[to]!.stratumActive = true;
    this.lastActive = to;
    this.onSwitch(from, to, 'miner');
  }

  private mine(from: number, to: number): void {
    const dt = to - from;
    const hs = this.segmentHs(Math.floor((from - this.startedAtMs) / this.profile.hashrate.segmentMs));
    if (hs <= 0) return;
    this.hashes += (hs * dt) / 1000;
    const s = this.state;
    const pool = s.pools[s.activePool];
    if (!pool || pool.status !== 'Alive' || pool.stratumActive !== true || !this.track(pool).reachable) return;
    this.work += (hs * dt) / 1000 / ((pool.workDifficulty ?? this.profile.workDifficulty) * HASHES_PER_DIFF1);
    while (this.work >= this.threshold) {
      this.work -= this.threshold;
      this.threshold = this.nextThreshold();
      // Counted when found, before any answer (cgminer's and bfgminer's update_work_stats).
      pool.diff1Shares = (pool.diff1Shares ?? 0) + (pool.workDifficulty ?? this.profile.workDifficulty);
      if (this.shareSink) this.shareSink(s.activePool);
      else this.credit(pool, true, to);
    }
  }

  /** Work (in shares) until the next share: exponential, so shares come as a Poisson process. */
  private nextThreshold(): number {
    return -Math.log(1 - this.random());
  }

  private segmentHs(index: number): number {
    const h = this.profile.hashrate;
    while (this.segments.length <= index) {
      const last = this.segments[this.segments.length - 1] ?? h.startHs;
      let next = last;
      if (h.maxHs > 0 && h.logStep > 0) {
        // Box-Muller normal step in log space, kept inside [min, max].
        const u = Math.max(this.random(), 1e-12);
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
        next = Math.min(h.maxHs, Math.max(h.minHs, last * Math.exp(z * h.logStep)));
      }
      this.segments.push(next);
      this.prefix.push(this.prefix[this.prefix.length - 1]! + next * h.segmentMs);
    }
    return this.segments[index]!;
  }

  /** ∫ hash rate dt from start to `t` (H·ms). */
  private integral(t: number): number {
    const seg = this.profile.hashrate.segmentMs;
    const offset = t - this.startedAtMs;
    if (offset <= 0) return 0;
    const k = Math.floor(offset / seg);
    const hs = this.segmentHs(k);
    return this.prefix[k]! + hs * (offset - k * seg);
  }
}
