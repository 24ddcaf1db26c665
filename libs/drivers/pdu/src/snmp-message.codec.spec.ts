import { BerError } from './ber.codec';
import { decodeSnmpMessage, encodeSnmpMessage, errorStatusName, snmpInteger, snmpOctetString, type SnmpMessage } from './snmp-message.codec';

describe('snmp message codec', () => {
  it('encodes a v1 GET of sysDescr.0 byte for byte as RFC 1157 lays it out', () => {
    const message: SnmpMessage = {
      version: '1',
      community: 'public',
      pdu: { type: 'get', requestId: 1, errorStatus: 0, errorIndex: 0, varbinds: [{ oid: '1.3.6.1.2.1.1.1.0', value: { type: 'null' } }] },
    };
    const expected =
      '3026' + '020100' + '0406' + Buffer.from('public').toString('hex') +
      'a019' + '020101' + '020100' + '020100' +
      '300e' + '300c' + '06082b06010201010100' + '0500';
    expect(encodeSnmpMessage(message).toString('hex')).toBe(expected);
    expect(decodeSnmpMessage(Buffer.from(expected, 'hex'))).toEqual(message);
  });

  it('round-trips a v2c SET with several value types and a long community', () => {
    const message: SnmpMessage = {
      version: '2c',
      community: 'c'.repeat(200),
      pdu: {
        type: 'set',
        requestId: 2147483647,
        errorStatus: 0,
        errorIndex: 0,
        varbinds: [
          { oid: '1.3.6.1.4.1.318.1.1.4.4.2.1.3.24', value: snmpInteger(2) },
          { oid: '1.3.6.1.4.1.318.1.1.4.4.2.1.4.1', value: snmpOctetString('Miner A1 — rack 4') },
          { oid: '1.3.6.1.2.1.1.2.0', value: { type: 'oid', value: '1.3.6.1.4.1.318.1.3.4.5' } },
          { oid: '1.3.6.1.2.1.4.20.1.1.10', value: { type: 'ipAddress', value: '10.0.0.1' } },
          { oid: '1.3.6.1.2.1.1.3.0', value: { type: 'timeTicks', value: 4294967295 } },
          { oid: '1.3.6.1.2.1.31.1.1.1.6.1', value: { type: 'counter64', value: 18446744073709551615n } },
          { oid: '1.3.6.1.2.1.2.2.1.10.1', value: { type: 'counter32', value: 1 } },
          { oid: '1.3.6.1.2.1.2.2.1.5.1', value: { type: 'gauge32', value: 1000000000 } },
          { oid: '1.3.6.1.4.1.1.1', value: { type: 'opaque', value: Buffer.from([1, 2]) } },
          { oid: '1.3.6.1.4.1.1.2', value: snmpInteger(-42) },
        ],
      },
    };
    expect(decodeSnmpMessage(encodeSnmpMessage(message))).toEqual(message);
  });

  it('round-trips a v2c response with the three exceptions', () => {
    const message: SnmpMessage = {
      version: '2c',
      community: 'public',
      pdu: {
        type: 'response', requestId: 7, errorStatus: 0, errorIndex: 0,
        varbinds: [
          { oid: '1.3.6.1.9', value: { type: 'noSuchObject' } },
          { oid: '1.3.6.1.4.1.318.1.1.4.4.2.1.3.99', value: { type: 'noSuchInstance' } },
          { oid: '1.3.6.1.99', value: { type: 'endOfMibView' } },
        ],
      },
    };
    expect(decodeSnmpMessage(encodeSnmpMessage(message))).toEqual(message);
  });

  it('refuses values outside Integer32 before sending', () => {
    const message: SnmpMessage = {
      version: '1', community: 'x',
      pdu: { type: 'set', requestId: 1, errorStatus: 0, errorIndex: 0, varbinds: [{ oid: '1.3.6.1', value: snmpInteger(2 ** 31) }] },
    };
    expect(() => encodeSnmpMessage(message)).toThrow(/Integer32/);
  });

  it.each([
    ['an SNMPv3 message', '3011020103' + '0400' + 'a00a020101020100020100' + '3000'],
    ['a v1 trap PDU', '300a020100' + '0400' + 'a403020101'],
    ['a message with two parts', '3006020100040100'],
    ['plain garbage', 'deadbeef'],
  ])('refuses %s with a BerError', (_what, bytes) => {
    expect(() => decodeSnmpMessage(Buffer.from(bytes, 'hex'))).toThrow(BerError);
  });

  it('names every error-status of RFC 3416, and unknown ones by number', () => {
    expect([0, 2, 3, 4, 5, 6, 10, 17, 18].map(errorStatusName)).toEqual([
      'noError', 'noSuchName', 'badValue', 'readOnly', 'genErr', 'noAccess', 'wrongValue', 'notWritable', 'inconsistentName',
    ]);
    expect(errorStatusName(42)).toBe('error-status 42');
  });
});
