import { firstAtOrAfter, formatDuration } from '../policy-context';
import { poolByKey, poolKey } from '../pool-identity';
import type { DurationMs, EpochMs, FailoverParams, PoolObservation, RigObservation, Verdict } from '../policy-types';
import { formatHashrate, meanHashrate } from './hashing.verdict';
import { sharesProgressed } from './pool-progress';

export type PoolHealth = 'healthy' | 'dead' | 'disabled' | 'rejecting' | 'silent';

/** 2^32: the hashes a share of difficulty 1 takes on average (sha256d). */
const HASHES_PER_DIFF1 = 4_294_967_296;

/**
 * Without any expected share interval (no share difficulty yet, too little share history) silence needs this many
 * times silentAfterMs: 30 s at the default 12 s, the plain rule the product had; scaled with an operator's choice.
 */
export const WITHOUT_INTERVAL_FACTOR = 2.5;

/**
 * Shares the miner found for a pool (its "Diff1 Shares" grew by this many share difficulties) that the pool has
 * neither accepted, rejected nor called stale: more than a round trip's worth in flight means the pool does not
 * answer. cgminer and bfgminer count Diff1 Shares when the work is found (update_work_stats), before the submit.
 */
export const UNANSWERED_SHARES = 3;

export type PoolHealthParams = Pick<
  FailoverParams,
  'silentAfterMs' | 'silentProbability' | 'silentShareIntervals' | 'shareRateWindowMs' | 'rejectWindowMs' | 'maxRejectRatio' | 'minSharesForRejectRatio'
>;

export interface PoolHealthOptions {
  readonly params: PoolHealthParams;
  /**
   * Judge silence: the pool is in use and the miner should have been hashing on it since this time (it became
   * in use, the miner started, an action interrupted it). Absent: status and reject ratio only.
   */
  readonly silenceSince?: EpochMs;
}

/**
 * Is this pool healthy? Dead, disabled or rejecting as the miner says: confidently not. Rejecting too many
 * shares over rejectWindowMs: confidently not. Silent (in use, and judged only then): no share for a gap that a
 * Poisson share process would show with a probability under silentProbability, at the miner's hashrate OVER
 * THE GAP (a drop in the miner's hashrate is never the pool's fault) and the pool's share difficulty
 * (expected interval = difficulty * 2^32 / hashrate), and at least silentAfterMs.
 */
export function poolHealthVerdict(
  observations: readonly RigObservation[],
  now: EpochMs,
  key: string,
  options: PoolHealthOptions,
): Verdict<PoolHealth> {
  const latest = observations[observations.length - 1];
  const pool = latest ? poolByKey(latest, key) : undefined;
  if (!latest || !pool) return { value: 'healthy', confidence: 'uncertain', evidence: ['the pool is not in the latest reading'] };
  const p = options.params;
  if (pool.state === 'dead' || pool.state === 'disabled') {
    return { value: pool.state, confidence: 'confident', evidence: [`pool ${pool.index} Status is ${pool.state === 'dead' ? 'Dead' : 'Disabled'}`] };
  }
  if (pool.state === 'rejecting') return { value: 'rejecting', confidence: 'confident', evidence: [`pool ${pool.index} is reported rejecting`] };
  const ratio = rejectRatio(observations, now, key, p);
  if (ratio && ratio.ratio > p.maxRejectRatio) {
    return {
      value: 'rejecting',
      confidence: 'confident',
      evidence: [`pool ${pool.index} rejected ${ratio.rejected} of ${ratio.rejected + ratio.accepted} shares (${Math.round(ratio.ratio * 100)} %) over the last ${formatDuration(p.rejectWindowMs)}`],
    };
  }
  const base = pool.state === 'unknown' ? [`pool ${pool.index} Status is unknown`] : [`pool ${pool.index} Status is Alive`];
  if (options.silenceSince === undefined) return { value: 'healthy', confidence: pool.state === 'alive' ? 'confident' : 'uncertain', evidence: base };
  return silenceVerdict(observations, latest, pool, key, options.silenceSince, p, base);
}

function silenceVerdict(
  observations: readonly RigObservation[],
  latest: RigObservation,
  pool: PoolObservation,
  key: string,
  judgedSince: EpochMs,
  p: PoolHealthParams,
  base: readonly string[],
): Verdict<PoolHealth> {
  const lastProgress = lastProgressAt(observations, key);
  const since = Math.max(lastProgress ?? judgedSince, judgedSince);
  const gap = latest.at - since;
  const evidence = [...base, `no share on pool ${pool.index} for ${formatDuration(gap)}${lastProgress === undefined || lastProgress < judgedSince ? ' (counted from when it should have been hashing there)' : ''}`];
  // Never silent under silentAfterMs, whatever the rate: no need to measure one (the common, healthy case).
  if (gap < p.silentAfterMs) return { value: 'healthy', confidence: 'confident', evidence };
  const during = meanHashrate(observations, since, latest.at);
  if (!during || during.hs <= 0) {
    const why = during ? `the miner hashed at 0 H/s over the silence (${during.source})` : 'no hashrate reported over the silence';
    return { value: 'healthy', confidence: during ? 'confident' : 'uncertain', evidence: [...evidence, `${why}: not the pool's fault`] };
  }
  evidence.push(`the miner hashed at ${formatHashrate(during.hs)} over the silence (${during.source})`);
  const found = unansweredShares(observations, latest, pool, key, since);
  if (found) {
    // The miner's own count of the shares it found decides: no luck involved either way.
    evidence.push(found.line);
    if (found.unanswered >= UNANSWERED_SHARES) return { value: 'silent', confidence: 'confident', evidence };
    const chance = poissonChance(observations, pool, since, during.hs, gap, p);
    if (chance !== undefined && chance < p.silentProbability) {
      evidence.push(`no share by chance would be ${chance < 1e-6 ? '< 1e-6' : chance.toPrecision(2)}, but the miner found too few shares for the pool to answer: its rate or luck, not the pool`);
      return { value: 'healthy', confidence: 'uncertain', evidence };
    }
    return { value: 'healthy', confidence: 'confident', evidence };
  }
  const nothingFound = nothingFoundYet(observations, pool, key, since);
  if (nothingFound) {
    // No share ever answered (so no interval to expect) and the miner's own count shows it found none to submit:
    // a slow miner at a high difficulty (cgminer 2.11.4 on a CPU at difficulty 1: a share every ~40 min).
    return { value: 'healthy', confidence: 'uncertain', evidence: [...evidence, nothingFound] };
  }
  const expected = expectedIntervalMs(observations, pool, since, during.hs, p);
  let threshold: DurationMs;
  if (expected) {
    evidence.push(expected.line);
    threshold = Math.max(p.silentAfterMs, expected.multiple * expected.ms);
    const chance = Math.exp(-gap / expected.ms);
    evidence.push(`chance of no share over the gap ${chance < 1e-6 ? '< 1e-6' : chance.toPrecision(2)} (silent below ${p.silentProbability}, and after at least ${formatDuration(p.silentAfterMs)})`);
  } else {
    threshold = p.silentAfterMs * WITHOUT_INTERVAL_FACTOR;
    evidence.push(`no expected share interval (no share difficulty, under ${formatDuration(p.shareRateWindowMs / 2)} of share history): silent after ${formatDuration(threshold)}`);
  }
  if (gap < threshold) return { value: 'healthy', confidence: during.current ? 'confident' : 'uncertain', evidence };
  // An average since start says little about the rate during the gap: a suspicion, not a verdict.
  return { value: 'silent', confidence: during.current ? 'confident' : 'uncertain', evidence: during.current ? evidence : [...evidence, 'only an average since start: the rate over the gap is unknown'] };
}

/**
 * How many shares the miner found for the pool since `since` (Diff1 Shares growth over the share difficulty, in
 * the counter's own units) that the pool has not answered (accepted, rejected or stale). Undefined when the
 * firmware does not keep Diff1 Shares, nothing was accepted yet to learn its units, the difficulty is unknown or
 * the counter went back (a restart).
 */
function unansweredShares(
  observations: readonly RigObservation[],
  latest: RigObservation,
  pool: PoolObservation,
  key: string,
  since: EpochMs,
): { unanswered: number; line: string } | undefined {
  const difficulty = shareDifficulty(pool);
  if (pool.diff1Shares === undefined || difficulty === undefined) return undefined;
  let then: PoolObservation | undefined;
  for (let i = observations.length - 1; i >= 0; i--) {
    if (observations[i]!.at > since) continue;
    then = poolByKey(observations[i]!, key);
    break;
  }
  if (then?.diff1Shares === undefined || pool.diff1Shares < then.diff1Shares || latest.at <= since) return undefined;
  // Its units, from the pool's own history: Diff1 Shares per accepted difficulty. 1 plus the rejected and stale
  // share on sha256d cgminer/bfgminer; about 1/256 on scrypt cgminer 4.x (an L3+: 11,805,080 against 2,988,769,280);
  // a firmware that does not keep it reports 0 for ever (an S9's bmminer at 22,673 accepted): no evidence then.
  if (!(then.diff1Shares > 0) || !(then.difficultyAccepted !== undefined && then.difficultyAccepted > 0)) return undefined;
  const perDifficulty = then.diff1Shares / then.difficultyAccepted;
  const found = (pool.diff1Shares - then.diff1Shares) / (difficulty * perDifficulty);
  const answered = Math.max(0, (pool.rejected ?? 0) - (then.rejected ?? 0)) + Math.max(0, (pool.stale ?? 0) - (then.stale ?? 0));
  const unanswered = Math.max(0, Math.round((found - answered) * 100) / 100);
  return {
    unanswered,
    line: `the miner found ${Math.round(found * 100) / 100} share(s) at difficulty ${difficulty} for pool ${pool.index} since its last answer ` +
      `(Diff1 Shares ${then.diff1Shares} -> ${pool.diff1Shares}${Math.abs(perDifficulty - 1) > 0.05 ? `, ${perDifficulty.toPrecision(3)} per accepted difficulty` : ''}), ` +
      `${unanswered} unanswered (silent from ${UNANSWERED_SHARES})`,
  };
}

/**
 * When the pool never accepted a share from the miner and its Diff1 Shares stood still over the silence, the
 * sentence that says so: nothing was found to submit, so nothing says the pool failed to answer. Undefined when the
 * firmware does not report Diff1 Shares or the pool has accepted shares (then a still counter may be one the
 * firmware does not keep: an S9's bmminer reports 0 at 22,673 accepted).
 */
function nothingFoundYet(observations: readonly RigObservation[], pool: PoolObservation, key: string, since: EpochMs): string | undefined {
  if (pool.diff1Shares === undefined || (pool.accepted ?? 0) > 0 || (pool.difficultyAccepted ?? 0) > 0) return undefined;
  let then: PoolObservation | undefined;
  for (let i = observations.length - 1; i >= 0; i--) {
    if (observations[i]!.at > since) continue;
    then = poolByKey(observations[i]!, key);
    break;
  }
  if (then?.diff1Shares === undefined || then.diff1Shares !== pool.diff1Shares) return undefined;
  return `the pool has accepted no share yet and the miner found none to submit (Diff1 Shares still ${pool.diff1Shares}): its rate at this difficulty, not the pool`;
}

function poissonChance(
  observations: readonly RigObservation[],
  pool: PoolObservation,
  since: EpochMs,
  hashrateHs: number,
  gap: DurationMs,
  p: PoolHealthParams,
): number | undefined {
  const expected = expectedIntervalMs(observations, pool, since, hashrateHs, p);
  return expected ? Math.exp(-gap / expected.ms) : undefined;
}

interface ExpectedInterval {
  readonly ms: DurationMs;
  /** How many expected intervals without a share make it silent. */
  readonly multiple: number;
  readonly line: string;
}

/**
 * From the pool's share difficulty and the hashrate over the gap, else from the share rate measured before the
 * gap scaled by how the hashrate changed since.
 */
function expectedIntervalMs(
  observations: readonly RigObservation[],
  pool: PoolObservation,
  since: EpochMs,
  hashrateHs: number,
  p: PoolHealthParams,
): ExpectedInterval | undefined {
  const difficulty = shareDifficulty(pool);
  if (difficulty !== undefined) {
    const ms = ((difficulty * HASHES_PER_DIFF1) / hashrateHs) * 1000;
    return {
      ms,
      multiple: Math.log(1 / p.silentProbability),
      line: `expected a share every ${formatMs(ms)} (difficulty ${difficulty} at ${formatHashrate(hashrateHs)})`,
    };
  }
  // Only counters give a rate: a last-share time that changed says "at least one share", no more.
  const measured = pool.accepted === undefined ? undefined : measuredInterval(observations, since, p.shareRateWindowMs);
  if (!measured) return undefined;
  const before = meanHashrate(observations, since - p.shareRateWindowMs, since);
  const scale = before && before.current && before.hs > 0 ? Math.max(1, before.hs / hashrateHs) : 1;
  const ms = measured * scale;
  return {
    ms,
    multiple: Math.max(p.silentShareIntervals, Math.log(1 / p.silentProbability)),
    line: `expected a share every ${formatMs(ms)} (measured ${formatMs(measured)} before the gap${scale > 1 ? `, the hashrate since down to 1/${scale.toFixed(1)}` : ''})`,
  };
}

/** The last share difficulty, else the mean accepted difficulty per share. */
function shareDifficulty(pool: PoolObservation): number | undefined {
  if (pool.lastShareDifficulty !== undefined && pool.lastShareDifficulty > 0) return pool.lastShareDifficulty;
  if (pool.difficultyAccepted !== undefined && pool.difficultyAccepted > 0 && pool.accepted !== undefined && pool.accepted > 0) {
    return pool.difficultyAccepted / pool.accepted;
  }
  return undefined;
}

/** When the pool's shares last moved, or undefined when they never did on record. */
export function lastProgressAt(observations: readonly RigObservation[], key: string): EpochMs | undefined {
  for (let i = observations.length - 1; i >= 1; i--) {
    if (sharesProgressed(poolByKey(observations[i - 1]!, key), poolByKey(observations[i]!, key))) return observations[i]!.at;
  }
  return undefined;
}

/**
 * The mean time between accepted shares of the rig (on whichever pool) over the window before `until`.
 * Undefined with less than half the window on record; no share at all gives the window itself (a lower bound).
 */
function measuredInterval(observations: readonly RigObservation[], until: EpochMs, windowMs: DurationMs): DurationMs | undefined {
  let shares = 0;
  let span = 0;
  for (let i = firstAtOrAfter(observations, until - windowMs) + 1; i < observations.length && observations[i]!.at <= until; i++) {
    const prev = observations[i - 1]!;
    const cur = observations[i]!;
    span += cur.at - prev.at;
    for (const p of cur.pools) {
      const before = poolByKey(prev, poolKey(p));
      if (!before) continue;
      if (p.accepted !== undefined && before.accepted !== undefined && p.accepted > before.accepted) shares += p.accepted - before.accepted;
    }
  }
  if (span < windowMs / 2) return undefined;
  return span / Math.max(shares, 1);
}

interface Ratio {
  readonly ratio: number;
  readonly accepted: number;
  readonly rejected: number;
}

/** rejected / (accepted + rejected) over the window, from counter deltas; undefined below the share minimum. */
export function rejectRatio(observations: readonly RigObservation[], now: EpochMs, key: string, p: PoolHealthParams): Ratio | undefined {
  let accepted = 0;
  let rejected = 0;
  for (let i = firstAtOrAfter(observations, now - p.rejectWindowMs) + 1; i < observations.length; i++) {
    const prev = poolByKey(observations[i - 1]!, key);
    const cur = poolByKey(observations[i]!, key);
    if (!prev || !cur) continue;
    const dA = (cur.accepted ?? 0) - (prev.accepted ?? 0);
    const dR = (cur.rejected ?? 0) - (prev.rejected ?? 0);
    if (dA < 0 || dR < 0) continue; // counters reset: the miner restarted
    accepted += dA;
    rejected += dR;
  }
  const total = accepted + rejected;
  return total >= p.minSharesForRejectRatio ? { ratio: rejected / total, accepted, rejected } : undefined;
}

function formatMs(ms: DurationMs): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : formatDuration(ms);
}
