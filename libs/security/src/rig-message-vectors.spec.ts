import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCommandResult, decodeRigEvent } from '@rigwarden/protocol';
import { KeyRing } from './key-ring';
import { encodeEventForSigning, encodeResultForSigning } from './rig-message-encoding';
import { RigMessageSigner, checkRigMessageSignature, type RigMessage } from './rig-message.signer';
import { SecretBytes } from './secret-bytes';

interface Vector {
  name: string;
  kind: 'result' | 'event';
  keyHex: string;
  wire: Record<string, unknown>;
  canonicalHex: string;
  hmacHex: string;
}

/** Written by testdata/rig-message-v1/generate.py, an independent Python implementation of both encodings. */
const { encodings, vectors } = JSON.parse(
  readFileSync(join(__dirname, '..', 'testdata', 'rig-message-v1', 'vectors.json'), 'utf8'),
) as { encodings: string[]; vectors: Vector[] };

function decode(v: Vector, extra: Record<string, unknown> = {}): RigMessage {
  const text = JSON.stringify({ ...v.wire, ...extra });
  return v.kind === 'result' ? { type: 'result', message: decodeCommandResult(text) } : { type: 'event', message: decodeRigEvent(text) };
}

describe('rig-message-vectors', () => {
  it('rig-message-vectors: the file is for result v1 and event v1 and has vectors of both', () => {
    expect(encodings).toEqual(['rigwarden/command-result/v1', 'rigwarden/rig-event/v1']);
    expect(vectors.filter((v) => v.kind === 'result').length).toBeGreaterThanOrEqual(4);
    expect(vectors.filter((v) => v.kind === 'event').length).toBeGreaterThanOrEqual(2);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('rig-message-vectors: %s: same bytes, same HMAC as the agent signs, and it verifies', (_name, v) => {
    const received = decode(v);
    const encoded = received.type === 'result' ? encodeResultForSigning(received.message) : encodeEventForSigning(received.message);
    expect(encoded.toString('hex')).toBe(v.canonicalHex);

    const keys = new KeyRing();
    const keyId = received.message.keyId;
    keys.add(received.message.rigId, { id: keyId, secret: SecretBytes.from(Buffer.from(v.keyHex, 'hex')), created: 0, notBefore: 0, expires: 8_640_000_000_000_000 });
    const now = Date.parse('2026-11-22T06:00:00Z');
    const signer = new RigMessageSigner(() => keys);
    const signed = received.type === 'result' ? signer.signResult(received.message, now) : signer.signEvent(received.message, now);
    expect(Buffer.from(signed.signature).toString('hex')).toBe(v.hmacHex);

    const onWire = decode(v, { signature: Buffer.from(v.hmacHex, 'hex').toString('base64') });
    expect(checkRigMessageSignature(onWire, keys, now)).toEqual({ ok: true, keyId });
  });
});
