export {
  type CgminerSimFault,
  type CgminerSimState,
  CgminerSimulator,
  type CgminerSimulatorOptions,
  type SimBoard,
  type SimPool,
  type SimPoolSwitch,
} from './cgminer-simulator';
export {
  defaultSimGpus,
  GPU_MINER_MAIN_TS,
  type GpuMinerFault,
  type GpuMinerFlavor,
  type GpuMinerSimState,
  GpuMinerSimulator,
  type GpuMinerSimulatorOptions,
  type RecordedRequest,
  type SimGpu,
  TeamRedMinerSimulator,
} from './gpu/gpu-miner-simulator';
export { type FakeNvidiaGpu, FakeNvidiaSmi, type FakeNvidiaState, type FakeValue } from './gpu/fake-nvidia-smi';
export { type FakeAmdgpuCard, FakeAmdgpuSysfs } from './gpu/fake-amdgpu-sysfs';
import './cgminer/personality';
export { type CgminerPersonality, type SimContext, type SimDialect, type SimReply } from './cgminer/personality';
import './cgminer/personalities';
export { type GenericFlavor, type PersonalityHooks } from './cgminer/personalities';
import './cgminer/stratum-pool.simulator';
export { type StratumPoolOptions, type StratumShare } from './cgminer/stratum-pool.simulator';
import './cgminer/stratum-mining.engine';
export { type MiningOptions } from './cgminer/stratum-mining.engine';
export { type FixtureReplayOptions, FixtureReplaySimulator } from './cgminer/fixture-replay.simulator';
export { GpuRigSimulator } from './gpu/gpu-rig-simulator';
export { type CgminerFleetOptions, startCgminerFleet } from './cgminer/cgminer-fleet';
export {
  ApcPduSimulator,
  type ApcPduSimulatorOptions,
  type OutletTransition,
  type SimApcDialect,
  type SimErrorFault,
  type SimOutletState,
  type SimPduType,
  type SnmpSimRequest,
} from './snmp/apc-pdu.simulator';
export {
  type ApiRigState,
  type AsicRigState,
  FARM_FAULTS,
  type FarmApiRigSpec,
  type FarmAsicRigSpec,
  type FarmFault,
  type FarmGpuRigSpec,
  type FarmLogEntry,
  type FarmPoolSpec,
  type FarmRigSpec,
  type FarmSpec,
  type FarmState,
  type FarmWebApiSpec,
  type FaultSchedule,
  type GpuRigState,
  isApiRig,
  type RigState,
  type ScheduledFault,
  SimFarm,
  type WebApiRigState,
  type WebPoolChange,
} from './farm/sim-farm';
import './farm/heat.fault';
export { type HeatParams } from './farm/heat.fault';
export { farmControl, FarmControlServer, parseFault } from './farm/farm-control.server';
export { type DemoFarmOptions, demoFarmSpec } from './farm/demo-farm';
import './cgminer/real/real-program.profile';
export { type RealProgram, type RealProgramProfile } from './cgminer/real/real-program.profile';
import './cgminer/real/real-program.model'; // nothing of it is used outside the library
export {
  type RecordedReply,
  type Recording,
  type RecordingReplayOptions,
  RecordingReplaySimulator,
} from './cgminer/recording-replay.simulator';
export {
  type WhatsminerV3Heat,
  type WhatsminerV3SimFault,
  type WhatsminerV3SimPool,
  type WhatsminerV3SimRequest,
  type WhatsminerV3SimState,
  WhatsminerV3Simulator,
  type WhatsminerV3SimulatorOptions,
} from './whatsminer-v3/whatsminer-v3.simulator';
import './antminer-web/antminer-web.personalities';
export { type AntminerWebGeneration, type AntminerWebPersonality } from './antminer-web/antminer-web.personalities';
export {
  type AntminerWebLive,
  type AntminerWebRequest,
  type AntminerWebSimState,
  AntminerWebSimulator,
  type AntminerWebSimulatorOptions,
  UNAUTHORIZED_PAGE,
} from './antminer-web/antminer-web.simulator';
import './braiins/braiins-miner.state';
export {
  type BraiinsHeat,
  type BraiinsMinerStateOptions,
  type SimBraiinsGroup,
  type SimBraiinsPool,
} from './braiins/braiins-miner.state';
export { BraiinsGrpcSimulator, type BraiinsGrpcSimulatorOptions } from './braiins/braiins-grpc.simulator';
