import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCommandEnvelope } from '@rigwarden/protocol';
import { encodeForSigning } from './command-encoding';
import { computeSignature } from './envelope.signer';
import { EnvelopeVerifier } from './envelope.verifier';
import { KeyRing } from './key-ring';
import { MemoryNonceStore } from './memory-nonce.store';
import { SecretBytes } from './secret-bytes';

interface Vector {
  name: string;
  keyHex: string;
  wire: Record<string, unknown>;
  canonicalHex: string;
  hmacHex: string;
}

/** Written by testdata/command-envelope-v1/generate.py, an independent Python implementation of encoding v1. */
const { encoding, vectors } = JSON.parse(
  readFileSync(join(__dirname, '..', 'testdata', 'command-envelope-v1', 'vectors.json'), 'utf8'),
) as { encoding: string; vectors: Vector[] };

describe('command-vectors', () => {
  it('command-vectors: the file is for encoding v1 and has vectors', () => {
    expect(encoding).toBe('rigwarden/command-envelope/v1');
    expect(vectors.length).toBeGreaterThanOrEqual(7);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('command-vectors: %s: same bytes, same HMAC, and it verifies', (_name, v) => {
    const envelope = decodeCommandEnvelope(JSON.stringify(v.wire));
    const secret = SecretBytes.from(Buffer.from(v.keyHex, 'hex'));
    expect(encodeForSigning(envelope).toString('hex')).toBe(v.canonicalHex);
    expect(computeSignature(envelope, secret).toString('hex')).toBe(v.hmacHex);

    const keys = new KeyRing();
    keys.add(envelope.rigId, { id: envelope.keyId, secret, created: 0, notBefore: 0, expires: 8_640_000_000_000_000 });
    const signed = decodeCommandEnvelope(JSON.stringify({ ...v.wire, signature: Buffer.from(v.hmacHex, 'hex').toString('base64') }));
    const now = (signed.issuedAt as Date).getTime();
    expect(new EnvelopeVerifier({ keys, nonces: new MemoryNonceStore() }).verify(signed, envelope.rigId, now)).toMatchObject({ ok: true });
  });
});
