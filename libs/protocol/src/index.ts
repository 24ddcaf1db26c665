export {
  MinerSnapshot, Board, BoardStatus, Fan, Pool, PoolStatus, CollectError, RigState, AgentStatus, DriverCounters, OutboxStats,
  boardStatusToJSON, poolStatusToJSON, poolStatusFromJSON,
} from './generated/rigwarden/v1/telemetry';
export {
  CommandEnvelope, CommandResult, CommandOutcome, RigEvent, PoolTarget, SetPools, SwitchPool, ApplyProfile,
  RestartMiner, RebootHost, PowerCycle, commandOutcomeToJSON,
} from './generated/rigwarden/v1/command';
export {
  FleetServiceService, FleetServiceClient, Rig, ListRigsRequest, ListRigsResponse, GetRigRequest,
  ListEventsRequest, ListEventsResponse, Event,
} from './generated/rigwarden/v1/fleet';
export type { FleetServiceServer } from './generated/rigwarden/v1/fleet';
export * from './topics';
export * from './codec';
export * from './protocol-error';
