import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { KeyRing } from './key-ring';
import { CommandSigner } from './envelope.signer';
import { EnvelopeVerifier } from './envelope.verifier';
import { unwrapKey, wrapKey, type WrappedKey } from './key-wrap';
import { MemoryNonceStore } from './memory-nonce.store';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';
import { DAY, RIG, T0, draft, rigKey, ringWith } from './testing/envelope-fixtures';

const K1 = rigKey('k1');
const K2 = { id: 'k2', secret: SecretBytes.generate(), created: T0, notBefore: T0, expires: T0 + 90 * DAY };

function expectUnwrapFails(wrapped: WrappedKey, rigId = RIG, keys = ringWith(K1), now = T0): void {
  let error: unknown;
  try {
    unwrapKey(wrapped, keys, rigId, now);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(SecurityError);
  expect(error).toMatchObject({ code: 'key_unwrap_failed' });
  expect(inspect(error)).not.toContain(K2.secret.exposeBase64url());
}

describe('key-wrap', () => {
  it('key-wrap: a new key wrapped under k1 unwraps on the rig and verifies commands signed with it', () => {
    const wrapped = wrapKey(K2, K1, RIG);
    const agent = ringWith(K1);
    const key = unwrapKey(JSON.parse(JSON.stringify(wrapped)) as WrappedKey, agent, RIG, T0);
    expect(key).toMatchObject({ id: 'k2', created: T0, notBefore: T0, expires: T0 + 90 * DAY });
    expect(key.secret.expose().equals(K2.secret.expose())).toBe(true);
    agent.add(RIG, key);
    const controller = ringWith(K1, K2);
    const envelope = new CommandSigner(controller).sign(draft(), T0 + 1);
    expect(new EnvelopeVerifier({ keys: agent, nonces: new MemoryNonceStore() }).verify(envelope, RIG, T0 + 1)).toMatchObject({ ok: true, keyId: 'k2' });
  });

  it('key-wrap: the wrapped form never contains the secret, and two wraps differ', () => {
    const a = wrapKey(K2, K1, RIG);
    const b = wrapKey(K2, K1, RIG);
    for (const secret of [K2.secret.exposeBase64url(), K2.secret.expose().toString('hex'), K2.secret.expose().toString('base64')]) {
      expect(JSON.stringify(a)).not.toContain(secret);
    }
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it.each<[string, (w: WrappedKey) => WrappedKey]>([
    ['a flipped ciphertext bit', (w) => ({ ...w, ciphertext: flip(w.ciphertext) })],
    ['a changed tag', (w) => ({ ...w, tag: flip(w.tag) })],
    ['a changed salt', (w) => ({ ...w, salt: flip(w.salt) })],
    ['a relabelled key id', (w) => ({ ...w, keyId: 'k3' })],
    ['an unknown wrapping key', (w) => ({ ...w, wrappingKeyId: 'k9' })],
    ['another version', (w) => ({ ...w, v: 2 as never })],
  ])('key-wrap: %s fails to unwrap', (_name, change) => {
    expectUnwrapFails(change(wrapKey(K2, K1, RIG)));
  });

  it('key-wrap: a key wrapped for one rig does not unwrap on another, even with the same wrapping secret', () => {
    const wrapped = wrapKey(K2, K1, RIG);
    const other = ringWith();
    other.add('rig-8', K1);
    expectUnwrapFails(wrapped, 'rig-8', other);
  });

  it('key-wrap: unwraps the vector wrapped by an independent Python implementation (testdata/key-wrap-v1)', () => {
    const vector = JSON.parse(readFileSync(join(__dirname, '..', 'testdata', 'key-wrap-v1', 'vectors.json'), 'utf8')) as {
      rigId: string; wrappingKey: { id: string; secretHex: string };
      expected: { id: string; secretHex: string; created: number; notBefore: number; expires: number }; wrapped: WrappedKey;
    };
    const ring = new KeyRing();
    ring.add(vector.rigId, { id: vector.wrappingKey.id, secret: SecretBytes.from(Buffer.from(vector.wrappingKey.secretHex, 'hex')), created: 0, notBefore: 0, expires: 8.64e15 });
    const key = unwrapKey(vector.wrapped, ring, vector.rigId, vector.expected.created);
    expect({ ...key, secret: key.secret.expose().toString('hex') }).toEqual({
      id: vector.expected.id, secret: vector.expected.secretHex, created: vector.expected.created, notBefore: vector.expected.notBefore, expires: vector.expected.expires,
    });
  });

  it('key-wrap: a retired wrapping key cannot unwrap', () => {
    expectUnwrapFails(wrapKey(K2, K1, RIG), RIG, ringWith(rigKey('k1', { retired: true })));
  });
});

function flip(base64url: string): string {
  const bytes = Buffer.from(base64url, 'base64url');
  bytes[0] = (bytes[0] as number) ^ 1;
  return bytes.toString('base64url');
}
