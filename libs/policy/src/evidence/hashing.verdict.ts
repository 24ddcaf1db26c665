import { firstAtOrAfter } from '../policy-context';
import type { DurationMs, EpochMs, RigObservation, Verdict } from '../policy-types';

/** A hashrate reading and where it came from ("MHS 20s", "boards", ...), for evidence lines. */
export interface HashrateReading {
  readonly hs: number;
  readonly source: string;
  /** False for an average since the miner started ("av"): it says little about now. */
  readonly current: boolean;
}

/** "0.65 MH/s", "98.2 TH/s": for evidence and messages. */
export function formatHashrate(hs: number): string {
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
  let value = hs;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value === 0 ? '0' : value.toPrecision(3);
  return `${digits.includes('.') ? digits.replace(/0+$/, '').replace(/\.$/, '') : digits} ${units[unit]}`;
}

/**
 * What one reading says the miner hashes at now: its shortest labelled window (5s, 20s, 1m ...), else the
 * current rate the driver mapped, else the sum of its working boards, else its average since start ("av").
 */
export function minerHashrate(o: RigObservation): HashrateReading | undefined {
  const windowed = o.hashrateWindows?.find((w) => w.windowS !== undefined);
  if (windowed) return { hs: windowed.hashrateHs, source: `${windowed.label} window`, current: true };
  if (o.hashrateHs !== undefined) return { hs: o.hashrateHs, source: 'current rate', current: true };
  const boardRates = o.boards.filter((b) => b.state !== 'dead' && b.state !== 'disabled').map((b) => b.hashrateHs);
  if (boardRates.length > 0 && boardRates.every((h): h is number => h !== undefined)) {
    return { hs: boardRates.reduce((sum, h) => sum + h, 0), source: 'sum of the boards', current: true };
  }
  const avg = o.hashrateAvgHs ?? o.hashrateWindows?.find((w) => w.label === 'av')?.hashrateHs;
  return avg !== undefined ? { hs: avg, source: 'av (since start)', current: false } : undefined;
}

/** The mean of the readings' hashrates over [from, to] (current rates only unless none are), or undefined. */
export function meanHashrate(observations: readonly RigObservation[], from: EpochMs, to: EpochMs): HashrateReading | undefined {
  const readings: HashrateReading[] = [];
  for (let i = firstAtOrAfter(observations, from); i < observations.length && observations[i]!.at <= to; i++) {
    const r = minerHashrate(observations[i]!);
    if (r) readings.push(r);
  }
  const current = readings.filter((r) => r.current);
  const used = current.length > 0 ? current : readings;
  if (used.length === 0) return undefined;
  return { hs: used.reduce((sum, r) => sum + r.hs, 0) / used.length, source: used[used.length - 1]!.source, current: current.length > 0 };
}

/** Accepted shares (any pool) between consecutive readings in [from, to]; counter resets are skipped. */
export function sharesAccepted(observations: readonly RigObservation[], from: EpochMs, to: EpochMs): number {
  let shares = 0;
  for (let i = Math.max(1, firstAtOrAfter(observations, from)); i < observations.length && observations[i]!.at <= to; i++) {
    const prev = observations[i - 1]!;
    const cur = observations[i]!;
    for (const p of cur.pools) {
      const before = prev.pools.find((q) => q.index === p.index && q.url === p.url);
      if (before?.accepted === undefined || p.accepted === undefined) continue;
      if (p.accepted > before.accepted) shares += p.accepted - before.accepted;
    }
  }
  return shares;
}

/** True when the history shows the miner hashing at any time: a rate above 0, or a share accepted. */
export function hasEverHashed(observations: readonly RigObservation[]): boolean {
  for (const o of observations) {
    const r = minerHashrate(o);
    if (r && r.hs > 0) return true;
    if ((o.hashrateAvgHs ?? 0) > 0) return true;
    if (o.pools.some((p) => (p.accepted ?? 0) > 0 || (p.difficultyAccepted ?? 0) > 0)) return true;
  }
  return false;
}

/**
 * Is the miner hashing now? From the latest reading's hashrate windows and boards, and share progress over
 * the last `windowMs`. A miner with no devices or at 0 H/s is not hashing (no pool is to blame for its
 * silence); accepted shares prove hashing even when the rate reads 0 (cgminer 2.x rounds to 0.00 MH/s).
 */
export function hashingVerdict(observations: readonly RigObservation[], now: EpochMs, windowMs: DurationMs): Verdict<boolean> {
  const latest = observations[observations.length - 1];
  if (!latest) return { value: false, confidence: 'uncertain', evidence: ['no reading'] };
  const evidence: string[] = [];
  const boards = latest.boards;
  if (boards.length > 0 && boards.every((b) => b.state === 'dead' || b.state === 'disabled')) {
    return { value: false, confidence: 'confident', evidence: [`every board (${boards.length}) is dead or disabled`] };
  }
  const shares = sharesAccepted(observations, now - windowMs, now);
  const rate = minerHashrate(latest);
  if (rate) evidence.push(`${rate.source} ${formatHashrate(rate.hs)}`);
  if (boards.length === 0) evidence.push('no devices reported');
  evidence.push(`${shares} share(s) accepted over the last ${Math.round(windowMs / 1000)} s`);
  if (shares > 0) return { value: true, confidence: 'confident', evidence };
  if (rate && rate.hs > 0) return { value: true, confidence: rate.current ? 'confident' : 'uncertain', evidence };
  if (rate && rate.current) return { value: false, confidence: 'confident', evidence };
  return { value: false, confidence: 'uncertain', evidence: rate ? evidence : ['no hashrate reported', ...evidence] };
}
