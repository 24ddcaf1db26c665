export {
  MinerSnapshot, Board, BoardStatus, Fan, Pool, PoolStatus, CollectError, RigState, AgentStatus, DriverCounters, OutboxStats,
  boardStatusToJSON, poolStatusToJSON, poolStatusFromJSON,
} from './generated/rigwarden/v1/telemetry';
export { HashrateWindow, FieldWarning, FieldWarningCount, IngestReceipt, SeqRange } from './generated/rigwarden/v1/telemetry';
export {
  decodeIngestReceipt,
  eventReceiptKey,
  ReceiptBook,
  receiptKeys,
  resultReceiptKey,
  snapshotReceiptKey,
} from './ingest-receipt';
export {
  CommandEnvelope, CommandResult, CommandOutcome, RigEvent, PoolTarget, SetPools, SwitchPool, ApplyProfile,
  RestartMiner, RebootHost, PowerCycle, RotateKey, RetireKey, SetPowerMode, SetFaultLight, SetPowerTarget,
  commandOutcomeToJSON, commandOutcomeFromJSON,
} from './generated/rigwarden/v1/command';
export {
  FleetServiceService, FleetServiceClient, Rig, ListRigsRequest, ListRigsResponse, GetRigRequest,
  ListEventsRequest, ListEventsResponse, Event, RigSelector, WatchRigsRequest, RigUpdate, TelemetryResolution,
  telemetryResolutionFromJSON, telemetryResolutionToJSON, QueryTelemetryRequest, TelemetryPoint, QueryTelemetryResponse,
  GetFleetSpecRequest, FleetSpecDocument, ApplyFleetSpecRequest, SpecChange, ApplyFleetSpecResponse, CommandState,
  commandStateFromJSON, commandStateToJSON, CommandStatus, RigCommandRequest, SetPoolsRequest, ApplyProfileRequest,
  BulkCommandRequest, BulkProgress, GetCommandRequest, ListCommandsRequest, ListCommandsResponse, DryRunPoliciesRequest,
  PolicyDecisionRecord, DryRunPoliciesResponse, ReleaseQuarantineRequest, SetPowerModeRequest, SetFaultLightRequest,
  SetPowerTargetRequest,
} from './generated/rigwarden/v1/fleet';
export type { FleetServiceServer } from './generated/rigwarden/v1/fleet';
export {
  AdminServiceService, AdminServiceClient, ApiKeyInfo, CreateApiKeyRequest, CreateApiKeyResponse, ListApiKeysRequest,
  ListApiKeysResponse, RevokeApiKeyRequest, RotateRigKeyRequest, RotateRigKeyProgress, ListAuditRequest, AuditEntry,
  ListAuditResponse, VerifyAuditRequest, VerifyAuditResponse,
} from './generated/rigwarden/v1/admin';
export type { AdminServiceServer } from './generated/rigwarden/v1/admin';
export { PROTO_DESCRIPTOR_SET_BASE64 } from './generated/descriptor-set';
export { DEFAULT_TOPIC_ROOT, isValidRigId, type ParsedRigTopic, type RigTopicKind, RigTopics } from './topics';
export {
  decodeAgentStatus,
  decodeCommandEnvelope,
  decodeCommandResult,
  type DecodeOptions,
  decodeRigEvent,
  decodeRigState,
  decodeSnapshot,
  encodeJson,
  firstSeqAt,
  MAX_MESSAGE_BYTES,
  MAX_SNAPSHOT_BYTES,
} from './codec';
export { ProtocolError } from './protocol-error';
