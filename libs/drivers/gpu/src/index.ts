import './gpu-error';
export { type GpuErrorContext, type GpuErrorKind } from './gpu-error';
import './pci-bus-id'; // nothing of it is used outside the library
import './http/http-json-client';
export {
  type GetOptions,
  type HttpJsonClientOptions,
  type HttpJsonReply,
  type HttpTarget,
} from './http/http-json-client';
import './http/gpu-reading';
export { type GpuFields } from './http/gpu-reading';
export { decodeTrexSummary, type TrexOptions } from './http/trex.driver';
export { decodeLolminerSummary } from './http/lolminer.driver';
export { decodeGminerStat } from './http/gminer.driver';
import './http/xmrig.driver'; // nothing of it is used outside the library
import './http/teamredminer.driver';
export { type TeamRedMinerReplies } from './http/teamredminer.driver';
import './exec/run-command';
export { type RunOptions, type RunResult } from './exec/run-command';
import './sensors/gpu-sensor';
export { type GpuSensor, type GpuSensorReading, type GpuSensorResult } from './sensors/gpu-sensor';
import './sensors/sysfs-io'; // nothing of it is used outside the library
import './sensors/nvidia-smi.sensor';
export { type NvidiaSmiOptions } from './sensors/nvidia-smi.sensor';
import './sensors/amdgpu-sysfs.sensor';
export { type AmdgpuCard, type AmdgpuSysfsOptions } from './sensors/amdgpu-sysfs.sensor';
export { type MergeOptions, SensorEnrichedDriver, type SensorMerge } from './sensors/sensor-enriched.driver';
export { type PlannedStep, restoreAllDefaults, type TuningSetting } from './actuators/base-tuner';
import './actuators/nvidia.actuator';
export { type NvidiaLimits, type NvidiaTunerOptions } from './actuators/nvidia.actuator';
import './actuators/amdgpu.actuator';
export { type OdClockTable } from './actuators/amdgpu.actuator';
import './supervisor/log-ring'; // nothing of it is used outside the library
import './supervisor/restart-backoff';
export { type RestartPolicy } from './supervisor/restart-backoff';
export {
  type ExitReason,
  type MinerCommand,
  MinerProcessSupervisor,
  type MinerSupervisorOptions,
  type SupervisorEvent,
  type SupervisorState,
  type SupervisorStatus,
} from './supervisor/miner-process.supervisor';
export { discoverGpuTuners, type GpuRigOptions, type TunerDiscoveryOptions } from './gpu-rig';
import './probe/gpu-probe';
export { type GpuProbeOptions, type GpuProbeReport, type VendorProbe } from './probe/gpu-probe';
export { SupervisedDriver } from './supervisor/supervised.driver';
export {
  type DefaultValues,
  FileTuningDefaultsStore,
  type TuningDefaultsStore,
} from './actuators/tuning-defaults.store';
