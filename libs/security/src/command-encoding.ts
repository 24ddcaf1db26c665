import {
  ApplyProfile, CommandEnvelope, PowerCycle, RebootHost, RestartMiner, RetireKey, RotateKey, SetFaultLight, SetPools, SetPowerMode,
  SetPowerTarget, SwitchPool,
} from '@rigwarden/protocol';
import { canonicalJson, isWellFormedString } from './canonical-json';
import { SecurityError } from './security-error';

/** The version of the canonical encoding; the first field of every encoding, so v2 can never collide with v1. */
export const COMMAND_ENCODING_VERSION = 'v1';

/** Domain-separation tag: the first field of the signed bytes. */
export const COMMAND_ENCODING_TAG = `rigwarden/command-envelope/${COMMAND_ENCODING_VERSION}`;

export type CommandPayload = NonNullable<CommandEnvelope['payload']>;
export type CommandType = CommandPayload['$case'];

/** Every command type; a Record so that a type added to the proto oneof fails the typecheck here until listed. */
const KNOWN_TYPES: Record<CommandType, true> = {
  setPools: true, switchPool: true, applyProfile: true, restartMiner: true, rebootHost: true, powerCycle: true, rotateKey: true,
  retireKey: true, setPowerMode: true, setFaultLight: true, setPowerTarget: true,
};
export const COMMAND_TYPES: readonly CommandType[] = Object.keys(KNOWN_TYPES) as CommandType[];

/** The envelope fields the signature covers. `signature` and `reason` are not signed; `leaseEpoch` when non-zero. */
export type SignedFields = Pick<
  CommandEnvelope,
  'commandId' | 'rigId' | 'minerId' | 'payload' | 'nonce' | 'issuedAt' | 'expiresAt' | 'keyId'
> & Partial<Pick<CommandEnvelope, 'leaseEpoch'>>;

/** The proto3 JSON mapping of a payload's value: what travels on the wire, defaults omitted. */
export function payloadJson(payload: CommandPayload): unknown {
  switch (payload.$case) {
    case 'setPools': return SetPools.toJSON(payload.value);
    case 'switchPool': return SwitchPool.toJSON(payload.value);
    case 'applyProfile': return ApplyProfile.toJSON(payload.value);
    case 'restartMiner': return RestartMiner.toJSON(payload.value);
    case 'rebootHost': return RebootHost.toJSON(payload.value);
    case 'powerCycle': return PowerCycle.toJSON(payload.value);
    case 'rotateKey': return RotateKey.toJSON(payload.value);
    case 'retireKey': return RetireKey.toJSON(payload.value);
    case 'setPowerMode': return SetPowerMode.toJSON(payload.value);
    case 'setFaultLight': return SetFaultLight.toJSON(payload.value);
    case 'setPowerTarget': return SetPowerTarget.toJSON(payload.value);
    default: {
      const unknownType: never = payload; // a new oneof member must be added above
      throw unsignable('payload', `has an unknown type ${JSON.stringify((unknownType as { $case?: unknown }).$case)}`);
    }
  }
}

/**
 * The bytes an envelope's HMAC is computed over (encoding v1). Ten fields, in this order, each written as a
 * 4-byte big-endian unsigned length followed by that many bytes of UTF-8:
 *
 *  1. the tag `rigwarden/command-envelope/v1`
 *  2. commandId   3. rigId   4. minerId
 *  5. the command type: the payload's `$case` (`setPools`, `switchPool`, ...)
 *  6. the payload value as canonical JSON (see `canonicalJson`) of its proto3 JSON mapping
 *  7. nonce
 *  8. issuedAt and 9. expiresAt as decimal integer milliseconds since the Unix epoch (`-` for negatives, no padding)
 * 10. keyId
 * 11. leaseEpoch as a decimal integer, only when it is not 0 (the fencing token of controllers sharing the fleet;
 *     an envelope without one encodes exactly as before it existed)
 *
 * Length prefixes make the concatenation unambiguous (no separator can be smuggled into a field); the canonical
 * JSON makes it independent of key order and whitespace; strings are encoded as given (no Unicode normalisation).
 * Throws a SecurityError (`unsignable_envelope`, with the field) when a field is missing or has no canonical form.
 */
export function encodeForSigning(envelope: SignedFields): Buffer {
  const payload = envelope.payload;
  if (payload === undefined || !COMMAND_TYPES.includes(payload.$case)) throw unsignable('payload', 'is missing or of an unknown type');
  let json: string;
  try {
    json = canonicalJson(payloadJson(payload));
  } catch (err) {
    throw unsignable('payload', (err as Error).message, err);
  }
  const fields: Array<[string, string]> = [
    ['tag', COMMAND_ENCODING_TAG],
    ['commandId', envelope.commandId],
    ['rigId', envelope.rigId],
    ['minerId', envelope.minerId],
    ['type', payload.$case],
    ['payload', json],
    ['nonce', envelope.nonce],
    ['issuedAt', epochMs(envelope.issuedAt, 'issuedAt')],
    ['expiresAt', epochMs(envelope.expiresAt, 'expiresAt')],
    ['keyId', envelope.keyId],
  ];
  const epoch = envelope.leaseEpoch ?? 0;
  if (!(Number.isSafeInteger(epoch) && epoch >= 0)) throw unsignable('leaseEpoch', 'must be a non-negative integer');
  if (epoch > 0) fields.push(['leaseEpoch', String(epoch)]);
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    if (typeof value !== 'string') throw unsignable(name, `must be a string, got ${typeof value}`);
    if (!isWellFormedString(value)) throw unsignable(name, 'contains a lone UTF-16 surrogate');
    const bytes = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

function epochMs(date: Date | undefined, field: string): string {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isSafeInteger(ms)) throw unsignable(field, 'is missing or not a valid time');
  return String(ms);
}

function unsignable(field: string, problem: string, cause?: unknown): SecurityError {
  return new SecurityError('unsignable_envelope', `encodeForSigning: ${field} ${problem}`, { field }, { cause });
}
