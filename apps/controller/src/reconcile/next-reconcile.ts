import type { PolicyParams, RigHistory, RigObservation } from '@rigwarden/policy';

/**
 * When a rig's policies may decide something new with no new telemetry: the end of a cooldown, a fail-back
 * stability period, a thermal step or ladder grace, a pending command's timeout, or a "for T" window that started
 * at a change in what the miner shows. The policy lib does not (yet) say when it wants to run again, so this is a
 * conservative estimate from the parameters: every window that ends after `now`, from each recent action and each
 * recent change in the readings, the earliest of them. Waking early costs one reconcile that decides nothing;
 * waking late is what this prevents (a fail-back due in 40 s with a 60 s poll waited for the next snapshot).
 * Nothing is due once the newest reading is older than freshness.staleAfterMs: no policy acts on stale status.
 */

/** Change points kept per rig: the windows of older ones have ended or are covered by later ones. */
const MAX_CHANGES = 8;
/** No reconcile sooner than this after the one that asked for it. */
export const MIN_REQUEUE_MS = 250;

/** What a rig's readings looked like, coarsely: a window ("0 H/s for 3 min", "alive for 5 min") starts where it changes. */
export function observationSignature(o: RigObservation, p: PolicyParams): string {
  const active = o.pools.find((x) => x.active);
  const hottest = Math.max(-Infinity, ...o.boards.map((b) => b.tempC ?? -Infinity));
  const band = hottest >= p.thermal.criticalC ? 'C' : hottest > p.thermal.highC ? 'H' : hottest < p.thermal.lowC ? 'L' : 'M';
  return [
    o.reachable ? 'r' : 'u',
    active ? String(active.index) : '-',
    o.pools.map((x) => x.state[0]).join(''),
    o.hashrateHs === undefined ? '?' : o.hashrateHs > 0 ? '+' : '0',
    o.boards.map((b) => b.state[0]).join(''),
    o.fans.filter((f) => (f.rpm ?? 0) < p.thermal.minFanRpm).length,
    band,
    o.uptimeS === undefined ? '' : Math.floor(o.at / 1000 - o.uptimeS),
  ].join('|');
}

/** Share progress on the pool in use: "no share for 30 s" starts where it last moved. */
function progressSignature(o: RigObservation): string {
  const active = o.pools.find((x) => x.active);
  return active ? `${active.index}:${active.accepted ?? ''}:${active.lastShareAt ?? ''}` : '-';
}

/** Per rig: where its readings last changed (state) and where shares last progressed, updated with new readings. */
export class ChangePoints {
  private lastAt = -Infinity;
  private lastSignature = '';
  private lastProgress = '';
  readonly points: number[] = [];
  readonly progress: number[] = [];

  update(observations: readonly RigObservation[], p: PolicyParams): void {
    let i = observations.length;
    while (i > 0 && observations[i - 1]!.at > this.lastAt) i--;
    for (let k = i; k < observations.length; k++) this.take(observations[k]!, p);
  }

  private take(o: RigObservation, p: PolicyParams): void {
    const signature = observationSignature(o, p);
    if (signature !== this.lastSignature) {
      this.points.push(o.at);
      if (this.points.length > MAX_CHANGES) this.points.shift();
      this.lastSignature = signature;
    }
    const progress = progressSignature(o);
    if (progress !== this.lastProgress) {
      // Only the newest progress matters: silence is measured from it.
      this.progress.length = 0;
      this.progress.push(o.at);
      this.lastProgress = progress;
    }
    this.lastAt = o.at;
  }
}

function doublings(base: number, max: number): number[] {
  const out: number[] = [];
  for (let w = base; w <= max && out.length < 8; w *= 2) out.push(w);
  return out;
}

/**
 * Every duration among the parameters (each `...Ms` of failover, thermal, watchdog and engine, the ladder's graces,
 * the doublings of the fail-back and step-up periods): any of them may be the window a decision waits for, and
 * parameters the policies add later are covered without a change here. Cached per parameter object.
 */
const windowCache = new WeakMap<PolicyParams, number[]>();
export function policyWindows(p: PolicyParams): number[] {
  const cached = windowCache.get(p);
  if (cached) return cached;
  const set = new Set<number>();
  for (const section of [p.failover, p.thermal, p.watchdog, p.engine] as unknown as Array<Record<string, unknown>>) {
    for (const [key, value] of Object.entries(section)) if (key.endsWith('Ms') && typeof value === 'number' && value > 0) set.add(value);
  }
  for (const step of p.watchdog.ladder) set.add(step.graceMs);
  for (const w of doublings(p.failover.failbackStableMs, p.failover.maxFailbackStableMs)) set.add(w);
  for (const w of doublings(p.thermal.stepUpAfterMs, p.thermal.stepUpAfterMs * p.thermal.maxStepUpBackoff)) set.add(w);
  for (const w of doublings(p.failover.silentAfterMs, Math.max(p.failover.silentAfterMs, p.failover.shareRateWindowMs))) set.add(w);
  const windows = [...set].sort((a, b) => a - b);
  windowCache.set(p, windows);
  return windows;
}

/** The earliest time after `now` at which a window ends, or undefined when none can matter before the status goes stale. */
export function nextReconcileAt(p: PolicyParams, history: RigHistory, changes: Pick<ChangePoints, 'points' | 'progress'>, now: number): number | undefined {
  const latest = history.observations[history.observations.length - 1];
  if (!latest) return undefined;
  const horizon = latest.at + p.freshness.staleAfterMs;
  let best = Infinity;
  const consider = (at: number): void => {
    if (at > now && at <= horizon && at < best) best = at;
  };
  const windows = policyWindows(p);
  for (const a of history.actions) for (const w of windows) consider(a.at + w);
  for (const start of changes.points) for (const w of windows) consider(start + w);
  for (const start of changes.progress) for (const w of windows) consider(start + w);
  return best === Infinity ? undefined : Math.max(best, now + MIN_REQUEUE_MS);
}
