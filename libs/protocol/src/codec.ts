import { AgentStatus, MinerSnapshot, RigState } from './generated/rigwarden/v1/telemetry';
import { CommandEnvelope, CommandResult, RigEvent } from './generated/rigwarden/v1/command';
import { ProtocolError } from './protocol-error';
import { isValidRigId } from './topics';

/**
 * MQTT payloads are the proto3 JSON mapping of the messages in proto/rigwarden/v1.
 * Decoding is strict about what the controller relies on (ids, seq, time) and names
 * the field at fault, so a bad payload can be counted and logged with its rig id.
 */
interface JsonCodec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}

export function encodeJson<T>(codec: JsonCodec<T>, message: T): Buffer {
  return Buffer.from(JSON.stringify(codec.toJSON(message)));
}

function parseObject(payload: Buffer | string, what: string, maxBytes = MAX_MESSAGE_BYTES): Record<string, unknown> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) throw new ProtocolError(`${what} payload is ${size} bytes, more than the ${maxBytes} allowed`, 'payload');
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError(`${what} payload is not JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError(`${what} payload must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

function fromJson<T>(codec: JsonCodec<T>, object: Record<string, unknown>, what: string): T {
  try {
    return codec.fromJSON(object);
  } catch (err) {
    throw new ProtocolError(`${what} payload does not match the schema: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Fields that count or measure something that cannot be negative. */
const NON_NEGATIVE = /^(uptimeS|hashrate\w*|accepted|rejected|stale|hwErrors|powerW|seq|port|index|chips|rpm|percent|fanPercent|priority|\w*ClockMhz|frequencyMhz)$/;

/** What a field holding a number must satisfy. */
type NumberRule = 'none' | 'finite' | 'non-negative';
/** Rule per field name, remembered: every snapshot repeats the same few dozen names (bounded against junk keys). */
const RULES = new Map<string, NumberRule>();
function ruleFor(key: string): NumberRule {
  let rule = RULES.get(key);
  if (rule === undefined) {
    rule = NON_NEGATIVE.test(key) ? 'non-negative' : /TempC$/.test(key) ? 'finite' : 'none';
    if (RULES.size < 1024) RULES.set(key, rule);
  }
  return rule;
}

/** Where a bad number was found, innermost segment first (paths are only built for a payload that fails). */
interface BadNumber { segments: Array<string | number>; value: unknown }

/**
 * The first number in the raw JSON that is not a finite number (or is negative where it cannot be), with its path
 * (`boards[1].chipTempC`). This runs on every telemetry message, so it allocates nothing unless it finds one.
 */
function findBadNumber(value: unknown): { path: string; value: unknown } | undefined {
  const bad = scanNumbers(value);
  if (!bad) return undefined;
  let path = '';
  for (let i = bad.segments.length - 1; i >= 0; i--) {
    const segment = bad.segments[i]!;
    path += typeof segment === 'number' ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  }
  return { path, value: bad.value };
}

function scanNumbers(value: unknown): BadNumber | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = scanNumbers(value[i]);
      if (bad) { bad.segments.push(i); return bad; }
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const v = object[key];
    if (typeof v === 'object' && v !== null) {
      const bad = scanNumbers(v);
      if (bad) { bad.segments.push(key); return bad; }
      continue;
    }
    if (v === undefined || v === null) continue;
    const rule = ruleFor(key);
    if (rule === 'none') continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || (rule === 'non-negative' && n < 0)) return { segments: [key], value: v };
  }
  return undefined;
}

function requireRigId(object: Record<string, unknown>, what: string): string {
  const rigId = object['rigId'];
  if (typeof rigId !== 'string' || !isValidRigId(rigId)) {
    throw new ProtocolError(`${what}: rigId is missing or invalid (${JSON.stringify(rigId)})`, 'rigId');
  }
  return rigId;
}

/**
 * Checks an RFC 3339 field and puts the Date in its place: `fromJSON` takes a Date as it is, so the text is parsed
 * once per message, not twice.
 */
function requireTimestamp(object: Record<string, unknown>, field: string, what: string): void {
  const value = object[field];
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new ProtocolError(`${what} from rig "${String(object['rigId'])}": ${field} must be an RFC 3339 timestamp, got ${JSON.stringify(value)}`, field);
  }
  object[field] = new Date(at);
}

/** The genesis block's day: a miner's reading cannot be older. */
const EARLIEST_MS = Date.UTC(2009, 0, 3);
/** How far ahead of the receiver's clock an agent's clock may run before its times are refused. */
export const MAX_CLOCK_AHEAD_MS = 24 * 3600_000;
/** Largest payload, in bytes, accepted on a telemetry topic (a snapshot of a 4-board ASIC is about 2 kB). */
export const MAX_SNAPSHOT_BYTES = 256 * 1024;
/** Largest payload, in bytes, accepted for a state, event, result or agent status. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * The first seq an agent gives a rig it has no seq for: its clock in ms × 1000. Seqs then count up by one per
 * snapshot, so a data dir that was wiped, or a rig that moved to another agent, starts above every seq that rig had
 * (unless the rig made more than 1,000 snapshots per ms since): nothing new is dropped as a duplicate of old rows.
 */
export function firstSeqAt(nowMs: number): number {
  return Math.max(1, Math.floor(nowMs) * 1000);
}

/** The largest seq a snapshot received at `nowMs` may carry: what an agent whose clock is MAX_CLOCK_AHEAD_MS ahead could use. */
export function maxSeqAt(nowMs: number): number {
  return firstSeqAt(nowMs + MAX_CLOCK_AHEAD_MS) + 1_000_000_000;
}

export interface DecodeOptions {
  /** The receiver's clock: times and seqs beyond what any agent's clock can have made are refused. */
  nowMs?: number;
}

export function decodeSnapshot(payload: Buffer | string, options: DecodeOptions = {}): MinerSnapshot {
  const object = parseObject(payload, 'MinerSnapshot', MAX_SNAPSHOT_BYTES);
  const rigId = requireRigId(object, 'MinerSnapshot');
  requireTimestamp(object, 'collectedAt', 'MinerSnapshot');
  for (const list of ['boards', 'fans', 'pools', 'errors'] as const) {
    if (object[list] !== undefined && !Array.isArray(object[list])) {
      throw new ProtocolError(`MinerSnapshot from rig "${rigId}": ${list} must be an array`, list);
    }
  }
  const bad = findBadNumber(object);
  if (bad) {
    throw new ProtocolError(`MinerSnapshot from rig "${rigId}": ${bad.path} must be a finite${/TempC$/.test(bad.path) ? '' : ', non-negative'} number, got ${JSON.stringify(bad.value)}`, bad.path);
  }
  const snapshot = fromJson(MinerSnapshot, object, 'MinerSnapshot');
  // A safe integer: a seq of 1.5 or 1e300 once made every fleet-wide read fail to serialize (issue 16).
  if (!Number.isSafeInteger(snapshot.seq) || snapshot.seq < 1) {
    throw new ProtocolError(`MinerSnapshot from rig "${rigId}": seq must be a positive integer, got ${JSON.stringify(object['seq'])}`, 'seq');
  }
  if (snapshot.minerId === '') {
    throw new ProtocolError(`MinerSnapshot from rig "${rigId}": minerId is missing`, 'minerId');
  }
  if (options.nowMs !== undefined) {
    const collectedAt = snapshot.collectedAt!.getTime();
    if (collectedAt < EARLIEST_MS) {
      throw new ProtocolError(`MinerSnapshot from rig "${rigId}": collectedAt ${snapshot.collectedAt!.toISOString()} is before 2009: is the agent's clock set?`, 'collectedAt');
    }
    if (collectedAt > options.nowMs + MAX_CLOCK_AHEAD_MS) {
      throw new ProtocolError(`MinerSnapshot from rig "${rigId}": collectedAt ${snapshot.collectedAt!.toISOString()} is more than 24 h ahead of this controller's clock: fix the agent's clock (NTP)`, 'collectedAt');
    }
    if (snapshot.seq > maxSeqAt(options.nowMs)) {
      throw new ProtocolError(`MinerSnapshot from rig "${rigId}": seq ${snapshot.seq} is beyond any an agent can have issued by now (its first seq for a rig is its clock in ms × 1000)`, 'seq');
    }
  }
  snapshot.pools.forEach((pool, i) => {
    if (pool.lastShareTime !== undefined && Number.isNaN(pool.lastShareTime.getTime())) {
      throw new ProtocolError(`MinerSnapshot from rig "${rigId}": pools[${i}].lastShareTime is not a valid time`, `pools[${i}].lastShareTime`);
    }
  });
  return snapshot;
}

export function decodeRigState(payload: Buffer | string): RigState {
  const object = parseObject(payload, 'RigState');
  requireRigId(object, 'RigState');
  requireTimestamp(object, 'at', 'RigState');
  return fromJson(RigState, object, 'RigState');
}

export function decodeCommandEnvelope(payload: Buffer | string): CommandEnvelope {
  const object = parseObject(payload, 'CommandEnvelope');
  requireRigId(object, 'CommandEnvelope');
  const envelope = fromJson(CommandEnvelope, object, 'CommandEnvelope');
  if (envelope.commandId === '') throw new ProtocolError('CommandEnvelope: commandId is missing', 'commandId');
  if (envelope.payload === undefined) throw new ProtocolError(`CommandEnvelope ${envelope.commandId}: no command payload`, 'payload');
  return envelope;
}

export function decodeCommandResult(payload: Buffer | string): CommandResult {
  const object = parseObject(payload, 'CommandResult');
  requireRigId(object, 'CommandResult');
  const result = fromJson(CommandResult, object, 'CommandResult');
  if (result.commandId === '') throw new ProtocolError(`CommandResult from rig "${result.rigId}": commandId is missing`, 'commandId');
  return result;
}

export function decodeRigEvent(payload: Buffer | string): RigEvent {
  const object = parseObject(payload, 'RigEvent');
  requireRigId(object, 'RigEvent');
  const event = fromJson(RigEvent, object, 'RigEvent');
  if (event.eventId === '') throw new ProtocolError(`RigEvent from rig "${event.rigId}": eventId is missing`, 'eventId');
  if (event.kind === '') throw new ProtocolError(`RigEvent from rig "${event.rigId}": kind is missing`, 'kind');
  if (!event.at) throw new ProtocolError(`RigEvent from rig "${event.rigId}": at is missing`, 'at');
  return event;
}

export function decodeAgentStatus(payload: Buffer | string): AgentStatus {
  const object = parseObject(payload, 'AgentStatus');
  const agentId = object['agentId'];
  if (typeof agentId !== 'string' || !isValidRigId(agentId)) {
    throw new ProtocolError(`AgentStatus: agentId is missing or invalid (${JSON.stringify(agentId)})`, 'agentId');
  }
  const at = object['at'];
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) {
    throw new ProtocolError(`AgentStatus from agent "${agentId}": at must be an RFC 3339 timestamp, got ${JSON.stringify(at)}`, 'at');
  }
  return fromJson(AgentStatus, object, 'AgentStatus');
}
