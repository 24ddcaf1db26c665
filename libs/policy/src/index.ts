export * from './policy-types';
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
export {
  efficiency,
  efficiencyUnit,
  rigPower,
  rollupPower,
  rollupPowerBy,
  unitHs,
  type Efficiency,
  type EfficiencyUnit,
  type PowerInputs,
  type PowerReading,
  type PowerRollup,
  type PowerSource,
  type RigPowerRow,
} from './power-efficiency';
export {
  byProfit,
  dayAveragePrice,
  EconomicsError,
  fleetEconomics,
  minuteOfDay,
  priceAt,
  rigEconomics,
  validateHashprice,
  validateTariff,
  type FleetEconomics,
  type Hashprice,
  type HashUnit,
  type RigEconomics,
  type RigEconomicsInput,
  type Tariff,
  type TariffPrice,
  type TariffWindow,
} from './economics';
