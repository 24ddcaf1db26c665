/**
 * The Braiins OS+ REST mirror (/api/v1, BOS 25.07+) sends the gRPC messages as JSON, with three differences from
 * the message objects @grpc/proto-loader builds: google.protobuf wrappers are bare numbers (`"chips_count": 65`),
 * a oneof is wrapped in an object named after it with a lower-case key (`"mode_state": {"powertargetmodestate":
 * {...}}`, `"strategy": {"quota": {...}}`), and GET /pools is a bare array of groups. These helpers turn a recorded
 * REST reply into the message object, so the replies can be checked against the .proto and read by the driver's
 * own mapper.
 */

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"name": 65}` -> `{"name": {"value": 65}}` for each wrapper field named. */
function wrap(obj: Json, fields: readonly string[]): Json {
  const out: Json = { ...obj };
  for (const f of fields) if (typeof out[f] === 'number' || typeof out[f] === 'string') out[f] = { value: out[f] };
  return out;
}

/** `{"strategy": {"quota": {...}}}` -> `{"quota": {...}}`, the oneof member named by the proto field it matches. */
function unwrapOneof(obj: Json, oneof: string, members: Readonly<Record<string, string>>): Json {
  const out: Json = { ...obj };
  const inner = out[oneof];
  if (!isObject(inner)) return out;
  delete out[oneof];
  for (const [key, value] of Object.entries(inner)) {
    const field = members[key.toLowerCase().replace(/_/g, '')];
    if (field) out[field] = value;
  }
  return out;
}

export function minerDetails(json: Json): Json {
  return isObject(json['psu_info']) ? { ...json, psu_info: wrap(json['psu_info'], ['version', 'fw_version']) } : json;
}

export function hashboards(json: Json): Json {
  const boards = Array.isArray(json['hashboards']) ? json['hashboards'] : [];
  return { ...json, hashboards: boards.map((b) => (isObject(b) ? wrap(b, ['chips_count']) : b)) };
}

export function tunerState(json: Json): Json {
  return unwrapOneof(json, 'mode_state', { powertargetmodestate: 'power_target_mode_state', hashratetargetmodestate: 'hashrate_target_mode_state' });
}

function poolGroup(g: unknown): unknown {
  return isObject(g) ? unwrapOneof(g, 'strategy', { quota: 'quota', fixedshareratio: 'fixed_share_ratio' }) : g;
}

/** GET /pools: a bare array of groups -> GetPoolGroupsResponse. */
export function poolGroups(json: unknown): Json {
  return { pool_groups: (Array.isArray(json) ? json : []).map(poolGroup) };
}

export function minerConfiguration(json: Json): Json {
  const groups = Array.isArray(json['pool_groups']) ? json['pool_groups'] : [];
  return { ...json, pool_groups: groups.map((g) => (isObject(g) ? unwrapOneof(g, 'load_balance_strategy', { quota: 'quota', fixedshareratio: 'fixed_share_ratio' }) : g)) };
}

/** GET /actions/locate: a bare boolean -> LocateDeviceStatusResponse. */
export function locateStatus(json: unknown): Json {
  return { enabled: json === true };
}

export function identity(json: unknown): Json {
  return isObject(json) ? json : {};
}
