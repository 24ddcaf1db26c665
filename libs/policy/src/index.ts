export {
  type ActionKind,
  type ActionOutcome,
  type ActionRecord,
  type AsicProfileSettings,
  type BoardObservation,
  type BoardState,
  type Confidence,
  type Decision,
  type DecisionKind,
  type DecisionOf,
  type DecisionParamsByKind,
  type DurationMs,
  type EngineParams,
  type EpochMs,
  type FailoverParams,
  type FailoverReason,
  type FanObservation,
  type FreshnessParams,
  type GpuProfileSettings,
  type HashrateWindowObservation,
  type LadderAction,
  type LadderStep,
  type NeighbourhoodStatus,
  type PhantomBoardObservation,
  type Policy,
  type PolicyInput,
  type PolicyName,
  type PolicyParams,
  type PolicyParamsOverrides,
  type PoolObservation,
  type PoolSpec,
  type PoolState,
  type ProfileSettings,
  type ProfileSpec,
  REASON_CODES,
  type ReasonCode,
  type RigCapabilities,
  type RigHistory,
  type RigKind,
  type RigObservation,
  type RigSpec,
  type RigStatus,
  type SettlingAction,
  type Severity,
  type ThermalParams,
  type ThermalReason,
  type Verdict,
  type WatchdogActionParams,
  type WatchdogParams,
  type WatchdogReason,
  type WatchdogTrigger,
  type WindowEvidence,
} from './policy-types';
export { DEFAULT_POLICY_PARAMS, resolveParams } from './policy-defaults';
export { observeSnapshot, plausibleTempC } from './snapshot-observation.mapper';
export {
  DEFAULT_HISTORY_LIMITS,
  EMPTY_HISTORY,
  actionFromDecision,
  appendAction,
  appendObservation,
  setActionOutcome,
  type HistoryLimits,
  type OutcomeDetail,
} from './rig-history';
export { normalizePoolUrl } from './pool-identity';
export { FailoverPolicy } from './failover.policy';
export { ThermalPolicy } from './thermal.policy';
export { WatchdogPolicy } from './watchdog.policy';
export {
  capabilityMissing,
  reconcileActionOutcome,
  type NotRunReason,
  type ObservedEffect,
  type ReconcileOptions,
  type ReconciledOutcome,
} from './action-outcome.reconciler';
export { phantomReason } from './phantom-device.detector';
export { decisionRank, defaultPolicies, evaluateRig, type EvaluateRigOptions, type RigEvaluation } from './evaluate-rig';
export { replayRig, type ReplayOptions, type ReplayStep } from './replay-rig';
export {
  validateParams,
  validatePolicyOverrides,
  validateRigSpec,
  type PolicyValidationError,
} from './policy-params.validator';
export { neighbourhoods } from './neighbourhood';
