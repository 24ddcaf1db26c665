import {
  BerError,
  BerTag,
  decodeBigInteger,
  decodeInteger,
  decodeNull,
  decodeOid,
  decodeUnsigned,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeTlv,
  encodeUnsigned,
  readChildren,
  readSingle,
  type BerElement,
} from './ber.codec';

/**
 * SNMP v1 (RFC 1157) and v2c (RFC 1901, RFC 3416) messages:
 *
 *   Message ::= SEQUENCE { version INTEGER (0 = v1, 1 = v2c), community OCTET STRING, data PDU }
 *   PDU     ::= [tag] IMPLICIT SEQUENCE { request-id INTEGER, error-status INTEGER,
 *                                         error-index INTEGER, variable-bindings SEQUENCE OF VarBind }
 *   VarBind ::= SEQUENCE { name OBJECT IDENTIFIER, value }
 *
 * GetBulk reuses error-status/error-index as non-repeaters/max-repetitions; the v1
 * Trap PDU has another shape and is refused here (a manager never receives one
 * in reply to a request).
 */

export type SnmpVersion = '1' | '2c';

export type SnmpValue =
  | { type: 'integer'; value: number }
  | { type: 'octetString'; value: Buffer }
  | { type: 'null' }
  | { type: 'oid'; value: string }
  | { type: 'ipAddress'; value: string }
  | { type: 'counter32' | 'gauge32' | 'timeTicks'; value: number }
  | { type: 'counter64'; value: bigint }
  | { type: 'opaque'; value: Buffer }
  /** v2c exceptions in a response varbind (RFC 3416 section 3). */
  | { type: 'noSuchObject' | 'noSuchInstance' | 'endOfMibView' };

export interface SnmpVarbind {
  oid: string;
  value: SnmpValue;
}

export type SnmpPduType = 'get' | 'getNext' | 'response' | 'set' | 'getBulk' | 'inform' | 'trapV2' | 'report';

export interface SnmpPdu {
  type: SnmpPduType;
  requestId: number;
  errorStatus: number;
  /** 1-based index of the varbind the error is about; 0 when none. */
  errorIndex: number;
  varbinds: SnmpVarbind[];
}

export interface SnmpMessage {
  version: SnmpVersion;
  community: string;
  pdu: SnmpPdu;
}

/** error-status values, index = code (RFC 1157 for 0..5, RFC 3416 for 6..18). */
export const SNMP_ERROR_STATUS_NAMES = [
  'noError', 'tooBig', 'noSuchName', 'badValue', 'readOnly', 'genErr', 'noAccess', 'wrongType', 'wrongLength',
  'wrongEncoding', 'wrongValue', 'noCreation', 'inconsistentValue', 'resourceUnavailable', 'commitFailed',
  'undoFailed', 'authorizationError', 'notWritable', 'inconsistentName',
] as const;

export type SnmpErrorStatusName = (typeof SNMP_ERROR_STATUS_NAMES)[number];

export function errorStatusName(code: number): SnmpErrorStatusName | `error-status ${number}` {
  return SNMP_ERROR_STATUS_NAMES[code] ?? `error-status ${code}`;
}

const PDU_TAGS: Record<SnmpPduType, number> = {
  get: BerTag.GET_REQUEST,
  getNext: BerTag.GET_NEXT_REQUEST,
  response: BerTag.RESPONSE,
  set: BerTag.SET_REQUEST,
  getBulk: BerTag.GET_BULK_REQUEST,
  inform: BerTag.INFORM_REQUEST,
  trapV2: BerTag.TRAP_V2,
  report: BerTag.REPORT,
};
const PDU_TYPES = new Map<number, SnmpPduType>(Object.entries(PDU_TAGS).map(([type, tag]) => [tag, type as SnmpPduType]));

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

export const snmpInteger = (value: number): SnmpValue => ({ type: 'integer', value });
export const snmpOctetString = (value: string | Buffer): SnmpValue => ({
  type: 'octetString',
  value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
});
export const snmpNull = (): SnmpValue => ({ type: 'null' });

export function encodeValue(value: SnmpValue): Buffer {
  switch (value.type) {
    case 'integer':
      if (!Number.isInteger(value.value) || value.value < INT32_MIN || value.value > INT32_MAX) {
        throw new RangeError(`INTEGER ${value.value} is outside Integer32`);
      }
      return encodeInteger(value.value);
    case 'octetString':
      return encodeOctetString(value.value);
    case 'null':
      return encodeNull();
    case 'oid':
      return encodeOid(value.value);
    case 'ipAddress': {
      const parts = value.value.split('.').map(Number);
      if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
        throw new RangeError(`not an IPv4 address: ${value.value}`);
      }
      return encodeTlv(BerTag.IP_ADDRESS, Buffer.from(parts));
    }
    case 'counter32':
      return encodeUnsigned(value.value, BerTag.COUNTER32, 32);
    case 'gauge32':
      return encodeUnsigned(value.value, BerTag.GAUGE32, 32);
    case 'timeTicks':
      return encodeUnsigned(value.value, BerTag.TIME_TICKS, 32);
    case 'counter64':
      return encodeUnsigned(value.value, BerTag.COUNTER64, 64);
    case 'opaque':
      return encodeOctetString(value.value, BerTag.OPAQUE);
    case 'noSuchObject':
      return encodeNull(BerTag.NO_SUCH_OBJECT);
    case 'noSuchInstance':
      return encodeNull(BerTag.NO_SUCH_INSTANCE);
    case 'endOfMibView':
      return encodeNull(BerTag.END_OF_MIB_VIEW);
  }
}

export function decodeValue(element: BerElement): SnmpValue {
  switch (element.tag) {
    case BerTag.INTEGER:
      return { type: 'integer', value: decodeInteger(element) };
    case BerTag.OCTET_STRING:
      return { type: 'octetString', value: Buffer.from(element.content) };
    case BerTag.NULL:
      decodeNull(element);
      return { type: 'null' };
    case BerTag.OBJECT_IDENTIFIER:
      return { type: 'oid', value: decodeOid(element) };
    case BerTag.IP_ADDRESS:
      if (element.content.length !== 4) throw new BerError('IpAddress must be 4 octets', element.offset);
      return { type: 'ipAddress', value: [...element.content].join('.') };
    case BerTag.COUNTER32:
      return { type: 'counter32', value: Number(decodeUnsigned(element, 32)) };
    case BerTag.GAUGE32:
      return { type: 'gauge32', value: Number(decodeUnsigned(element, 32)) };
    case BerTag.TIME_TICKS:
      return { type: 'timeTicks', value: Number(decodeUnsigned(element, 32)) };
    case BerTag.COUNTER64:
      return { type: 'counter64', value: decodeUnsigned(element, 64) };
    case BerTag.OPAQUE:
      return { type: 'opaque', value: Buffer.from(element.content) };
    case BerTag.NO_SUCH_OBJECT:
      decodeNull(element);
      return { type: 'noSuchObject' };
    case BerTag.NO_SUCH_INSTANCE:
      decodeNull(element);
      return { type: 'noSuchInstance' };
    case BerTag.END_OF_MIB_VIEW:
      decodeNull(element);
      return { type: 'endOfMibView' };
    default:
      throw new BerError(`unknown value tag 0x${element.tag.toString(16)}`, element.offset);
  }
}

export function encodeSnmpMessage(message: SnmpMessage): Buffer {
  const { pdu } = message;
  const varbinds = pdu.varbinds.map((vb) => encodeSequence([encodeOid(vb.oid), encodeValue(vb.value)]));
  return encodeSequence([
    encodeInteger(message.version === '1' ? 0 : 1),
    encodeOctetString(message.community),
    encodeSequence(
      [encodeInteger(pdu.requestId), encodeInteger(pdu.errorStatus), encodeInteger(pdu.errorIndex), encodeSequence(varbinds)],
      PDU_TAGS[pdu.type],
    ),
  ]);
}

/** Decodes one datagram. Throws BerError for anything that is not a v1/v2c message we understand. */
export function decodeSnmpMessage(datagram: Buffer): SnmpMessage {
  const message = readSingle(datagram, BerTag.SEQUENCE, 'SNMP message');
  const parts = readChildren(message);
  if (parts.length !== 3) throw new BerError(`SNMP message has ${parts.length} parts, expected 3`, message.offset);
  const [versionEl, communityEl, pduEl] = parts;
  if (versionEl.tag !== BerTag.INTEGER) throw new BerError('SNMP version is not an INTEGER', versionEl.offset);
  const versionNumber = decodeBigInteger(versionEl);
  if (versionNumber !== 0n && versionNumber !== 1n) throw new BerError(`SNMP version ${versionNumber} is not v1 (0) or v2c (1)`, versionEl.offset);
  if (communityEl.tag !== BerTag.OCTET_STRING) throw new BerError('community is not an OCTET STRING', communityEl.offset);
  const type = PDU_TYPES.get(pduEl.tag);
  if (!type) throw new BerError(`unsupported PDU tag 0x${pduEl.tag.toString(16)}`, pduEl.offset);
  const fields = readChildren(pduEl);
  if (fields.length !== 4) throw new BerError(`PDU has ${fields.length} fields, expected 4`, pduEl.offset);
  const [requestIdEl, errorStatusEl, errorIndexEl, varbindListEl] = fields;
  for (const [el, what] of [[requestIdEl, 'request-id'], [errorStatusEl, 'error-status'], [errorIndexEl, 'error-index']] as const) {
    if (el.tag !== BerTag.INTEGER) throw new BerError(`${what} is not an INTEGER`, el.offset);
  }
  if (varbindListEl.tag !== BerTag.SEQUENCE) throw new BerError('variable-bindings is not a SEQUENCE', varbindListEl.offset);
  const varbinds = readChildren(varbindListEl).map((vbEl): SnmpVarbind => {
    if (vbEl.tag !== BerTag.SEQUENCE) throw new BerError('VarBind is not a SEQUENCE', vbEl.offset);
    const [nameEl, valueEl, ...extra] = readChildren(vbEl);
    if (!nameEl || !valueEl || extra.length > 0) throw new BerError('VarBind must have a name and a value', vbEl.offset);
    if (nameEl.tag !== BerTag.OBJECT_IDENTIFIER) throw new BerError('VarBind name is not an OBJECT IDENTIFIER', nameEl.offset);
    return { oid: decodeOid(nameEl), value: decodeValue(valueEl) };
  });
  return {
    version: versionNumber === 0n ? '1' : '2c',
    community: communityEl.content.toString('utf8'),
    pdu: {
      type,
      requestId: decodeInteger(requestIdEl),
      errorStatus: decodeInteger(errorStatusEl),
      errorIndex: decodeInteger(errorIndexEl),
      varbinds,
    },
  };
}
