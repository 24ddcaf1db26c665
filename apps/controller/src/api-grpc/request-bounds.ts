/**
 * Bounds on what a gRPC request may carry, checked by the authentication interceptor on every decoded request
 * before its handler sees it (so no use case ever formats a megabyte of caller input into an error or a query).
 */

/** The server refuses (RESOURCE_EXHAUSTED) a request message larger than this; the fleet YAML is the largest one. */
export const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Answers are bounded too (a ListRigs of a large fleet, a telemetry query). */
export const MAX_SEND_MESSAGE_BYTES = 64 * 1024 * 1024;
/** An identifier (rig, miner, key, command, group, profile, principal...) is at most this many characters. */
export const MAX_IDENTIFIER_CHARS = 256;
/** Any other text field (reasons, pool URLs, passwords, selectors' label values). */
export const MAX_TEXT_CHARS = 4096;
/** Whole documents: the fleet spec YAML (ApplyFleetSpec.yaml, DryRunPolicies.fleet_yaml). */
export const MAX_DOCUMENT_CHARS = MAX_RECEIVE_MESSAGE_BYTES;
/** Any repeated field (rig ids of a selector, pools of a SetPools). */
export const MAX_LIST_ITEMS = 10_000;
/** An error's details (trailers travel in HTTP/2 headers, which clients cap at 8-16 KiB). */
export const MAX_STATUS_DETAILS_CHARS = 1024;

/** Field names whose values are identifiers; the check is by name, at any depth of any request. */
const IDENTIFIER_FIELDS = new Set([
  'rigId', 'minerId', 'keyId', 'commandId', 'name', 'group', 'profile', 'principal', 'action', 'target', 'agentId',
  'expectedVersion', 'rigIdPrefix', 'kind', 'kindPrefix', 'pageToken',
]);
/** Repeated fields of identifiers. */
const IDENTIFIER_LISTS = new Set(['rigIds', 'minerIds', 'commandIds', 'keyIds', 'scopes']);
const DOCUMENT_FIELDS = new Set(['yaml']);

/**
 * The first bound a decoded request breaks, as a message naming the field and its size (never its value, which may
 * be a megabyte), or undefined when it is within bounds.
 */
export function requestBoundsViolation(message: unknown): string | undefined {
  return walk(message, '', 0);
}

function maxChars(key: string): number {
  return DOCUMENT_FIELDS.has(key) || /Yaml$/.test(key) ? MAX_DOCUMENT_CHARS : IDENTIFIER_FIELDS.has(key) || IDENTIFIER_LISTS.has(key) ? MAX_IDENTIFIER_CHARS : MAX_TEXT_CHARS;
}

function walk(value: unknown, at: string, depth: number, key = ''): string | undefined {
  if (depth > 32) return `${at || 'request'}: nested more than 32 levels`;
  if (Array.isArray(value)) {
    if (value.length > MAX_LIST_ITEMS) return `${at}: ${value.length} items; at most ${MAX_LIST_ITEMS}`;
    const max = maxChars(key);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') {
        if (item.length > max) return `${at}[${i}]: ${item.length} characters; at most ${max}`;
        continue;
      }
      const found = walk(item, `${at}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value) || value instanceof Uint8Array) return undefined;
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const path = at ? `${at}.${snake(key)}` : snake(key);
    if (typeof field === 'string') {
      const max = maxChars(key);
      if (field.length > max) return `${path}: ${field.length} characters; at most ${max}`;
      continue;
    }
    if (typeof field === 'object' && field !== null) {
      // Map fields (labels) are objects whose keys are caller text too.
      for (const k of Object.keys(field)) if (k.length > MAX_TEXT_CHARS) return `${path}: a key of ${k.length} characters; at most ${MAX_TEXT_CHARS}`;
      const found = walk(field, path, depth + 1, key);
      if (found) return found;
    }
  }
  return undefined;
}

/** rigId -> rig_id: errors name fields as the .proto does. */
function snake(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}...` : name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Details cut to what any client accepts in a trailer. */
export function boundedDetails(details: string): string {
  return details.length <= MAX_STATUS_DETAILS_CHARS ? details : `${details.slice(0, MAX_STATUS_DETAILS_CHARS - 40)}... (cut at ${MAX_STATUS_DETAILS_CHARS} characters)`;
}
