export {
  type CollectContext,
  hasPoolControl,
  isRestartable,
  type MinerDriver,
  type MinerEndpoint,
  type MinerReading,
  type PoolControl,
  type Restartable,
} from './driver';
export {
  DriverError,
  type DriverErrorContext,
  type DriverErrorKind,
  type RestoreOutcome,
  WriteTransactionError,
} from './driver-error';
export {
  type ApiIdentifier,
  type ApiIdentity,
  type DriverFactory,
  type DriverRegistration,
  driverRegistry,
  DriverRegistry,
} from './driver-registry';
export {
  type ControlAction,
  type ControlCapabilities,
  type ControlResult,
  type ControlStep,
  hasMinerControl,
  type MinerControl,
  NO_CONTROL,
  type PoolSpec,
} from './miner-control.capability';
export {
  type ClockRangeMhz,
  type ClockVoltageState,
  type GpuTunable,
  type GpuTuner,
  type GpuTuning,
  type GpuTuningCapability,
  isGpuTunable,
  type TuningOptions,
  type TuningResult,
  type TuningStep,
} from './overclock.capability';
export { hasMiningSwitch, type MiningSwitch } from './mining-switch.capability';
export { type FaultLight, hasFaultLight } from './fault-light.capability';
export { hasPowerTarget, type PowerTarget } from './power-target.capability';
export { isRebootable, type Rebootable } from './reboot.capability';
export { hasPowerModeControl, POWER_MODES, type PowerMode, type PowerModeControl } from './power-mode.capability';
export { type CommandSettleTimes, hasSettleTimes, type SettlingCommand } from './command-settle.capability';
export { BOARD_HASHRATE_MAX_HS, MINER_HASHRATE_MAX_HS, sanitizeReading } from './reading.sanitizer';
export { type CapabilityName, capabilityNames } from './capability-names';
