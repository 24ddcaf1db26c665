import { firstAtOrAfter, formatDuration, minerStartAt } from './policy-context';
import type { ActionOutcome, ActionRecord, DurationMs, EpochMs, RigObservation } from './policy-types';

/** The watchdog's remedies: each one restarts the miner process when it works. */
const REMEDIES: ReadonlySet<string> = new Set(['restart-miner', 'reboot-host', 'power-cycle']);

/**
 * What an agent answers when a remedy is not available on the rig (apps/agent command-executor): no PDU outlet,
 * no reboot command, a driver that cannot restart its miner, a read-only miner API (cgminer Code 45).
 */
const NOT_CONFIGURED = /not configured|no pdu|no reboot command|no .* configured|unsupported|cannot do|not supported|access denied|\bcode 45\b/i;

/** True when a command's cause says the capability is missing on the rig (not that it was tried and failed). */
export function capabilityMissing(cause: string | undefined): boolean {
  return cause !== undefined && NOT_CONFIGURED.test(cause);
}

export interface ReconcileOptions {
  /** Readings (agent clock) may be this far off the action's time (controller clock). Default 5 s. */
  readonly clockSkewMs?: DurationMs;
  /** How long after the command an observed restart is still put down to it. Default 15 min. */
  readonly windowMs?: DurationMs;
  /** Effects from this time on belong to a later action (the next remedy), not to this one. */
  readonly until?: EpochMs;
  /** Readings further apart than this are a gap (the miner or its host was down). Default 90 s. */
  readonly maxGapMs?: DurationMs;
  /** A miner seen still running this long after the command is evidence that it did not act. Default 30 s. */
  readonly settleMs?: DurationMs;
}

/** What the readings after the command show: the remedy happened, did not, or no reading tells. */
export type ObservedEffect = 'happened' | 'not-happened' | 'unknown';

/**
 * Why a remedy cannot have acted: the rig lacks the capability, the command never reached the agent, it was refused
 * before execution, or it failed and the miner was seen running on untouched.
 */
export type NotRunReason = 'not-configured' | 'not-delivered' | 'rejected' | 'no-effect';

export interface ReconciledOutcome {
  /** The outcome to act on: `succeeded` when a failed or timed-out remedy is seen to have happened. */
  readonly outcome: ActionOutcome | undefined;
  /** What the command result said. */
  readonly reported: ActionOutcome | undefined;
  /** True when the reconciled outcome differs from the reported one because of what the miner showed. */
  readonly observed: boolean;
  readonly effect: ObservedEffect;
  /** False when the remedy cannot have acted on the rig: it does not count toward the hourly cap. */
  readonly ran: boolean;
  readonly notRun?: NotRunReason;
  /** One sentence: what the readings (or the command result) show. */
  readonly evidence: string;
  /** When the miner process started after the command, if seen. */
  readonly minerStartedAt?: EpochMs;
}

/**
 * Reconciles a remedy's reported outcome with what the miner showed afterwards. A restart, reboot or power-cycle
 * reported `failed` or `timed-out` (e.g. "no reply within 10000 ms" while the miner process was stopped, which ran
 * the restart when it resumed) but followed by a miner start (its uptime counting from after the command), by the
 * agent's reading sequence starting over (the agent's host rebooted), or, on a miner without uptime, by the API
 * coming back after a gap, is `succeeded` (observed). One that cannot have acted (not configured on the rig, never
 * delivered, refused, or failed with the miner seen running on untouched) has `ran: false`.
 *
 * `observations`: the rig's readings, oldest first; those before the command are used for the sequence check.
 * Other action kinds come back as reported.
 */
export function reconcileActionOutcome(
  action: ActionRecord,
  observations: readonly RigObservation[],
  options: ReconcileOptions = {},
): ReconciledOutcome {
  const reported = action.outcome;
  const base = { reported, observed: false } as const;
  if (!REMEDIES.has(action.kind)) return { ...base, outcome: reported, effect: 'unknown', ran: true, evidence: '' };
  const cause = action.cause ? `: ${action.cause}` : '';
  if (action.delivered === false) {
    return { ...base, outcome: reported ?? 'failed', effect: 'unknown', ran: false, notRun: 'not-delivered', evidence: `${action.kind} never reached the agent${cause}` };
  }
  if ((reported === 'failed' || reported === 'rejected') && capabilityMissing(action.cause)) {
    return { ...base, outcome: reported, effect: 'unknown', ran: false, notRun: 'not-configured', evidence: `${action.kind} is not available on the rig${cause}` };
  }
  if (reported === 'rejected') {
    return { ...base, outcome: reported, effect: 'unknown', ran: false, notRun: 'rejected', evidence: `${action.kind} was refused before execution${cause}` };
  }
  const seen = observeEffect(action, observations, options);
  if (reported === 'succeeded') return { ...base, outcome: reported, effect: seen.effect, ran: true, evidence: seen.evidence, ...startOf(seen) };
  if (seen.effect === 'happened') {
    return {
      reported, observed: true, outcome: 'succeeded', effect: 'happened', ran: true,
      evidence: `${action.kind} reported ${reported ?? 'pending'}${cause}, but ${seen.evidence}`, ...startOf(seen),
    };
  }
  if ((reported === 'failed' || reported === 'timed-out') && seen.effect === 'not-happened') {
    return { ...base, outcome: reported, effect: 'not-happened', ran: false, notRun: 'no-effect', evidence: `${action.kind} ${reported}${cause}, and ${seen.evidence}` };
  }
  return { ...base, outcome: reported, effect: seen.effect, ran: true, evidence: seen.evidence };
}

function startOf(seen: Effect): { minerStartedAt?: EpochMs } {
  return seen.minerStartedAt !== undefined ? { minerStartedAt: seen.minerStartedAt } : {};
}

interface Effect {
  readonly effect: ObservedEffect;
  readonly evidence: string;
  readonly minerStartedAt?: EpochMs;
}

function observeEffect(action: ActionRecord, observations: readonly RigObservation[], options: ReconcileOptions): Effect {
  const skew = options.clockSkewMs ?? 5_000;
  const windowEnd = Math.min(action.at + (options.windowMs ?? 15 * 60_000), options.until ?? Number.POSITIVE_INFINITY);
  const maxGap = options.maxGapMs ?? 90_000;
  const settle = options.settleMs ?? 30_000;
  // Readings are oldest first: the window by binary search, not a scan of the whole history per action.
  const after = observations.slice(firstAfter(observations, action.at - skew), firstAtOrAfter(observations, windowEnd));

  // 1. The miner process started after the command: its uptime counts from then.
  for (const o of after) {
    if (!o.reachable) continue;
    const started = minerStartAt(o);
    if (started !== undefined && started >= action.at - skew && started < windowEnd) {
      return {
        effect: 'happened',
        minerStartedAt: started,
        evidence: `the miner started ${formatDuration(Math.max(0, started - action.at))} after the command (uptime ${o.uptimeS} s in the reading ${formatDuration(o.at - action.at)} after it)`,
      };
    }
  }

  // 2. The agent's reading sequence started over: the host the agent runs on rebooted (reboot-host, power-cycle).
  if (action.kind !== 'restart-miner') {
    const before = lastBefore(observations, action.at - skew);
    const restarted = before?.seq !== undefined ? after.find((o) => o.seq !== undefined && o.seq < before.seq!) : undefined;
    if (before && restarted) {
      return { effect: 'happened', evidence: `the agent's readings started over after the command (seq ${before.seq} before, ${restarted.seq} ${formatDuration(restarted.at - action.at)} after)` };
    }
  }

  // 3. Uptime seen continuing well after the command: the same process kept running, nothing happened (yet).
  const running = [...after].reverse().find((o) => {
    const started = o.reachable ? minerStartAt(o) : undefined;
    return started !== undefined && started < action.at - skew && o.at >= action.at + settle;
  });
  if (running) {
    return { effect: 'not-happened', evidence: `the miner kept running (uptime ${formatDuration((running.uptimeS ?? 0) * 1000)} ${formatDuration(running.at - action.at)} after the command)` };
  }

  // 4. Without uptime: unreachable (or no reading) for a while after the command, then back.
  const back = after.findIndex((o, i) => o.reachable && o.uptimeS === undefined && i > 0 && (!after[i - 1]!.reachable || o.at - after[i - 1]!.at > maxGap));
  if (back > 0) {
    const down = after[back - 1]!;
    return { effect: 'happened', evidence: `the miner API was down after the command and answered again ${formatDuration(after[back]!.at - action.at)} after it (${down.reachable ? 'no reading' : 'unreachable'} before)` };
  }
  return { effect: 'unknown', evidence: after.length === 0 ? 'no reading since the command' : 'no reading since the command shows whether it ran' };
}

function firstAfter(observations: readonly RigObservation[], at: EpochMs): number {
  let lo = 0;
  let hi = observations.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (observations[mid]!.at <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lastBefore(observations: readonly RigObservation[], at: EpochMs): RigObservation | undefined {
  const i = firstAfter(observations, at) - 1;
  return i >= 0 ? observations[i] : undefined;
}
