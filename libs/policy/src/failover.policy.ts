import { settlingCommand } from './command-settle';
import { hashingVerdict, hasEverHashed } from './evidence/hashing.verdict';
import { lastProgressAt, poolHealthVerdict, type PoolHealth } from './evidence/pool-health.verdict';
import { poolInUseVerdict } from './evidence/pool-in-use.verdict';
import { stepPoolKey } from './evidence/pool-progress';
import {
  backoffFactor,
  createContext,
  decide,
  formatDuration,
  lastAction,
  minerStartAt,
  type PolicyContext,
} from './policy-context';
import { findPool, poolByKey, poolKey, sameUrl } from './pool-identity';
import type {
  ActionRecord,
  Confidence,
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
  SettlingAction,
  Verdict,
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
  readonly evidence: readonly string[];
  readonly confidence: Confidence;
}

interface ObservedSwitch {
  readonly at: EpochMs;
  readonly from: string;
  readonly to: string;
  /** True when no command of ours (or an operator's) explains it: the miner's own failover or failback. */
  readonly byMiner: boolean;
}

/** Actions after which a miner needs a moment before it submits shares again. */
const HASHING_INTERRUPTIONS = new Set(['restart-miner', 'reboot-host', 'power-cycle', 'resume-mining', 'apply-profile', 'set-pools', 'switch-pool']);

const UNHEALTHY_REASON: Record<Exclude<PoolHealth, 'healthy'>, FailoverReason> = {
  dead: 'active-pool-dead',
  disabled: 'active-pool-dead',
  rejecting: 'active-pool-rejecting',
  silent: 'active-pool-silent',
};

/**
 * Pool failover, decided from evidence (see evidence/): which pool the miner is using, whether that pool is
 * healthy, whether the miner is hashing at all. Acts only on confident verdicts, and says which evidence.
 * The pool in use dead, rejecting or silent -> switch to the next healthy pool of the group's list. Fail back
 * to a more preferred pool once it has been alive for a stable period (doubling per recent failure) and, when
 * the miner left it by itself, once the miner's own failback had its chance. The miner's own switches are
 * observed and never undone; our switches are damped by a cooldown that doubles per recent switch and a budget
 * per window; when no pool is healthy, one alert.
 */
/** The commands of this policy whose after-effects may look like a pool fault for a while. */
const POOL_COMMANDS: readonly SettlingAction[] = ['switch-pool', 'set-pools'];

export class FailoverPolicy implements Policy {
  readonly name = 'failover' as const;

  constructor(private readonly defaults?: PolicyParamsOverrides) {}

  evaluate(input: PolicyInput, now: EpochMs): Decision[] {
    const ctx = createContext(input, now, this.defaults);
    const p = ctx.params.failover;
    const latest = ctx.latest;
    if (!p.enabled || !ctx.fresh || !latest?.reachable || ctx.quarantine || ctx.miningStop) return [];
    if (ctx.spec.pools.length === 0) return [];
    // A pool change still settling on this miner's driver (a stock Antminer's web UI rewrites its config and restarts
    // mining for minutes): the dead or missing pools it shows meanwhile are the command working, not a new fault.
    // Nothing is decided until it has settled and a reading from after that is in.
    const settling = settlingCommand(ctx.actions, ctx.params.watchdog.commandSettleMs, latest.driver, POOL_COMMANDS);
    if (settling && (now < settling.until || latest.at < settling.until)) return [];
    return new FailoverEvaluation(ctx, p, latest).run();
  }
}

class FailoverEvaluation {
  private readonly observations: readonly RigObservation[];
  private readonly slots: readonly Slot[];
  private readonly memo = new Map<string, unknown>();

  constructor(
    private readonly ctx: PolicyContext,
    private readonly p: FailoverParams,
    private readonly latest: RigObservation,
  ) {
    // Unreachable readings carry no pools: skip them rather than break every run on a single missed poll.
    this.observations = ctx.reachable;
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

    const inUse = poolInUseVerdict(this.observations, this.latest.at, this.p.inUseEvidenceMs);
    if (inUse.confidence !== 'confident' || !inUse.value) {
      // Not sure which pool the miner uses: no switch is decided on a guess. Every pool down is still one alert.
      const allDown = configured.every((s) => s.pool!.state === 'dead' || s.pool!.state === 'disabled');
      if (allDown) {
        const alert = this.noHealthyPoolAlert({
          reason: 'no-active-pool',
          why: `every pool of the group's list is dead or disabled (${configured.map((s) => `pool ${s.pool!.index} ${s.pool!.state}`).join(', ')})`,
          evidence: inUse.evidence,
          confidence: 'confident',
        }, '');
        if (alert) decisions.push(alert);
      }
      return decisions;
    }
    const active = inUse.value;
    const activeSlot = configured.find((s) => s.pool!.index === active.index);
    const problem = this.diagnose(active, activeSlot, inUse);

    if (problem) {
      if (problem.confidence !== 'confident') return decisions;
      const target = this.pickTarget(configured, active);
      if (!target) {
        const alert = this.noHealthyPoolAlert(problem);
        if (alert) decisions.push(alert);
        return decisions;
      }
      const budget = this.budgetLeft();
      if (!budget.ok) {
        const alert = this.noHealthyPoolAlert({
          ...problem,
          why: `${problem.why}, and ${budget.used} switches within ${formatDuration(this.p.switchBudgetWindowMs)} found no pool that stays healthy`,
        }, '');
        if (alert) decisions.push(alert);
        return decisions;
      }
      if (!this.inCooldown()) decisions.push(this.switchTo(target, active, problem.reason, `${problem.why}; switching to`, problem.evidence, problem.confidence));
      return decisions;
    }

    if (activeSlot && !this.inCooldown() && this.budgetLeft().ok) {
      const preferred = configured.find((s) => s.specIndex < activeSlot.specIndex && this.isStable(s));
      if (preferred) {
        const stableFor = formatDuration(this.requiredStableMs(preferred));
        decisions.push(
          this.switchTo(preferred, active, 'preferred-pool-stable', `preferred pool ${preferred.spec.url} has been alive for at least ${stableFor}; failing back to`, inUse.evidence, 'confident'),
        );
      }
    }
    return decisions;
  }

  // --- diagnosis of the pool in use ---------------------------------------------------------------------------

  private diagnose(active: PoolObservation, activeSlot: Slot | undefined, inUse: Verdict<PoolObservation | undefined>): Problem | undefined {
    const key = poolKey(active);
    if (!activeSlot) {
      return this.usedFor(key) >= this.p.silentAfterMs
        ? {
            reason: 'active-pool-not-in-spec',
            why: `active pool ${active.url} is not in the group's pool list`,
            evidence: inUse.evidence,
            confidence: inUse.confidence,
          }
        : undefined;
    }
    const health = poolHealthVerdict(this.observations, this.latest.at, key, { params: this.p, silenceSince: this.silenceSince(key) });
    if (health.value === 'healthy') return undefined;
    const hashing = hashingVerdict(this.observations, this.latest.at, this.p.inUseEvidenceMs);
    const evidence = [...inUse.evidence, ...health.evidence, ...hashing.evidence];
    // A miner that is not hashing cannot be short of shares through its pool's fault (every board dead: the
    // watchdog's case). One that never hashed (no devices, 0 H/s since start, no share ever) gains nothing from
    // another pool either, even when this one is dead.
    if (!hashing.value && hashing.confidence === 'confident') {
      if (health.value === 'silent' || !hasEverHashed(this.observations)) return undefined;
    }
    const reason = UNHEALTHY_REASON[health.value];
    const why =
      health.value === 'silent'
        ? `active pool ${active.url} has accepted no share for ${formatDuration(this.latest.at - this.silentFrom(key))} while the miner is hashing`
        : health.value === 'rejecting'
          ? `active pool ${active.url} is rejecting shares`
          : `active pool ${active.url} is ${health.value}`;
    return { reason, why, evidence, confidence: health.confidence };
  }

  /** Since when the silence of the pool is counted (its last progress, or when it should have been hashing). */
  private silentFrom(key: string): EpochMs {
    return Math.max(lastProgressAt(this.observations, key) ?? Number.NEGATIVE_INFINITY, this.silenceSince(key));
  }

  /**
   * When the miner should have started hashing on this pool: the later of when it became the pool in use (the
   * run of readings that point at it, or at nothing else), the miner's start and our last action that
   * interrupts hashing.
   */
  private silenceSince(key: string): EpochMs {
    return this.once(`since ${key}`, () => {
      const all = this.observations;
      let since = all[0]!.at;
      for (let i = all.length - 1; i >= 1; i--) {
        const k = stepPoolKey(all[i - 1], all[i]!);
        if (k !== undefined && k !== key) {
          since = all[i]!.at;
          break;
        }
      }
      const started = minerStartAt(this.latest);
      if (started !== undefined) since = Math.max(since, started);
      // A command the miner refused (or that failed) interrupted nothing.
      const interruption = lastAction(this.ctx.actions, (a) => HASHING_INTERRUPTIONS.has(a.kind) && a.at <= this.latest.at && a.outcome !== 'failed' && a.outcome !== 'rejected');
      if (interruption) since = Math.max(since, interruption.at);
      return since;
    });
  }

  /** How long the readings have pointed at this pool (or at nothing else), up to the latest. */
  private usedFor(key: string): DurationMs {
    const all = this.observations;
    let start = all[all.length - 1]!.at;
    for (let i = all.length - 1; i >= 1; i--) {
      const k = stepPoolKey(all[i - 1], all[i]!);
      if (k !== undefined && k !== key) break;
      if (all[i]!.at - all[i - 1]!.at > this.ctx.params.freshness.maxGapMs) break;
      start = all[i - 1]!.at;
    }
    return this.latest.at - start;
  }

  // --- choosing where to go ---------------------------------------------------------------------------------

  /**
   * The best other pool: alive before unknown, pools we have not just left before those we have, then the
   * group's order. Dead, disabled and rejecting pools are never chosen.
   */
  private pickTarget(configured: readonly Slot[], active: PoolObservation): Slot | undefined {
    const candidates = configured.filter((s) => {
      const pool = s.pool!;
      if (pool.index === active.index) return false;
      if (pool.state !== 'alive' && pool.state !== 'unknown') return false;
      return poolHealthVerdict(this.observations, this.latest.at, s.key, { params: this.p }).value === 'healthy';
    });
    const rank = (s: Slot): number[] => [this.isSuspect(s) ? 1 : 0, s.pool!.state === 'unknown' ? 1 : 0, s.specIndex];
    return [...candidates].sort((a, b) => compareTuples(rank(a), rank(b)))[0];
  }

  /**
   * A preferred pool we may fail back to: alive throughout its stable period, left at least that long ago, and,
   * when the miner left it by itself, alive for the miner's own failback grace too (bfgminer fails back after
   * --failover-switch-delay; a switchpool of ours meanwhile would cancel that).
   */
  private isStable(slot: Slot): boolean {
    if (slot.pool?.state !== 'alive') return false;
    let required = this.requiredStableMs(slot);
    const leftByMiner = this.observedSwitches().filter((s) => s.from === slot.key && s.byMiner).at(-1);
    if (leftByMiner && this.ctx.now - leftByMiner.at < this.p.failureMemoryMs) required = Math.max(required, this.p.minerFailbackGraceMs);
    if (this.aliveFor(slot) < required) return false;
    const left = this.failuresOf(slot).at(-1);
    return left === undefined || this.ctx.now - left >= required;
  }

  /** How long the pool has been reported alive, up to the latest reading. */
  private aliveFor(slot: Slot): DurationMs {
    const all = this.observations;
    let start: EpochMs | undefined;
    for (let i = all.length - 1; i >= 0; i--) {
      if (poolByKey(all[i]!, slot.key)?.state !== 'alive') break;
      if (i < all.length - 1 && all[i + 1]!.at - all[i]!.at > this.ctx.params.freshness.maxGapMs) break;
      start = all[i]!.at;
    }
    return start === undefined ? 0 : this.latest.at - start;
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
    return this.once(`failures ${slot.key}`, () => {
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
    });
  }

  // --- switches seen, cooldown and budget ----------------------------------------------------------------------

  /** Changes of the pool in use over the history, each marked as the miner's own or explained by a command. */
  private observedSwitches(): ObservedSwitch[] {
    return this.once('switches', () => {
      const commands = this.ctx.actions.filter((a) => (a.kind === 'switch-pool' || a.kind === 'set-pools') && a.outcome !== 'failed' && a.outcome !== 'rejected');
      const switches: ObservedSwitch[] = [];
      let prevKey: string | undefined;
      const all = this.observations;
      for (let i = 0; i < all.length; i++) {
        const key = stepPoolKey(all[i - 1], all[i]!);
        if (key !== undefined && prevKey !== undefined && key !== prevKey) {
          const at = all[i]!.at;
          const explained = commands.some((a) => a.at <= at && at - a.at <= this.p.switchCooldownMs);
          switches.push({ at, from: prevKey, to: key, byMiner: !explained });
        }
        if (key !== undefined) prevKey = key;
      }
      return switches;
    });
  }

  private ourSwitches(): ActionRecord[] {
    return this.ctx.actions.filter((a) => a.kind === 'switch-pool' && a.outcome !== 'failed' && a.outcome !== 'rejected');
  }

  /** Every switch-pool sent, whatever became of it: a refused or failed write is not retried at once (a stock
   * Antminer answers every write with Code 45; each reconcile would send it again). */
  private switchAttempts(): ActionRecord[] {
    return this.ctx.actions.filter((a) => a.kind === 'switch-pool');
  }

  /** Our (the failover policy's) switch attempts within the budget window. */
  private recentOwnSwitches(): ActionRecord[] {
    return this.switchAttempts().filter((a) => a.by === 'failover' && this.ctx.now - a.at < this.p.switchBudgetWindowMs);
  }

  private budgetLeft(): { ok: boolean; used: number } {
    const used = this.recentOwnSwitches().length;
    return { ok: used < this.p.switchBudget, used };
  }

  /**
   * Any switch, ours or the miner's, within the cooldown; after our own, the cooldown doubles per earlier switch
   * of ours within the budget window (back-off).
   */
  private inCooldown(): boolean {
    const now = this.ctx.now;
    if (this.observedSwitches().some((s) => now - s.at < this.p.switchCooldownMs)) return true;
    if (this.switchAttempts().some((a) => now - a.at < this.p.switchCooldownMs)) return true;
    const own = this.recentOwnSwitches();
    const last = own[own.length - 1];
    return last !== undefined && now - last.at < this.p.switchCooldownMs * backoffFactor(own.length, Number.POSITIVE_INFINITY);
  }

  // --- decisions ---------------------------------------------------------------------------------------------

  private switchTo(
    target: Slot,
    from: PoolObservation,
    reason: FailoverReason,
    why: string,
    evidence: readonly string[],
    confidence: Confidence,
  ): Decision {
    const pool = target.pool!;
    return decide(this.ctx, 'failover', 'switch-pool', reason, reason === 'preferred-pool-stable' ? 'info' : 'warning',
      `${why} pool ${pool.index} (${pool.url}); evidence (${confidence}): ${evidence.join('; ')}`, {
        poolIndex: pool.index,
        url: pool.url,
        user: pool.user,
        fromUrl: from.url,
        fromPoolIndex: from.index,
        evidence,
        confidence,
      });
  }

  private setPoolsDecision(): Decision | undefined {
    const missing = this.slots.filter((s) => s.pool === undefined).map((s) => s.spec.url);
    if (missing.length === 0) return undefined;
    // Every attempt counts for the cooldown, and each failure in a row doubles it (up to 8 times): a miner that
    // refuses the write (read-only API, Code 45) is not sent it again on every reconcile.
    const attempts = this.ctx.actions.filter((a) => a.kind === 'set-pools');
    const last = attempts[attempts.length - 1];
    let failedInARow = 0;
    for (let i = attempts.length - 1; i >= 0 && (attempts[i]!.outcome === 'failed' || attempts[i]!.outcome === 'rejected' || attempts[i]!.outcome === 'timed-out'); i--) failedInARow++;
    if (last && this.ctx.now - last.at < this.p.setPoolsCooldownMs * Math.min(8, 2 ** Math.max(0, failedInARow - 1))) return undefined;
    // Never carry credentials in a decision: decisions are logged. The caller adds passwords from the spec.
    const pools = this.ctx.spec.pools.map((s) => ({ url: s.url, user: s.user }));
    return decide(this.ctx, 'failover', 'set-pools', 'spec-pools-missing', 'warning',
      `${missing.length} pool(s) of the group's list are not configured on the miner (${missing.join(', ')}); setting the pool list`,
      { pools, missing });
  }

  private noHealthyPoolAlert(problem: Problem, tail = ", and no other pool of the group's list is healthy"): Decision | undefined {
    const last = lastAction(this.ctx.actions, (a) => a.kind === 'alert' && a.reason === 'no-healthy-pool');
    if (last && this.ctx.now - last.at < this.p.alertRepeatMs) return undefined;
    return decide(this.ctx, 'failover', 'alert', 'no-healthy-pool', 'critical',
      `${problem.why}${tail}; evidence (${problem.confidence}): ${problem.evidence.join('; ')}`,
      { subject: problem.reason, evidence: problem.evidence, confidence: problem.confidence });
  }
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
