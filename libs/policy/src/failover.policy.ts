import {
  backoffFactor,
  createContext,
  decide,
  firstAtOrAfter,
  formatDuration,
  heldFor,
  lastAction,
  minerStartAt,
  trailingRun,
  type PolicyContext,
} from './policy-context';
import { activePool, findPool, poolByKey, poolKey, sameUrl } from './pool-identity';
import type {
  Decision,
  DurationMs,
  EpochMs,
  FailoverParams,
  FailoverReason,
  Policy,
  PolicyInput,
  PolicyParamsOverrides,
  PoolObservation,
  PoolSpec,
  RigObservation,
} from './policy-types';

/** A pool of the group's list and, when configured, the miner's pool for it. */
interface Slot {
  readonly spec: PoolSpec;
  readonly specIndex: number;
  readonly key: string;
  readonly pool?: PoolObservation;
}

interface Problem {
  readonly reason: FailoverReason;
  readonly why: string;
}

/** Actions after which a miner needs a moment before it submits shares again. */
const HASHING_INTERRUPTIONS = new Set(['restart-miner', 'reboot-host', 'power-cycle', 'resume-mining', 'apply-profile', 'set-pools', 'switch-pool']);

/**
 * Pool failover. The active pool dead, rejecting or silent -> switch to the next healthy pool of the group's list.
 * Fail back to a more preferred pool only once it has been alive for a stable period (doubling per recent failure).
 * Switches the miner made by itself are observed, counted for the cooldown and never undone while the pool it
 * chose is healthy. No two switches closer than the cooldown.
 */
export class FailoverPolicy implements Policy {
  readonly name = 'failover' as const;

  constructor(private readonly defaults?: PolicyParamsOverrides) {}

  evaluate(input: PolicyInput, now: EpochMs): Decision[] {
    const ctx = createContext(input, now, this.defaults);
    const p = ctx.params.failover;
    const latest = ctx.latest;
    if (!p.enabled || !ctx.fresh || !latest?.reachable || ctx.quarantine || ctx.miningStop) return [];
    if (ctx.spec.pools.length === 0) return [];
    return new FailoverEvaluation(ctx, p, latest).run();
  }
}

class FailoverEvaluation {
  private readonly observations: readonly RigObservation[];
  private readonly slots: readonly Slot[];
  private readonly maxGapMs: DurationMs;
  private readonly memo = new Map<string, unknown>();

  constructor(
    private readonly ctx: PolicyContext,
    private readonly p: FailoverParams,
    private readonly latest: RigObservation,
  ) {
    // Unreachable readings carry no pools: skip them rather than break every run on a single missed poll.
    this.observations = ctx.reachable;
    this.maxGapMs = ctx.params.freshness.maxGapMs;
    this.slots = ctx.spec.pools.map((spec, specIndex) => {
      const pool = findPool(latest.pools, spec);
      return { spec, specIndex, key: pool ? poolKey(pool) : poolKey(spec), ...(pool ? { pool } : {}) };
    });
  }

  /** Computed once per evaluation: several rules ask the same questions. */
  private once<T>(key: string, compute: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, compute());
    return this.memo.get(key) as T;
  }

  run(): Decision[] {
    // No pool list in a reading that had errors: the pools command failed, which says nothing about the pools.
    if (this.latest.pools.length === 0 && this.latest.errorKinds.length > 0) return [];
    const decisions: Decision[] = [];
    const setPools = this.setPoolsDecision();
    if (setPools) decisions.push(setPools);
    const configured = this.slots.filter((s) => s.pool !== undefined);
    if (configured.length === 0) return decisions;

    const active = activePool(this.latest);
    const activeSlot = active ? configured.find((s) => s.pool!.index === active.index) : undefined;
    const cooling = this.inCooldown();
    const problem = this.diagnose(active, activeSlot);

    if (problem) {
      const target = this.pickTarget(configured, active);
      if (!target) {
        const alert = this.noHealthyPoolAlert(problem);
        if (alert) decisions.push(alert);
        return decisions;
      }
      if (!cooling) decisions.push(this.switchTo(target, active, problem.reason, `${problem.why}; switching to`));
      return decisions;
    }

    if (activeSlot && !cooling) {
      const preferred = configured.find((s) => s.specIndex < activeSlot.specIndex && this.isStable(s));
      if (preferred) {
        const stableFor = formatDuration(this.requiredStableMs(preferred));
        decisions.push(
          this.switchTo(preferred, active, 'preferred-pool-stable', `preferred pool ${preferred.spec.url} has been alive for at least ${stableFor}; failing back to`),
        );
      }
    }
    return decisions;
  }

  // --- diagnosis of the active pool -------------------------------------------------------------------------

  private diagnose(active: PoolObservation | undefined, activeSlot: Slot | undefined): Problem | undefined {
    const gap = this.maxGapMs;
    if (!active) {
      const run = trailingRun(this.observations, (o) => activePool(o) === undefined, gap);
      if (!run || run.heldMs < this.p.silentAfterMs) return undefined;
      // Shares still being accepted: the firmware just does not say which pool is active. No verdict.
      if (sharesMoved(run.items)) return undefined;
      return { reason: 'no-active-pool', why: `the miner has reported no active pool for ${formatDuration(run.heldMs)}` };
    }
    if (active.state === 'dead' || active.state === 'disabled') {
      return { reason: 'active-pool-dead', why: `active pool ${active.url} is ${active.state}` };
    }
    if (active.state === 'rejecting') {
      return { reason: 'active-pool-rejecting', why: `active pool ${active.url} is rejecting shares` };
    }
    const ratio = this.rejectRatio(poolKey(active));
    if (ratio !== undefined && ratio > this.p.maxRejectRatio) {
      const pct = Math.round(ratio * 100);
      return {
        reason: 'active-pool-rejecting',
        why: `active pool ${active.url} rejected ${pct} % of shares over the last ${formatDuration(this.p.rejectWindowMs)}`,
      };
    }
    if (!activeSlot) {
      const key = poolKey(active);
      const offSpec = (o: RigObservation) => {
        const a = activePool(o);
        return a !== undefined && poolKey(a) === key;
      };
      return heldFor(this.observations, offSpec, this.p.silentAfterMs, gap)
        ? { reason: 'active-pool-not-in-spec', why: `active pool ${active.url} is not in the group's pool list` }
        : undefined;
    }
    const silence = this.silence(poolKey(active));
    const threshold = silence ? this.silenceThresholdMs(silence.since) : undefined;
    const silentMs = silence?.ms;
    if (silentMs !== undefined && threshold && silentMs >= threshold.ms) {
      const usual = threshold.intervalMs !== undefined ? ` (${this.p.silentShareIntervals} times its usual share interval of ${formatDuration(threshold.intervalMs)})` : '';
      return {
        reason: 'active-pool-silent',
        why: `active pool ${active.url} has accepted no share for ${formatDuration(silentMs)}${usual} while the miner is hashing`,
      };
    }
    return undefined;
  }

  /**
   * silentAfterMs, or silentShareIntervals times the pool's mean share interval when that is longer: a slow rig
   * (or a high pool difficulty) legitimately goes a while between shares. The interval is the rig's, measured
   * on whichever pool was active over shareRateWindowMs up to the last progress (the silence itself would
   * inflate it); with less than half that on record, silentAfterMs.
   */
  private silenceThresholdMs(until: EpochMs): { ms: DurationMs; intervalMs?: DurationMs } {
    const all = this.observations;
    let shares = 0;
    let span = 0;
    // The window [until - shareRateWindowMs, until], by index: no copy of the history per evaluation.
    for (let i = firstAtOrAfter(all, until - this.p.shareRateWindowMs) + 1; i < all.length && all[i]!.at <= until; i++) {
      const key = activeKeyOf(all[i]!);
      if (key === undefined || activeKeyOf(all[i - 1]!) !== key) continue;
      const prev = poolByKey(all[i - 1]!, key);
      const cur = poolByKey(all[i]!, key);
      if (prev?.accepted === undefined || cur?.accepted === undefined) continue;
      if (cur.accepted < prev.accepted) continue; // counter reset
      shares += cur.accepted - prev.accepted;
      span += all[i]!.at - all[i - 1]!.at;
    }
    if (span < this.p.shareRateWindowMs / 2) return { ms: this.p.silentAfterMs };
    const intervalMs = span / Math.max(shares, 1);
    const adaptive = this.p.silentShareIntervals * intervalMs;
    return adaptive > this.p.silentAfterMs ? { ms: adaptive, intervalMs } : { ms: this.p.silentAfterMs };
  }

  /**
   * How long the active pool has gone without progress (an accepted share, or a new last-share time), counted
   * only from when the miner should be hashing on it: since it became active, the miner started, or one of
   * our actions interrupted it. Undefined when the miner is not expected to hash (every board dead or disabled).
   */
  private silence(key: string): { ms: DurationMs; since: EpochMs } | undefined {
    const boards = this.latest.boards;
    if (boards.length > 0 && boards.every((b) => b.state === 'dead' || b.state === 'disabled')) return undefined;
    const run = trailingRun(this.observations, (o) => activeKeyOf(o) === key, this.maxGapMs);
    if (!run) return undefined;
    let since = run.start.at;
    // The latest progress is all that matters: walk back from the newest reading.
    for (let i = run.items.length - 1; i >= 1; i--) {
      const prev = poolByKey(run.items[i - 1]!, key);
      const cur = poolByKey(run.items[i]!, key);
      if (!prev || !cur) continue;
      const acceptedMoved = cur.accepted !== undefined && prev.accepted !== undefined && cur.accepted !== prev.accepted;
      const shareTimeMoved = cur.lastShareAt !== undefined && cur.lastShareAt !== prev.lastShareAt;
      if (acceptedMoved || shareTimeMoved) {
        since = run.items[i]!.at;
        break;
      }
    }
    const started = minerStartAt(this.latest);
    if (started !== undefined) since = Math.max(since, started);
    const interruption = lastAction(this.ctx.actions, (a) => HASHING_INTERRUPTIONS.has(a.kind) && a.at <= this.latest.at);
    if (interruption) since = Math.max(since, interruption.at);
    return { ms: this.latest.at - since, since };
  }

  /** rejected / (accepted + rejected) over the window, from counter deltas; undefined below the share minimum. */
  private rejectRatio(key: string): number | undefined {
    return this.once(`reject ${key}`, () => this.computeRejectRatio(key));
  }

  private computeRejectRatio(key: string): number | undefined {
    const all = this.observations;
    let accepted = 0;
    let rejected = 0;
    for (let i = firstAtOrAfter(all, this.latest.at - this.p.rejectWindowMs) + 1; i < all.length; i++) {
      const prev = poolByKey(all[i - 1]!, key);
      const cur = poolByKey(all[i]!, key);
      if (!prev || !cur) continue;
      const dA = (cur.accepted ?? 0) - (prev.accepted ?? 0);
      const dR = (cur.rejected ?? 0) - (prev.rejected ?? 0);
      if (dA < 0 || dR < 0) continue; // counters reset: the miner restarted
      accepted += dA;
      rejected += dR;
    }
    const total = accepted + rejected;
    return total >= this.p.minSharesForRejectRatio ? rejected / total : undefined;
  }

  // --- choosing where to go ---------------------------------------------------------------------------------

  /**
   * The best other pool: alive before unknown, pools we have not just left before those we have, then the
   * group's order. Dead, disabled and rejecting pools are never chosen.
   */
  private pickTarget(configured: readonly Slot[], active: PoolObservation | undefined): Slot | undefined {
    const candidates = configured.filter((s) => {
      const pool = s.pool!;
      if (active && pool.index === active.index) return false;
      if (pool.state !== 'alive' && pool.state !== 'unknown') return false;
      const ratio = this.rejectRatio(s.key);
      return ratio === undefined || ratio <= this.p.maxRejectRatio;
    });
    const rank = (s: Slot): number[] => [this.isSuspect(s) ? 1 : 0, s.pool!.state === 'unknown' ? 1 : 0, s.specIndex];
    return [...candidates].sort((a, b) => compareTuples(rank(a), rank(b)))[0];
  }

  /** A preferred pool we may fail back to: alive throughout its stable period, and left at least that long ago. */
  private isStable(slot: Slot): boolean {
    if (slot.pool?.state !== 'alive') return false;
    const required = this.requiredStableMs(slot);
    const alive = (o: RigObservation) => poolByKey(o, slot.key)?.state === 'alive';
    if (!heldFor(this.observations, alive, required, this.maxGapMs)) return false;
    const left = this.failuresOf(slot).at(-1);
    return left === undefined || this.ctx.now - left >= required;
  }

  private isSuspect(slot: Slot): boolean {
    const left = this.failuresOf(slot).at(-1);
    return left !== undefined && this.ctx.now - left < this.requiredStableMs(slot);
  }

  private requiredStableMs(slot: Slot): DurationMs {
    const factor = backoffFactor(this.failuresOf(slot).length, Number.POSITIVE_INFINITY);
    return Math.min(this.p.failbackStableMs * factor, Math.max(this.p.maxFailbackStableMs, this.p.failbackStableMs));
  }

  /**
   * When the rig left this pool because of a problem, within the failure memory: switches the miner made to a
   * less preferred pool, and our own switches away for any reason but a failback. Events closer together than
   * the cooldown are one failure (our command and the change it caused).
   */
  private failuresOf(slot: Slot): EpochMs[] {
    return this.once(`failures ${slot.key}`, () => this.computeFailures(slot));
  }

  private computeFailures(slot: Slot): EpochMs[] {
    const since = this.ctx.now - this.p.failureMemoryMs;
    const times: EpochMs[] = [];
    for (const s of this.observedSwitches()) {
      if (s.from !== slot.key) continue;
      const toIndex = this.slots.findIndex((x) => x.key === s.to);
      if (toIndex === -1 || toIndex > slot.specIndex) times.push(s.at);
    }
    for (const a of this.ourSwitches()) {
      const fromUrl = a.params['fromUrl'];
      if (a.reason !== 'preferred-pool-stable' && typeof fromUrl === 'string' && sameUrl(fromUrl, slot.spec.url)) times.push(a.at);
    }
    const merged: EpochMs[] = [];
    for (const t of times.filter((t) => t >= since).sort((a, b) => a - b)) {
      const prev = merged[merged.length - 1];
      if (prev === undefined || t - prev >= this.p.switchCooldownMs) merged.push(t);
    }
    return merged;
  }

  // --- cooldown ------------------------------------------------------------------------------------------------

  private observedSwitches(): { at: EpochMs; from: string; to: string }[] {
    return this.once('switches', () => this.computeObservedSwitches());
  }

  private computeObservedSwitches(): { at: EpochMs; from: string; to: string }[] {
    const switches: { at: EpochMs; from: string; to: string }[] = [];
    let prevKey: string | undefined;
    for (const o of this.observations) {
      const key = activeKeyOf(o);
      if (key !== undefined && prevKey !== undefined && key !== prevKey) switches.push({ at: o.at, from: prevKey, to: key });
      if (key !== undefined) prevKey = key;
    }
    return switches;
  }

  private ourSwitches() {
    return this.ctx.actions.filter((a) => a.kind === 'switch-pool' && a.outcome !== 'failed' && a.outcome !== 'rejected');
  }

  /** Any switch, ours or the miner's, within the cooldown. */
  private inCooldown(): boolean {
    const times = [...this.observedSwitches().map((s) => s.at), ...this.ourSwitches().map((a) => a.at)];
    return times.some((t) => this.ctx.now - t < this.p.switchCooldownMs);
  }

  // --- decisions ---------------------------------------------------------------------------------------------

  private switchTo(target: Slot, from: PoolObservation | undefined, reason: FailoverReason, why: string): Decision {
    const pool = target.pool!;
    return decide(this.ctx, 'failover', 'switch-pool', reason, reason === 'preferred-pool-stable' ? 'info' : 'warning',
      `${why} pool ${pool.index} (${pool.url})`, {
        poolIndex: pool.index,
        url: pool.url,
        user: pool.user,
        ...(from ? { fromUrl: from.url, fromPoolIndex: from.index } : {}),
      });
  }

  private setPoolsDecision(): Decision | undefined {
    const missing = this.slots.filter((s) => s.pool === undefined).map((s) => s.spec.url);
    if (missing.length === 0) return undefined;
    const last = lastAction(this.ctx.actions, (a) => a.kind === 'set-pools' && a.outcome !== 'failed' && a.outcome !== 'rejected');
    if (last && this.ctx.now - last.at < this.p.setPoolsCooldownMs) return undefined;
    // Never carry credentials in a decision: decisions are logged. The caller adds passwords from the spec.
    const pools = this.ctx.spec.pools.map((s) => ({ url: s.url, user: s.user }));
    return decide(this.ctx, 'failover', 'set-pools', 'spec-pools-missing', 'warning',
      `${missing.length} pool(s) of the group's list are not configured on the miner (${missing.join(', ')}); setting the pool list`,
      { pools, missing });
  }

  private noHealthyPoolAlert(problem: Problem): Decision | undefined {
    const last = lastAction(this.ctx.actions, (a) => a.kind === 'alert' && a.reason === 'no-healthy-pool');
    if (last && this.ctx.now - last.at < this.p.alertRepeatMs) return undefined;
    return decide(this.ctx, 'failover', 'alert', 'no-healthy-pool', 'critical',
      `${problem.why}, and no other pool of the group's list is healthy`, { subject: problem.reason });
  }
}

function activeKeyOf(o: RigObservation): string | undefined {
  const a = activePool(o);
  return a ? poolKey(a) : undefined;
}

function sharesMoved(items: readonly RigObservation[]): boolean {
  for (let i = 1; i < items.length; i++) {
    for (const cur of items[i]!.pools) {
      const prev = poolByKey(items[i - 1]!, poolKey(cur));
      if (prev?.accepted !== undefined && cur.accepted !== undefined && cur.accepted > prev.accepted) return true;
    }
  }
  return false;
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
