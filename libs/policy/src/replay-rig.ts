import { evaluateRig, type EvaluateRigOptions } from './evaluate-rig';
import type { ActionOutcome, ActionRecord, Decision, RigHistory, RigObservation, RigSpec } from './policy-types';
import { DEFAULT_HISTORY_LIMITS, actionFromDecision, appendAction, appendObservation, type HistoryLimits } from './rig-history';

export interface ReplayOptions extends EvaluateRigOptions {
  /** Actions already on record before the first observation (or during the replay, by time). */
  readonly actions?: readonly ActionRecord[];
  /** What each replayed action is assumed to have done. Default 'succeeded'. */
  readonly assumeOutcome?: ActionOutcome;
  readonly limits?: HistoryLimits;
}

export interface ReplayStep {
  /** The reading that prompted the decision (its time is the evaluation's `now`). */
  readonly at: number;
  /** What would have been done: the same shape evaluateRig's `act` has. */
  readonly act: readonly Decision[];
}

/**
 * Dry run: feeds stored telemetry through the policies in time order, as the controller would have on each reading,
 * and returns what they would have done and when. The telemetry is what really happened, so it does not show the
 * effect of the replayed actions: read the result as "what the policies would have asked for first".
 */
export function replayRig(spec: RigSpec, observations: readonly RigObservation[], options: ReplayOptions = {}): ReplayStep[] {
  const limits = options.limits ?? DEFAULT_HISTORY_LIMITS;
  const outcome = options.assumeOutcome ?? 'succeeded';
  const recorded = [...(options.actions ?? [])].sort((a, b) => a.at - b.at);
  let history: RigHistory = { observations: [], actions: [] };
  let nextRecorded = 0;
  const steps: ReplayStep[] = [];
  for (const latest of [...observations].sort((a, b) => a.at - b.at)) {
    while (nextRecorded < recorded.length && recorded[nextRecorded]!.at <= latest.at) {
      history = appendAction(history, recorded[nextRecorded++]!, limits);
    }
    history = appendObservation(history, latest, limits);
    const { act } = evaluateRig({ spec, status: { rigId: spec.rigId, latest }, history }, latest.at, options);
    if (act.length === 0) continue;
    for (const d of act) history = appendAction(history, actionFromDecision(d, { outcome }), limits);
    steps.push({ at: latest.at, act });
  }
  return steps;
}
