import {
  BerError,
  BerTag,
  decodeBigInteger,
  decodeInteger,
  decodeOid,
  decodeUnsigned,
  encodeInteger,
  encodeLength,
  encodeNull,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeUnsigned,
  readChildren,
  readSingle,
  readTlv,
} from './ber.codec';

const hex = (b: Buffer): string => b.toString('hex');

describe('ber codec: INTEGER', () => {
  // X.690 8.3: minimal two's complement. Expected bytes checked by hand.
  it.each([
    [0, '020100'],
    [1, '020101'],
    [127, '02017f'],
    [128, '02020080'],
    [255, '020200ff'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [-256, '0202ff00'],
    [2147483647, '02047fffffff'],
    [-2147483648, '020480000000'],
  ])('encodes %d as %s and decodes it back', (value, expected) => {
    const encoded = encodeInteger(value);
    expect(hex(encoded)).toBe(expected);
    expect(decodeInteger(readTlv(encoded))).toBe(value);
  });

  it('round-trips negative 64-bit values through bigint', () => {
    const value = -(2n ** 63n);
    const encoded = encodeInteger(value);
    expect(hex(encoded)).toBe('02088000000000000000');
    expect(decodeBigInteger(readTlv(encoded))).toBe(value);
  });

  it('decodes a non-minimal integer padded by an agent', () => {
    expect(decodeInteger(readTlv(Buffer.from('0203000001', 'hex')))).toBe(1);
  });

  it('refuses an INTEGER with no content octets', () => {
    expect(() => decodeInteger(readTlv(Buffer.from('0200', 'hex')))).toThrow(BerError);
  });

  it('encodes unsigned application types with a leading zero when the top bit is set', () => {
    expect(hex(encodeUnsigned(0xffffffff, BerTag.COUNTER32, 32))).toBe('410500ffffffff');
    expect(decodeUnsigned(readTlv(encodeUnsigned(0xffffffff, BerTag.GAUGE32, 32)), 32)).toBe(0xffffffffn);
    expect(hex(encodeUnsigned(2n ** 64n - 1n, BerTag.COUNTER64, 64))).toBe('460900ffffffffffffffff');
    expect(() => encodeUnsigned(-1, BerTag.COUNTER32, 32)).toThrow(RangeError);
    expect(() => encodeUnsigned(2 ** 32, BerTag.COUNTER32, 32)).toThrow(RangeError);
  });
});

describe('ber codec: lengths', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65535, '82ffff'],
    [65536, '83010000'],
  ])('encodes length %d as %s', (length, expected) => {
    expect(hex(encodeLength(length))).toBe(expected);
  });

  it('round-trips an OCTET STRING longer than 127 bytes (long-form length)', () => {
    const text = 'x'.repeat(300);
    const encoded = encodeOctetString(text);
    expect(hex(encoded.subarray(0, 4))).toBe('0482012c');
    const element = readTlv(encoded);
    expect(element.content.toString()).toBe(text);
    expect(element.end).toBe(encoded.length);
  });

  it('round-trips a SEQUENCE whose content passes 127 bytes', () => {
    const items = Array.from({ length: 40 }, (_, i) => encodeInteger(i * 1000));
    const encoded = encodeSequence(items);
    expect(encoded[1]).toBe(0x81);
    const children = readChildren(readSingle(encoded, BerTag.SEQUENCE, 'test'));
    expect(children.map((c) => decodeInteger(c))).toEqual(items.map((_, i) => i * 1000));
  });

  it('refuses the indefinite form, over-long lengths and truncated content', () => {
    expect(() => readTlv(Buffer.from('3080020100', 'hex'))).toThrow(/indefinite/);
    expect(() => readTlv(Buffer.from('0485000000000100', 'hex'))).toThrow(/too long/);
    expect(() => readTlv(Buffer.from('040568656c', 'hex'))).toThrow(/past the end/);
    expect(() => readTlv(Buffer.from('0482', 'hex'))).toThrow(/past the end/);
    expect(() => readTlv(Buffer.alloc(0))).toThrow(/end of the data/);
  });

  it('refuses trailing bytes after a whole message', () => {
    expect(() => readSingle(Buffer.from('30030201010000', 'hex'), BerTag.SEQUENCE, 'message')).toThrow(/trailing/);
  });
});

describe('ber codec: OBJECT IDENTIFIER', () => {
  it.each([
    // sysDescr.0
    ['1.3.6.1.2.1.1.1.0', '06082b06010201010100'],
    // sPDUOutletCtl.3: arc 318 is two bytes, 0x82 0x3e
    ['1.3.6.1.4.1.318.1.1.4.4.2.1.3.3', '060f2b06010401823e0101040402010303'],
    // a large arc: 2^32-1 takes five bytes
    ['1.3.6.1.4.1.4294967295', '060a2b06010401' + '8fffffff7f'],
    // first sub-identifier above 127 (2.999 -> 1079)
    ['2.999.3', '0603883703'],
    ['0.0', '060100'],
  ])('encodes %s as %s and decodes it back', (oid, expected) => {
    const encoded = encodeOid(oid);
    expect(hex(encoded)).toBe(expected);
    expect(decodeOid(readTlv(encoded))).toBe(oid);
  });

  it('accepts a leading dot', () => {
    expect(decodeOid(readTlv(encodeOid('.1.3.6.1')))).toBe('1.3.6.1');
  });

  it.each([
    ['1', /two arcs/],
    ['3.1', /first arc/],
    ['1.40', /below 40/],
    ['1.3.x', /integer/],
    ['1.3.4294967296', /integer from 0 to 4294967295/],
    ['1.3..6', /integer/],
  ])('refuses to encode %s', (oid, message) => {
    expect(() => encodeOid(oid)).toThrow(message);
  });

  it('refuses malformed encodings', () => {
    expect(() => decodeOid(readTlv(Buffer.from('0600', 'hex')))).toThrow(/no content/);
    expect(() => decodeOid(readTlv(Buffer.from('06022b82', 'hex')))).toThrow(/ends inside/);
    expect(() => decodeOid(readTlv(Buffer.from('06032b8001', 'hex')))).toThrow(/leading 0x80/);
    expect(() => decodeOid(readTlv(Buffer.from('06062b9080808000', 'hex')))).toThrow(/2\^32-1/);
  });
});

describe('ber codec: NULL, OCTET STRING and nesting', () => {
  it('encodes NULL and the v2c exceptions as empty elements', () => {
    expect(hex(encodeNull())).toBe('0500');
    expect(hex(encodeNull(BerTag.NO_SUCH_INSTANCE))).toBe('8100');
  });

  it('round-trips binary OCTET STRING content unchanged', () => {
    const bytes = Buffer.from([0x00, 0xff, 0x80, 0x7f]);
    expect(readTlv(encodeOctetString(bytes)).content.equals(bytes)).toBe(true);
  });

  it('reports the offset of an error inside nested elements', () => {
    const bad = Buffer.concat([Buffer.from('3004', 'hex'), Buffer.from('0202', 'hex'), Buffer.from('01', 'hex'), Buffer.from('00', 'hex')]);
    // SEQUENCE { INTEGER with length 2 but only... } — the inner length fits, so decode it and check content offsets
    const [child] = readChildren(readTlv(bad));
    expect(child.offset).toBe(2);
    expect(child.contentOffset).toBe(4);
    const broken = Buffer.from('3003020501', 'hex');
    expect(() => readChildren(readTlv(broken))).toThrow(/at byte 2/);
  });
});
