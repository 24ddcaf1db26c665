import { poolByKey, poolKey } from '../pool-identity';
import type { DurationMs, EpochMs, PoolObservation, RigObservation, Verdict } from '../policy-types';
import { firmwareActivePool, getworksMoved, latestMovement, lcdPool, onlyStratumActivePool, sharesProgressed } from './pool-progress';

interface Vote {
  readonly key: string;
  readonly strong: boolean;
  readonly line: string;
}

/**
 * Which pool is the miner using? Strong evidence: the lcd "Current Pool", the pool whose shares moved last
 * (within inUseEvidenceMs), the firmware's own active flag. Weak evidence: the only Stratum Active pool, the
 * only pool whose getworks moved last. Confident when every vote agrees and at least one is strong, or the one
 * alive pool with Stratum Active is all there is (no share yet, nothing pointing elsewhere); uncertain when votes
 * conflict or none exist (Stratum Active on two pools, as bfgminer keeps it for minutes after its own failover,
 * is no vote). The value is the best guess, acted on only when confident.
 */
export function poolInUseVerdict(
  observations: readonly RigObservation[],
  now: EpochMs,
  inUseEvidenceMs: DurationMs,
): Verdict<PoolObservation | undefined> {
  const latest = observations[observations.length - 1];
  if (!latest || latest.pools.length === 0) return { value: undefined, confidence: 'uncertain', evidence: ['no pool reported'] };
  const votes: Vote[] = [];
  const evidence: string[] = [];

  const lcd = lcdPool(latest);
  if (lcd) votes.push({ key: poolKey(lcd), strong: true, line: `lcd "Current Pool" is pool ${lcd.index} (${lcd.url})` });
  else if (latest.currentPoolUrl) evidence.push(`lcd "Current Pool" ${latest.currentPoolUrl} matches no single configured pool`);

  const since = now - inUseEvidenceMs;
  const shares = latestMovement(observations, since, sharesProgressed);
  if (shares && shares.keys.length === 1) {
    const p = poolByKey(latest, shares.keys[0]!);
    if (p) votes.push({ key: shares.keys[0]!, strong: true, line: `shares last moved on pool ${p.index} alone, ${secondsAgo(now, shares.at)} ago` });
  } else if (shares) {
    evidence.push(`shares moved on ${shares.keys.length} pools at once, ${secondsAgo(now, shares.at)} ago`);
  } else {
    evidence.push(`no share moved on any pool in the last ${Math.round(inUseEvidenceMs / 1000)} s`);
  }

  const flagged = firmwareActivePool(latest);
  if (flagged) votes.push({ key: poolKey(flagged), strong: true, line: `the firmware flags pool ${flagged.index} active${flagged.activeEvidence ? ` (${flagged.activeEvidence})` : ''}` });

  // A firmware with its own active flag (no Stratum Active to copy it from) saying no pool is active: that
  // contradicts any guess.
  const firmwareSaysNone = latest.pools.every((p) => !p.active && p.stratumActive === undefined);
  if (firmwareSaysNone) evidence.push('the firmware flags no pool active');

  const stratum = onlyStratumActivePool(latest);
  const stratumUp = latest.pools.filter((p) => p.stratumActive === true).map((p) => p.index);
  if (stratum) votes.push({ key: poolKey(stratum), strong: false, line: `pool ${stratum.index} is the only one with Stratum Active` });
  else if (stratumUp.length > 1) evidence.push(`Stratum Active on pools ${stratumUp.join(', ')}: no verdict from it`);

  const getworks = latest.pools.some((p) => p.getworks !== undefined) ? latestMovement(observations, since, getworksMoved) : undefined;
  if (getworks && getworks.keys.length === 1) {
    const p = poolByKey(latest, getworks.keys[0]!);
    if (p) votes.push({ key: getworks.keys[0]!, strong: false, line: `getworks last moved on pool ${p.index} alone, ${secondsAgo(now, getworks.at)} ago` });
  }

  const lines = [...votes.map((v) => v.line), ...evidence];
  const strong = votes.filter((v) => v.strong);
  const keys = new Set(votes.map((v) => v.key));
  const guessKey = strong[0]?.key ?? votes[0]?.key;
  const value = guessKey !== undefined ? poolByKey(latest, guessKey) : undefined;
  if (votes.length === 0) return { value: undefined, confidence: 'uncertain', evidence: ['nothing says which pool is in use', ...lines] };
  if (keys.size > 1 || firmwareSaysNone) return { value, confidence: 'uncertain', evidence: ['the evidence conflicts', ...lines] };
  if (strong.length === 0) {
    // One pool alive with Stratum Active and nothing pointing elsewhere (no share, lcd or flag for another pool):
    // a stratum miner mines on a connected pool, so this one. Two connected pools (bfgminer) give no vote at all.
    const sole = stratum && stratum.state !== 'dead' && stratum.state !== 'disabled' && votes.every((v) => v.key === poolKey(stratum));
    if (sole) return { value, confidence: 'confident', evidence: [...lines, 'nothing points to another pool'] };
    return { value, confidence: 'uncertain', evidence: ['only weak evidence', ...lines] };
  }
  return { value, confidence: 'confident', evidence: lines };
}

function secondsAgo(now: EpochMs, at: EpochMs): string {
  return `${Math.max(0, Math.round((now - at) / 1000))} s`;
}
