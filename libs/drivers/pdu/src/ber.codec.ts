/**
 * The subset of ASN.1 BER (X.690) that SNMP v1/v2c needs: definite lengths only
 * (RFC 3417 section 8 forbids the indefinite form), INTEGER in two's complement,
 * OCTET STRING, NULL, OBJECT IDENTIFIER, SEQUENCE and the SNMP application and
 * context tags. Encoding is always minimal; decoding is strict about lengths and
 * OID sub-identifiers, lenient about integers padded with a leading zero (agents
 * send unsigned values that way).
 */

export const BerTag = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  SEQUENCE: 0x30,
  // SNMPv2-SMI application types (RFC 2578, RFC 3416)
  IP_ADDRESS: 0x40,
  COUNTER32: 0x41,
  GAUGE32: 0x42,
  TIME_TICKS: 0x43,
  OPAQUE: 0x44,
  COUNTER64: 0x46,
  // v2c varbind exceptions (context-specific, primitive)
  NO_SUCH_OBJECT: 0x80,
  NO_SUCH_INSTANCE: 0x81,
  END_OF_MIB_VIEW: 0x82,
  // PDU tags (context-specific, constructed)
  GET_REQUEST: 0xa0,
  GET_NEXT_REQUEST: 0xa1,
  RESPONSE: 0xa2,
  SET_REQUEST: 0xa3,
  TRAP_V1: 0xa4,
  GET_BULK_REQUEST: 0xa5,
  INFORM_REQUEST: 0xa6,
  TRAP_V2: 0xa7,
  REPORT: 0xa8,
} as const;

/** RFC 2578: a sub-identifier is at most 2^32-1, an OID has at most 128 of them. */
export const MAX_OID_ARC = 0xffff_ffff;
export const MAX_OID_ARCS = 128;

/** A buffer that is not the BER we expect; `offset` is where in the buffer it went wrong. */
export class BerError extends Error {
  override readonly name = 'BerError';
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte ${offset})`);
  }
}

// ---------------------------------------------------------------- encoding

export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`BER length must be a non-negative integer, got ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** Minimal two's complement content octets of a signed integer. */
function integerContent(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(BigInt.asUintN(8, rest));
    bytes.unshift(byte);
    rest >>= 8n; // arithmetic shift: -1 stays -1
    const signBit = (byte & 0x80) !== 0;
    if ((rest === 0n && !signBit) || (rest === -1n && signBit)) break;
  }
  return Buffer.from(bytes);
}

/** INTEGER (or an application type with the same content rules, given its tag). */
export function encodeInteger(value: number | bigint, tag: number = BerTag.INTEGER): Buffer {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return encodeTlv(tag, integerContent(BigInt(value)));
}

/** Counter32, Gauge32, TimeTicks, Counter64: non-negative, with a leading zero octet when the top bit is set. */
export function encodeUnsigned(value: number | bigint, tag: number, bits: 32 | 64): Buffer {
  const big = BigInt(value);
  if (big < 0n || big >= 1n << BigInt(bits)) throw new RangeError(`${value} does not fit an unsigned ${bits}-bit value`);
  return encodeTlv(tag, integerContent(big));
}

export function encodeOctetString(value: Buffer | string, tag: number = BerTag.OCTET_STRING): Buffer {
  return encodeTlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function encodeNull(tag: number = BerTag.NULL): Buffer {
  return Buffer.from([tag, 0x00]);
}

/** Parses "1.3.6.1..." (a leading dot is allowed) into arcs, refusing what BER cannot carry. */
export function parseOid(oid: string | readonly number[]): number[] {
  const arcs = typeof oid === 'string' ? oid.replace(/^\./, '').split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : NaN)) : [...oid];
  const text = typeof oid === 'string' ? oid : oid.join('.');
  if (arcs.length < 2) throw new RangeError(`OID "${text}" needs at least two arcs`);
  if (arcs.length > MAX_OID_ARCS) throw new RangeError(`OID "${text}" has more than ${MAX_OID_ARCS} arcs`);
  for (const arc of arcs) {
    if (!Number.isInteger(arc) || arc < 0 || arc > MAX_OID_ARC) throw new RangeError(`OID "${text}": every arc must be an integer from 0 to ${MAX_OID_ARC}`);
  }
  if (arcs[0] > 2) throw new RangeError(`OID "${text}": the first arc must be 0, 1 or 2`);
  if (arcs[0] < 2 && arcs[1] > 39) throw new RangeError(`OID "${text}": under arc ${arcs[0]} the second arc must be below 40`);
  return arcs;
}

/** Base-128, most significant group first, continuation bit on every byte but the last. */
function subidentifier(value: number): number[] {
  const bytes = [value % 128];
  for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) bytes.unshift(0x80 | (rest % 128));
  return bytes;
}

export function encodeOid(oid: string | readonly number[], tag: number = BerTag.OBJECT_IDENTIFIER): Buffer {
  const arcs = parseOid(oid);
  const bytes = [...subidentifier(arcs[0] * 40 + arcs[1])];
  for (const arc of arcs.slice(2)) bytes.push(...subidentifier(arc));
  return encodeTlv(tag, Buffer.from(bytes));
}

export function encodeSequence(items: readonly Buffer[], tag: number = BerTag.SEQUENCE): Buffer {
  return encodeTlv(tag, Buffer.concat(items));
}

// ---------------------------------------------------------------- decoding

/** One tag-length-value, located in its buffer. */
export interface BerElement {
  tag: number;
  /** Where the tag byte is. */
  offset: number;
  content: Buffer;
  /** Where the content starts (for error offsets). */
  contentOffset: number;
  /** The first byte after this element (counted, like offset, from the start of the outermost buffer). */
  end: number;
}

/** Reads one element at `offset`. Multi-byte tags, indefinite and over-long lengths are refused. */
export function readTlv(buffer: Buffer, offset = 0, base = 0): BerElement {
  if (offset >= buffer.length) throw new BerError('expected a tag, found the end of the data', base + offset);
  const tag = buffer[offset];
  if ((tag & 0x1f) === 0x1f) throw new BerError(`multi-byte tag 0x${tag.toString(16)} is not used by SNMP`, base + offset);
  if (offset + 1 >= buffer.length) throw new BerError('expected a length, found the end of the data', base + offset + 1);
  const first = buffer[offset + 1];
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else if (first === 0x80) {
    throw new BerError('indefinite length is not allowed in SNMP', base + offset + 1);
  } else {
    const count = first & 0x7f;
    if (count > 4) throw new BerError(`length of ${count} octets is too long`, base + offset + 1);
    if (offset + 2 + count > buffer.length) throw new BerError('length octets run past the end of the data', base + offset + 1);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset + 2 + i];
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > buffer.length) throw new BerError(`content of ${length} bytes runs past the end of the data`, base + offset);
  return { tag, offset: base + offset, content: buffer.subarray(contentStart, end), contentOffset: base + contentStart, end: base + end };
}

/** Reads an element and checks its tag. */
export function expectTlv(buffer: Buffer, offset: number, tag: number, what: string, base = 0): BerElement {
  const element = readTlv(buffer, offset, base);
  if (element.tag !== tag) throw new BerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`, element.offset);
  return element;
}

/** The elements inside a constructed element's content, in order. */
export function readChildren(element: BerElement): BerElement[] {
  const children: BerElement[] = [];
  let offset = 0;
  while (offset < element.content.length) {
    const child = readTlv(element.content, offset, element.contentOffset);
    children.push(child);
    offset = child.end - element.contentOffset;
  }
  return children;
}

/** A whole buffer that must be exactly one element with the given tag. */
export function readSingle(buffer: Buffer, tag: number, what: string): BerElement {
  const element = expectTlv(buffer, 0, tag, what);
  if (element.end !== buffer.length) throw new BerError(`${buffer.length - element.end} trailing bytes after ${what}`, element.end);
  return element;
}

export function decodeBigInteger(element: BerElement): bigint {
  const { content } = element;
  if (content.length === 0) throw new BerError('INTEGER with no content octets', element.offset);
  let value = 0n;
  for (const byte of content) value = (value << 8n) | BigInt(byte);
  return BigInt.asIntN(content.length * 8, value);
}

/** A signed INTEGER that fits a JavaScript number exactly. */
export function decodeInteger(element: BerElement): number {
  const value = decodeBigInteger(element);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new BerError(`INTEGER ${value} does not fit a safe JavaScript number`, element.offset);
  }
  return Number(value);
}

/** Counter32, Gauge32, TimeTicks (bits 32) or Counter64 (bits 64). */
export function decodeUnsigned(element: BerElement, bits: 32 | 64): bigint {
  const { content } = element;
  if (content.length === 0) throw new BerError('unsigned value with no content octets', element.offset);
  let value = 0n;
  for (const byte of content) value = (value << 8n) | BigInt(byte);
  if (value >= 1n << BigInt(bits)) throw new BerError(`value does not fit ${bits} unsigned bits`, element.offset);
  return value;
}

export function decodeNull(element: BerElement): null {
  if (element.content.length !== 0) throw new BerError('NULL with content octets', element.offset);
  return null;
}

export function decodeOid(element: BerElement): string {
  const { content } = element;
  if (content.length === 0) throw new BerError('OBJECT IDENTIFIER with no content octets', element.offset);
  const subids: number[] = [];
  let value = 0;
  let fresh = true;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i];
    if (fresh && byte === 0x80) throw new BerError('sub-identifier with a leading 0x80 octet', element.contentOffset + i);
    value = value * 128 + (byte & 0x7f);
    if (value > MAX_OID_ARC * 40 + 2 * 40) throw new BerError('sub-identifier larger than 2^32-1', element.contentOffset + i);
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      subids.push(value);
      value = 0;
    }
  }
  if (!fresh) throw new BerError('OBJECT IDENTIFIER ends inside a sub-identifier', element.contentOffset + content.length - 1);
  const [first, ...rest] = subids;
  const arcs = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  if (arcs[1] > MAX_OID_ARC) throw new BerError('second arc larger than 2^32-1', element.contentOffset);
  for (const arc of rest) if (arc > MAX_OID_ARC) throw new BerError('arc larger than 2^32-1', element.contentOffset);
  if (arcs.length + rest.length > MAX_OID_ARCS) throw new BerError(`OID with more than ${MAX_OID_ARCS} arcs`, element.offset);
  return [...arcs, ...rest].join('.');
}
