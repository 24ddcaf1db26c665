/**
 * The state of one simulated Braiins OS+ miner behind its gRPC API, in the bos-plus-api's own message shapes
 * (snake_case, enums as numbers): what the reads report and how the writes change it. Time comes from `now`, so a
 * restart's pause and a token's lifetime follow the test's clock.
 */

export interface SimBraiinsPool {
  url: string;
  user: string;
  password?: string;
  enabled: boolean;
}

export interface SimBraiinsGroup {
  name: string;
  quota: number;
  pools: SimBraiinsPool[];
}

export interface BraiinsMinerStateOptions {
  model?: string;
  /** bos_version.current, e.g. "2026-04-14-0-912d084c-26.04-plus". */
  firmware?: string;
  macAddress?: string;
  hostname?: string;
  boards?: number;
  chipsPerBoard?: number;
  /** Each board's hashrate at the nominal power target (GH/s). */
  boardGhs?: number;
  /** The power target at which the boards make boardGhs (W). */
  nominalPowerW?: number;
  powerTargetW?: number;
  minPowerTargetW?: number;
  maxPowerTargetW?: number;
  fans?: number;
  pools?: SimBraiinsGroup[];
  /** How long bosminer is down after a restart, a pool write or a reboot (ms). */
  restartPauseMs?: number;
  /** One share accepted per this much hashing (default 2000 ms); the pools' difficulty follows from it. */
  shareIntervalMs?: number;
  now?: () => number;
}

/** An overheating miner (blocked intake): its chips head for hotC above a power target, coolC at or below it. */
export interface BraiinsHeat {
  hotC: number;
  coolC: number;
  /** Power targets above this overheat. */
  hotAboveW: number;
  /** How fast the chips move towards their target, °C per second. */
  rampCPerS: number;
}

const STATUS = { NOT_STARTED: 1, NORMAL: 2, PAUSED: 3 } as const;

let uidCounter = 0;
function uid(): string {
  uidCounter++;
  return `sim${uidCounter.toString(36).padStart(6, '0')}`;
}

export class BraiinsMinerState {
  readonly model: string;
  readonly firmware: string;
  readonly macAddress: string;
  readonly hostname: string;
  readonly boards: number;
  readonly chipsPerBoard: number;
  readonly boardGhs: number;
  readonly nominalPowerW: number;
  readonly minPowerTargetW: number;
  readonly maxPowerTargetW: number;
  readonly fans: number;
  restartPauseMs: number;
  readonly shareIntervalMs: number;
  powerTargetW: number;
  private pausedFlag = false;
  locate = false;
  /** Boards switched off (hashboard id "1".."N" as a number). */
  readonly disabledBoards = new Set<number>();
  /** Boards enabled but hashing nothing (a dead chain). */
  readonly deadBoards = new Set<number>();
  /** Pool URLs that do not answer (killPool): bosminer marks them not alive and mines on the next pool of the group. */
  private readonly deadPools = new Set<string>();
  /** Pool URLs that stay connected but answer nothing (silencePool): alive to bosminer, no share accepted there. */
  private readonly silentPools = new Set<string>();
  private heat: BraiinsHeat | undefined;
  /** The hottest chip's temperature above its normal figure (°C), and when it was last moved. */
  private heatExcessC = 0;
  private heatAt = 0;
  /** Shares accepted per pool URL, banked up to `accruedUntil`. */
  private readonly shares = new Map<string, number>();
  private accruedUntil: number;
  groups: { uid: string; name: string; quota: number; pools: (SimBraiinsPool & { uid: string })[] }[] = [];
  /** Restarts of bosminer so far (restart, pool writes, reboots). */
  restarts = 0;
  reboots = 0;
  private readonly now: () => number;
  private readonly bootedAt: number;
  private bosminerStartsAt: number;

  constructor(options: BraiinsMinerStateOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.model = options.model ?? 'Antminer S19 XP';
    this.firmware = options.firmware ?? '2026-04-14-0-912d084c-26.04-plus';
    this.macAddress = options.macAddress ?? '02:00:5e:10:00:01';
    this.hostname = options.hostname ?? 'Antminer';
    this.boards = options.boards ?? 3;
    this.chipsPerBoard = options.chipsPerBoard ?? 110;
    this.boardGhs = options.boardGhs ?? 47_000;
    this.nominalPowerW = options.nominalPowerW ?? 3000;
    this.powerTargetW = options.powerTargetW ?? this.nominalPowerW;
    this.minPowerTargetW = options.minPowerTargetW ?? 1000;
    this.maxPowerTargetW = options.maxPowerTargetW ?? 4000;
    this.fans = options.fans ?? 4;
    this.restartPauseMs = options.restartPauseMs ?? 5_000;
    this.shareIntervalMs = options.shareIntervalMs ?? 2_000;
    this.bootedAt = this.now();
    this.heatAt = this.bootedAt;
    this.bosminerStartsAt = this.bootedAt;
    this.accruedUntil = this.bootedAt;
    this.setGroups(options.pools ?? [{ name: 'Default', quota: 1, pools: [
      { url: 'stratum+tcp://pool-a.example:3333', user: 'farm.sim', password: 'x', enabled: true },
      { url: 'stratum+tcp://pool-b.example:3333', user: 'farm.sim', password: 'x', enabled: true },
    ] }]);
  }

  /** No pool answers: nothing to hash for. */
  get poolless(): boolean {
    return this.groups.every((g) => g.pools.every((p) => !p.enabled || !this.poolAlive(p.url)));
  }

  /** bosminer is down while it restarts. */
  get restarting(): boolean {
    return this.now() < this.bosminerStartsAt;
  }

  get status(): number {
    return this.restarting ? STATUS.NOT_STARTED : this.pausedFlag ? STATUS.PAUSED : STATUS.NORMAL;
  }

  get hashing(): boolean {
    return this.status === STATUS.NORMAL;
  }

  bosminerUptimeS(): number {
    return this.restarting ? 0 : Math.floor((this.now() - this.bosminerStartsAt) / 1000);
  }

  systemUptimeS(): number {
    return Math.floor((this.now() - this.bootedAt) / 1000);
  }

  /** One board's hashrate now (GH/s): it follows the power target; 0 while not hashing or switched off. */
  boardRateGhs(board: number): number {
    if (!this.hashing || this.poolless || this.disabledBoards.has(board) || this.deadBoards.has(board)) return 0;
    return this.boardGhs * (this.powerTargetW / this.nominalPowerW);
  }

  totalRateGhs(): number {
    let sum = 0;
    for (let b = 1; b <= this.boards; b++) sum += this.boardRateGhs(b);
    return sum;
  }

  powerW(): number {
    return this.hashing ? Math.round(this.powerTargetW * 0.99) : 90;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  pause(): void {
    this.settle();
    this.pausedFlag = true;
  }

  resume(): void {
    this.settle();
    this.pausedFlag = false;
  }

  killPool(url: string): void {
    this.settle();
    this.deadPools.add(url);
  }

  revivePool(url: string): void {
    this.settle();
    this.deadPools.delete(url);
  }

  /** The pool keeps the connection and sends nothing: bosminer stays on it, no share is accepted. */
  silencePool(url: string): void {
    this.settle();
    this.silentPools.add(url);
  }

  resumePool(url: string): void {
    this.settle();
    this.silentPools.delete(url);
  }

  /** Starts overheating (see BraiinsHeat); cool() ends it and the chips return to normal at the same rate. */
  overheat(heat: BraiinsHeat): void {
    this.moveHeat();
    this.heat = heat;
  }

  cool(): void {
    this.moveHeat();
    this.heat = undefined;
  }

  /** The hottest chip of board `board` (1-based) now: its normal figure, plus the heat while overheating. */
  chipTempC(board: number): number {
    if (!this.hashing) return 30;
    this.moveHeat();
    return Math.round((68 + board + this.heatExcessC) * 10) / 10;
  }

  /** Moves the heat excess towards its target for the time since the last move. */
  private moveHeat(): void {
    const now = this.now();
    const elapsedS = Math.max(0, (now - this.heatAt) / 1000);
    this.heatAt = now;
    const hottest = 68 + this.boards;
    const target = this.heat ? (this.powerTargetW > this.heat.hotAboveW ? this.heat.hotC : this.heat.coolC) - hottest : 0;
    const step = (this.heat?.rampCPerS ?? 10) * elapsedS;
    const gap = target - this.heatExcessC;
    this.heatExcessC = Math.abs(gap) <= step ? target : this.heatExcessC + Math.sign(gap) * step;
  }

  /**
   * Banks the shares found since the last change: one every shareIntervalMs of hashing on the pool in use. Called before every
   * change that moves hashing, and before every read, so each pool's count is what it accepted.
   */
  private settle(): void {
    const now = this.now();
    const from = Math.max(this.accruedUntil, this.bosminerStartsAt);
    const active = this.activePool();
    const silent = active !== undefined && this.silentPools.has(this.groups[active.group]!.pools[active.pool]!.url);
    if (active && this.hashing && !this.poolless && !silent && now > from) {
      const found = Math.floor((now - from) / this.shareIntervalMs);
      const url = this.groups[active.group]!.pools[active.pool]!.url;
      this.shares.set(url, (this.shares.get(url) ?? 0) + found);
      this.accruedUntil = from + found * this.shareIntervalMs;
    } else {
      this.accruedUntil = now;
    }
  }

  /**
   * The pools' share difficulty: what makes one share per shareIntervalMs at the nominal hashrate (65536 at the
   * defaults' 141 TH/s and 2 s), as a pool's vardiff would settle.
   */
  shareDifficulty(): number {
    return Math.max(1, Math.round((this.boardGhs * this.boards * 1e9 * (this.shareIntervalMs / 1000)) / 2 ** 32));
  }

  /** Shares one pool accepted, or all pools together. */
  acceptedShares(url?: string): number {
    this.settle();
    if (url !== undefined) return this.shares.get(url) ?? 0;
    let sum = 0;
    for (const n of this.shares.values()) sum += n;
    return sum;
  }

  poolAlive(url: string): boolean {
    return !this.deadPools.has(url);
  }

  /** The pool mining now: the first enabled pool that answers, of the first group that has one. */
  activePool(): { group: number; pool: number } | undefined {
    if (!this.hashing) return undefined;
    for (let g = 0; g < this.groups.length; g++) {
      const p = this.groups[g]!.pools.findIndex((x) => x.enabled && this.poolAlive(x.url));
      if (p >= 0) return { group: g, pool: p };
    }
    return undefined;
  }

  setGroups(groups: readonly SimBraiinsGroup[]): void {
    if (this.groups.length > 0) this.settle();
    this.groups = groups.map((g) => ({ uid: uid(), name: g.name, quota: g.quota, pools: g.pools.map((p) => ({ ...p, uid: uid() })) }));
  }

  /** bosminer restarts: down for restartPauseMs, then mining from uptime 0. */
  restart(): void {
    this.settle();
    this.restarts++;
    this.bosminerStartsAt = this.now() + this.restartPauseMs;
  }

  reboot(): void {
    this.reboots++;
    this.pausedFlag = false;
    this.restart();
  }
}
