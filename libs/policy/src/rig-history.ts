import type {
  ActionOutcome,
  ActionRecord,
  Decision,
  DurationMs,
  EpochMs,
  RigHistory,
  RigObservation,
} from './policy-types';

/** How much history the caller keeps per rig. Enough for the longest default window (backoffs up to 1 h). */
export interface HistoryLimits {
  /** Observations older than this (before the newest) are dropped. */
  readonly maxObservationAgeMs: DurationMs;
  /** Newer than this (before the newest): every observation is kept. */
  readonly fullResolutionMs: DurationMs;
  /** Older than that: at most one observation per this interval. Keep it under FreshnessParams.maxGapMs. */
  readonly thinIntervalMs: DurationMs;
  readonly maxObservations: number;
  readonly maxActionAgeMs: DurationMs;
  readonly maxActions: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  maxObservationAgeMs: 60 * 60_000,
  fullResolutionMs: 5 * 60_000,
  thinIntervalMs: 60_000,
  maxObservations: 400,
  maxActionAgeMs: 24 * 60 * 60_000,
  maxActions: 200,
};

export const EMPTY_HISTORY: RigHistory = { observations: [], actions: [] };

/**
 * Adds an observation (kept sorted by time, duplicates by time and seq dropped), then bounds the list:
 * full resolution for the newest minutes, one per thinIntervalMs before that, nothing older than the maximum age.
 * Counters are cumulative, so thinning keeps every delta the policies compute.
 */
export function appendObservation(
  history: RigHistory,
  observation: RigObservation,
  limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
): RigHistory {
  const duplicate = history.observations.some((o) => o.at === observation.at && o.seq === observation.seq);
  if (duplicate) return history;
  const merged = [...history.observations, observation].sort((a, b) => a.at - b.at);
  return { ...history, observations: boundObservations(merged, limits) };
}

function boundObservations(sorted: readonly RigObservation[], limits: HistoryLimits): RigObservation[] {
  const newest = sorted[sorted.length - 1];
  if (!newest) return [];
  const oldestKept = newest.at - limits.maxObservationAgeMs;
  const fullFrom = newest.at - limits.fullResolutionMs;
  const kept: RigObservation[] = [];
  let lastThinned: EpochMs | undefined;
  for (const o of sorted) {
    if (o.at < oldestKept) continue;
    if (o.at < fullFrom) {
      // Greedy from the oldest: stable when applied again, and gaps stay under thinInterval + poll interval.
      if (lastThinned !== undefined && o.at - lastThinned < limits.thinIntervalMs) continue;
      lastThinned = o.at;
    }
    kept.push(o);
  }
  return kept.slice(-limits.maxObservations);
}

/** Adds an action record (oldest first), dropping the oldest beyond the limits. */
export function appendAction(
  history: RigHistory,
  action: ActionRecord,
  limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
): RigHistory {
  const merged = [...history.actions, action].sort((a, b) => a.at - b.at);
  const newest = merged[merged.length - 1]?.at ?? action.at;
  const actions = merged.filter((a) => a.at >= newest - limits.maxActionAgeMs).slice(-limits.maxActions);
  return { ...history, actions };
}

/** The history record of a decision that the caller carried out (or is carrying out). */
export function actionFromDecision(
  decision: Decision,
  extra: { readonly id?: string; readonly outcome?: ActionOutcome } = {},
): ActionRecord {
  return {
    at: decision.at,
    kind: decision.kind,
    reason: decision.reason,
    by: decision.policy,
    params: decision.params as unknown as Readonly<Record<string, unknown>>,
    ...extra,
  };
}

/** What a command result says besides its outcome. */
export interface OutcomeDetail {
  /** CommandResult.cause: "no PDU outlet configured" tells the watchdog the remedy is not available on the rig. */
  readonly cause?: string;
  /** False when the command never reached the agent (not signed, not sent). */
  readonly delivered?: boolean;
}

/**
 * Records the outcome of the action carried by the command `id`, with its cause when there is one. The watchdog
 * reconciles a remedy's outcome with the readings that follow (reconcileActionOutcome), so record what the command
 * result said, not a guess.
 */
export function setActionOutcome(history: RigHistory, id: string, outcome: ActionOutcome, detail: OutcomeDetail = {}): RigHistory {
  const extra = {
    ...(detail.cause ? { cause: detail.cause } : {}),
    ...(detail.delivered !== undefined ? { delivered: detail.delivered } : {}),
  };
  return { ...history, actions: history.actions.map((a) => (a.id === id ? { ...a, outcome, ...extra } : a)) };
}
