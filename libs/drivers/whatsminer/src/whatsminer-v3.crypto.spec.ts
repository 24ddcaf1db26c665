import { decryptV3Param, encryptV3Param, v3Signature } from './whatsminer-v3.crypto';
import { FrameReader, encodeFrame } from './whatsminer-v3.framing';

// Expected values computed outside this code: python3 hashlib/base64 for the token, `openssl enc -aes-256-ecb -nopad`
// over the NUL-padded text for the parameter.
const DIGEST_HEX = '4da0746c276c5a4a8b3bcbaa5134a32e4e2d23c1dfecfc012e3a27e5de18e355';
const POOLS = '[{"pool":"stratum+tcp://a.example:3333","worker":"w.1","passwd":"x"}]';
const POOLS_ENCRYPTED = '7rRvhPg1/ZuIrjN9wlff6d7/1krx8WlqVpn8m/YWLt0ZmOWqx6ckLhntcxgLcDD7oZWO9PiAz+tH/s+2npz5qpH0y2HEJNM8UApTNcdMW7M=';

describe('whatsminer v3 crypto', () => {
  it('token is the first 8 base64 characters of sha256(cmd + password + salt + ts); the digest is the AES key', () => {
    const sig = v3Signature('set.miner.power_limit', 'super', 'uhCiDyVj', 1773869570);
    expect(sig.token).toBe('TaB0bCds');
    expect(sig.aesKey.toString('hex')).toBe(DIGEST_HEX);
  });

  it('a parameter is AES-256-ECB over the NUL-padded JSON, base64', () => {
    const key = Buffer.from(DIGEST_HEX, 'hex');
    expect(encryptV3Param(key, POOLS)).toBe(POOLS_ENCRYPTED);
    expect(decryptV3Param(key, POOLS_ENCRYPTED)).toBe(POOLS);
  });

  it('a text of exactly 16 bytes takes one block, with no padding block added', () => {
    const key = Buffer.alloc(32, 7);
    expect(Buffer.from(encryptV3Param(key, '0123456789abcdef'), 'base64')).toHaveLength(16);
  });
});

describe('whatsminer v3 framing', () => {
  it('prefixes the UTF-8 JSON with its byte length as 4 little-endian bytes', () => {
    const frame = encodeFrame({ cmd: 'get.device.info', param: 'é' });
    const json = '{"cmd":"get.device.info","param":"é"}';
    expect(frame.subarray(0, 4)).toEqual(Buffer.from([Buffer.byteLength(json), 0, 0, 0]));
    expect(frame.subarray(4).toString('utf8')).toBe(json);
  });

  it('reads a frame that arrives one byte at a time, and keeps what follows it', () => {
    const frame = Buffer.concat([encodeFrame({ code: 0 }), Buffer.from([9])]);
    const reader = new FrameReader();
    let last = reader.progress();
    for (const byte of frame) last = reader.push(Buffer.from([byte]));
    expect(last).toEqual({ state: 'complete', body: Buffer.from('{"code":0}'), rest: Buffer.from([9]) });
  });

  it('refuses a length prefix beyond the limit instead of waiting for it', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32LE(5000, 0);
    expect(new FrameReader(4096).push(header)).toEqual({ state: 'too-large', want: 5000 });
  });
});
