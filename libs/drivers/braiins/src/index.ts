import './bos-messages';
export {
  type ApiVersion,
  type BosVersion,
  type CoolingConfiguration,
  type FanState,
  type FixedShareRatio,
  type Frequency,
  type GetConstraintsResponse,
  type GetCoolingStateResponse,
  type GetHashboardsResponse,
  type GetMinerConfigurationResponse,
  type GetMinerDetailsResponse,
  type GetMinerStatsResponse,
  type GetPoolGroupsResponse,
  type GetTunerStateResponse,
  type GigaHashrate,
  type Hashboard,
  type LocateDeviceStatusResponse,
  type LoginRequest,
  type LoginResponse,
  type MegaHashrate,
  type MinerIdentity,
  type Pool,
  type PoolConfiguration,
  type PoolGroup,
  type PoolGroupConfiguration,
  type PoolStats,
  type Power,
  type PowerConstraints,
  type Quota,
  type RealHashrate,
  type SetLocateDeviceStatusRequest,
  type SetPoolGroupsRequest,
  type SetPoolGroupsResponse,
  type SetPowerTargetRequest,
  type SetPowerTargetResponse,
  type Temperature,
  type TemperatureSensor,
  type TeraHashrate,
  type Timestamp,
  type TunerConfiguration,
  type UInt32Value,
  type Voltage,
  type WorkSolverStats,
} from './bos-messages';
import './braiins-proto.loader';
export { type BosServices } from './braiins-proto.loader';
export { BraiinsGrpcError } from './braiins-grpc.error';
import './braiins-grpc.client';
export { type BosService, type BraiinsGrpcClientOptions } from './braiins-grpc.client';
import './braiins-options';
export { type BraiinsOptions } from './braiins-options';
import './braiins-reading.mapper';
export { type BraiinsReplies, type BraiinsState } from './braiins-reading.mapper';
import './braiins-pools.control';
export { type PoolGroupSpec } from './braiins-pools.control';
export {
  type BraiinsDriverDeps,
  BraiinsGrpcDriver,
  type BraiinsGrpcIdentity,
  type BraiinsGrpcOperation,
} from './braiins-grpc.driver';
import './bos-graphql.decoder';
export { type BosGraphqlDecoded, type BosGraphqlReplies } from './bos-graphql.decoder';
