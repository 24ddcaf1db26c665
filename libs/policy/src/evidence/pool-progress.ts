import { firstAtOrAfter } from '../policy-context';
import { poolByKey, poolKey, sameUrl } from '../pool-identity';
import type { EpochMs, PoolObservation, RigObservation } from '../policy-types';

/** Driver evidence for `active` that only repeats a connection flag, the latest share time or the configured order. */
export const WEAK_ACTIVE_EVIDENCE = new Set(['stratum-active', 'last-share', 'priority']);

/** True when the pool's share counters moved between two readings: accepted, difficulty accepted, last share. */
export function sharesProgressed(prev: PoolObservation | undefined, cur: PoolObservation | undefined): boolean {
  if (!prev || !cur) return false;
  if (cur.accepted !== undefined && prev.accepted !== undefined && cur.accepted > prev.accepted) return true;
  if (cur.difficultyAccepted !== undefined && prev.difficultyAccepted !== undefined && cur.difficultyAccepted > prev.difficultyAccepted) return true;
  return cur.lastShareAt !== undefined && prev.lastShareAt !== undefined && cur.lastShareAt !== prev.lastShareAt;
}

export function getworksMoved(prev: PoolObservation | undefined, cur: PoolObservation | undefined): boolean {
  return prev?.getworks !== undefined && cur?.getworks !== undefined && cur.getworks > prev.getworks;
}

/** The newest step (at or after `since`) in which exactly the pools of `keys` moved by `moved`. */
export interface ProgressEvent {
  readonly at: EpochMs;
  readonly keys: readonly string[];
}

export function latestMovement(
  observations: readonly RigObservation[],
  since: EpochMs,
  moved: (prev: PoolObservation | undefined, cur: PoolObservation | undefined) => boolean,
): ProgressEvent | undefined {
  const first = Math.max(1, firstAtOrAfter(observations, since));
  for (let i = observations.length - 1; i >= first; i--) {
    const prev = observations[i - 1]!;
    const cur = observations[i]!;
    const keys = cur.pools.filter((p) => moved(poolByKey(prev, poolKey(p)), p)).map((p) => poolKey(p));
    if (keys.length > 0) return { at: cur.at, keys };
  }
  return undefined;
}

/** The pool the lcd reply names, when exactly one pool has that URL (or one of them is flagged active). */
export function lcdPool(o: RigObservation): PoolObservation | undefined {
  if (!o.currentPoolUrl) return undefined;
  const byUrl = o.pools.filter((p) => sameUrl(p.url, o.currentPoolUrl!));
  if (byUrl.length <= 1) return byUrl[0];
  const flagged = byUrl.filter((p) => p.active);
  return flagged.length === 1 ? flagged[0] : undefined;
}

/** The one pool flagged active on firmware evidence (not only Stratum Active or the priority order). */
export function firmwareActivePool(o: RigObservation): PoolObservation | undefined {
  const flagged = o.pools.filter((p) => p.active && !WEAK_ACTIVE_EVIDENCE.has(p.activeEvidence ?? ''));
  return flagged.length === 1 ? flagged[0] : undefined;
}

/** The one pool with Stratum Active (or, without that field, flagged active on weak evidence). */
export function onlyStratumActivePool(o: RigObservation): PoolObservation | undefined {
  const hasField = o.pools.some((p) => p.stratumActive !== undefined);
  const up = o.pools.filter((p) => (hasField ? p.stratumActive === true : p.active && WEAK_ACTIVE_EVIDENCE.has(p.activeEvidence ?? '')));
  return up.length === 1 ? up[0] : undefined;
}

/**
 * A cheap per-reading guess of the pool in use, for spotting switches over the history: the lcd pool, else a
 * pool whose shares moved in this step alone, else the firmware's flag, else the only Stratum Active pool.
 * Undefined when the reading does not tell (bfgminer with two Stratum Active pools and no share in the step).
 */
export function stepPoolKey(prev: RigObservation | undefined, cur: RigObservation): string | undefined {
  // Observations are immutable and the history is re-read on every evaluation: a pure memo per reading (and the
  // reading before it), like pool-identity's.
  const cached = stepKeys.get(cur);
  if (cached && cached.prev === prev) return cached.key;
  const key = computeStepPoolKey(prev, cur);
  stepKeys.set(cur, { prev, key });
  return key;
}

const stepKeys = new WeakMap<RigObservation, { prev: RigObservation | undefined; key: string | undefined }>();

function computeStepPoolKey(prev: RigObservation | undefined, cur: RigObservation): string | undefined {
  const lcd = lcdPool(cur);
  if (lcd) return poolKey(lcd);
  if (prev) {
    const moved = cur.pools.filter((p) => sharesProgressed(poolByKey(prev, poolKey(p)), p));
    if (moved.length === 1) return poolKey(moved[0]!);
  }
  const flagged = firmwareActivePool(cur) ?? onlyStratumActivePool(cur);
  return flagged ? poolKey(flagged) : undefined;
}
