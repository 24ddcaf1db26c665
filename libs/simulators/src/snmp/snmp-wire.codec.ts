/**
 * The simulator's own BER reader and writer for SNMP v1/v2c messages. Written
 * apart from the driver's codec on purpose (and the module boundaries forbid a
 * simulator to import a driver): the client is tested against an independent
 * reading of X.690, not against itself.
 */

export type WireValue =
  | { kind: 'int'; tag: number; value: bigint }   // INTEGER, Counter32, Gauge32, TimeTicks, Counter64
  | { kind: 'bytes'; tag: number; value: Buffer } // OCTET STRING, IpAddress, Opaque
  | { kind: 'oid'; value: string }
  | { kind: 'empty'; tag: number };               // NULL and the v2c exceptions

export interface WireVarbind {
  oid: string;
  value: WireValue;
}

export interface WireMessage {
  /** 0 for v1, 1 for v2c. */
  version: number;
  community: Buffer;
  pduTag: number;
  requestId: bigint;
  errorStatus: bigint;
  errorIndex: bigint;
  varbinds: WireVarbind[];
}

export const TAG = {
  INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30,
  IP_ADDRESS: 0x40, COUNTER32: 0x41, GAUGE32: 0x42, TIME_TICKS: 0x43, OPAQUE: 0x44, COUNTER64: 0x46,
  NO_SUCH_OBJECT: 0x80, NO_SUCH_INSTANCE: 0x81, END_OF_MIB_VIEW: 0x82,
  GET: 0xa0, GET_NEXT: 0xa1, RESPONSE: 0xa2, SET: 0xa3, GET_BULK: 0xa5,
} as const;

const INT_TAGS = new Set<number>([TAG.INTEGER, TAG.COUNTER32, TAG.GAUGE32, TAG.TIME_TICKS, TAG.COUNTER64]);
const BYTE_TAGS = new Set<number>([TAG.OCTET_STRING, TAG.IP_ADDRESS, TAG.OPAQUE]);
const EMPTY_TAGS = new Set<number>([TAG.NULL, TAG.NO_SUCH_OBJECT, TAG.NO_SUCH_INSTANCE, TAG.END_OF_MIB_VIEW]);

export class WireError extends Error {
  override readonly name = 'WireError';
}

// ------------------------------------------------------------------ reading

class Reader {
  constructor(private readonly buf: Buffer, private pos = 0, private readonly limit = buf.length) {}

  get done(): boolean {
    return this.pos >= this.limit;
  }

  /** Returns the tag and a reader over the content. */
  next(): { tag: number; body: Buffer } {
    if (this.pos + 2 > this.limit) throw new WireError('truncated header');
    const tag = this.buf[this.pos++];
    let len = this.buf[this.pos++];
    if (len === 0x80) throw new WireError('indefinite length');
    if (len > 0x80) {
      const n = len - 0x80;
      if (n > 4 || this.pos + n > this.limit) throw new WireError('bad long length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + this.buf[this.pos++];
    }
    if (this.pos + len > this.limit) throw new WireError('content past end');
    const body = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return { tag, body };
  }

  expect(tag: number): Buffer {
    const el = this.next();
    if (el.tag !== tag) throw new WireError(`expected tag ${tag}, got ${el.tag}`);
    return el.body;
  }
}

function readInt(body: Buffer): bigint {
  if (body.length === 0 || body.length > 9) throw new WireError('bad integer length');
  let v = BigInt.asIntN(8, BigInt(body[0]));
  for (let i = 1; i < body.length; i++) v = v * 256n + BigInt(body[i]);
  return v;
}

function readOid(body: Buffer): string {
  if (body.length === 0) throw new WireError('empty OID');
  const subs: number[] = [];
  let acc = 0;
  let open = false;
  for (const b of body) {
    acc = acc * 128 + (b & 0x7f);
    open = (b & 0x80) !== 0;
    if (!open) {
      subs.push(acc);
      acc = 0;
    }
  }
  if (open) throw new WireError('OID ends mid sub-identifier');
  const head = subs.shift() as number;
  const first = Math.min(2, Math.floor(head / 40));
  return [first, head - first * 40, ...subs].join('.');
}

function readValue(tag: number, body: Buffer): WireValue {
  if (INT_TAGS.has(tag)) {
    // Unsigned application types may carry a leading zero; reading as signed handles both.
    return { kind: 'int', tag, value: readInt(body) };
  }
  if (BYTE_TAGS.has(tag)) return { kind: 'bytes', tag, value: Buffer.from(body) };
  if (tag === TAG.OID) return { kind: 'oid', value: readOid(body) };
  if (EMPTY_TAGS.has(tag)) {
    if (body.length !== 0) throw new WireError('NULL with content');
    return { kind: 'empty', tag };
  }
  throw new WireError(`unknown value tag ${tag}`);
}

export function parseMessage(datagram: Buffer): WireMessage {
  const outer = new Reader(datagram);
  const seq = outer.next();
  if (seq.tag !== TAG.SEQUENCE || !outer.done) throw new WireError('not one SEQUENCE');
  const msg = new Reader(seq.body);
  const version = Number(readInt(msg.expect(TAG.INTEGER)));
  const community = Buffer.from(msg.expect(TAG.OCTET_STRING));
  const pdu = msg.next();
  if (!msg.done) throw new WireError('trailing data in message');
  const fields = new Reader(pdu.body);
  const requestId = readInt(fields.expect(TAG.INTEGER));
  const errorStatus = readInt(fields.expect(TAG.INTEGER));
  const errorIndex = readInt(fields.expect(TAG.INTEGER));
  const list = new Reader(fields.expect(TAG.SEQUENCE));
  const varbinds: WireVarbind[] = [];
  while (!list.done) {
    const vb = new Reader(list.expect(TAG.SEQUENCE));
    const oid = readOid(vb.expect(TAG.OID));
    const v = vb.next();
    if (!vb.done) throw new WireError('VarBind with more than two parts');
    varbinds.push({ oid, value: readValue(v.tag, v.body) });
  }
  return { version, community, pduTag: pdu.tag, requestId, errorStatus, errorIndex, varbinds };
}

// ------------------------------------------------------------------ writing

function tlv(tag: number, body: Buffer): Buffer {
  let len: Buffer;
  if (body.length < 128) len = Buffer.from([body.length]);
  else {
    const bytes: number[] = [];
    for (let n = body.length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    len = Buffer.from([0x80 + bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function intBody(v: bigint): Buffer {
  // Shortest two's complement: grow until the value fits signed.
  for (let n = 1; n <= 9; n++) {
    const lo = -(1n << BigInt(8 * n - 1));
    const hi = (1n << BigInt(8 * n - 1)) - 1n;
    if (v >= lo && v <= hi) {
      const out = Buffer.alloc(n);
      let u = BigInt.asUintN(8 * n, v);
      for (let i = n - 1; i >= 0; i--) {
        out[i] = Number(u & 0xffn);
        u >>= 8n;
      }
      return out;
    }
  }
  throw new WireError(`integer ${v} too large`);
}

function oidBody(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const subs = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  const out: number[] = [];
  for (const s of subs) {
    const group: number[] = [];
    let n = s;
    do {
      group.unshift((n % 128) | (group.length ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    out.push(...group);
  }
  return Buffer.from(out);
}

export function writeValue(value: WireValue): Buffer {
  switch (value.kind) {
    case 'int':
      return tlv(value.tag, intBody(value.value));
    case 'bytes':
      return tlv(value.tag, value.value);
    case 'oid':
      return tlv(TAG.OID, oidBody(value.value));
    case 'empty':
      return tlv(value.tag, Buffer.alloc(0));
  }
}

export function writeMessage(message: WireMessage): Buffer {
  const vbs = message.varbinds.map((vb) => tlv(TAG.SEQUENCE, Buffer.concat([tlv(TAG.OID, oidBody(vb.oid)), writeValue(vb.value)])));
  const pdu = tlv(
    message.pduTag,
    Buffer.concat([
      tlv(TAG.INTEGER, intBody(message.requestId)),
      tlv(TAG.INTEGER, intBody(message.errorStatus)),
      tlv(TAG.INTEGER, intBody(message.errorIndex)),
      tlv(TAG.SEQUENCE, Buffer.concat(vbs)),
    ]),
  );
  return tlv(TAG.SEQUENCE, Buffer.concat([tlv(TAG.INTEGER, intBody(BigInt(message.version))), tlv(TAG.OCTET_STRING, message.community), pdu]));
}

/** Numeric OID order, as GETNEXT walks. */
export function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
