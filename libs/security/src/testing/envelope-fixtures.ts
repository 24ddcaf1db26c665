import type { CommandEnvelope } from '@rigwarden/protocol';
import { computeSignature, type CommandDraft } from '../envelope.signer';
import { KeyRing, type SigningKey } from '../key-ring';
import { SecretBytes } from '../secret-bytes';
import { SeededRandom } from './seeded-random';

/** The fixed clock every security test starts from: 2026-11-22T06:00:00Z. */
export const T0 = Date.parse('2026-11-22T06:00:00.000Z');
export const DAY = 86_400_000;
export const RIG = 'rig-7';

/** A deterministic secret, recognisable in a hex dump: 32 bytes of `fill`. */
export function fixedSecret(fill: number): SecretBytes {
  return SecretBytes.from(Buffer.alloc(32, fill));
}

export function rigKey(id: string, overrides: Partial<SigningKey> = {}): SigningKey {
  return { id, secret: fixedSecret(id.length + id.charCodeAt(id.length - 1)), created: T0 - DAY, notBefore: T0 - DAY, expires: T0 + 30 * DAY, ...overrides };
}

/** A ring holding `k1` for RIG. */
export function ringWith(...keys: SigningKey[]): KeyRing {
  const ring = new KeyRing();
  for (const key of keys.length ? keys : [rigKey('k1')]) ring.add(RIG, key);
  return ring;
}

export function draft(overrides: Partial<CommandDraft> = {}): CommandDraft {
  return {
    commandId: 'cmd-1',
    rigId: RIG,
    minerId: 'antminer-s19-01',
    payload: { $case: 'setPools', value: { pools: [
      { url: 'stratum+tcp://a.pool.example:3333', user: 'farm.rig7', password: 'x' },
      { url: 'stratum+tcp://b.pool.example:3333', user: 'farm.rig7', password: 'x' },
    ] } },
    reason: 'operator: move to pool A',
    ...overrides,
  };
}

let counter = 0;

/** An envelope signed with `key` (not the ring's choice), every field settable, nonce unique per call. */
export function signedWith(key: SigningKey, overrides: Partial<CommandEnvelope> = {}): CommandEnvelope {
  counter += 1;
  const unsigned: CommandEnvelope = {
    ...draft(),
    nonce: `nonce-${String(counter).padStart(12, '0')}`,
    issuedAt: new Date(T0),
    expiresAt: new Date(T0 + 30_000),
    keyId: key.id,
    signature: Buffer.alloc(0),
    leaseEpoch: 0,
    ...overrides,
  };
  return { ...unsigned, signature: overrides.signature ?? computeSignature(unsigned, key.secret) };
}

const PAYLOADS = ['setPools', 'switchPool', 'applyProfile', 'restartMiner', 'rebootHost', 'powerCycle'] as const;

/** A random but valid unsigned envelope, for property-style tests. */
export function randomEnvelope(random: SeededRandom): CommandEnvelope {
  const type = random.pick(PAYLOADS);
  const text = (min: number, max: number) => random.string(random.int(min, max));
  let payload: CommandEnvelope['payload'];
  switch (type) {
    case 'setPools':
      payload = { $case: type, value: { pools: Array.from({ length: random.int(1, 4) }, () => ({
        url: `stratum+tcp://${text(1, 12)}.example:${random.int(1, 65535)}`, user: text(1, 20), password: text(1, 8),
      })) } };
      break;
    case 'switchPool': payload = { $case: type, value: { poolIndex: random.int(1, 9) } }; break;
    case 'applyProfile': payload = { $case: type, value: { profile: `${text(1, 10)} ✓ ü` } }; break;
    case 'restartMiner': payload = { $case: type, value: {} }; break;
    case 'rebootHost': payload = { $case: type, value: {} }; break;
    case 'powerCycle': payload = { $case: type, value: {} }; break;
  }
  const issuedAt = T0 + random.int(-1e9, 1e9);
  return {
    commandId: text(1, 36), rigId: text(1, 20), minerId: text(1, 20), payload,
    nonce: random.string(22), issuedAt: new Date(issuedAt), expiresAt: new Date(issuedAt + random.int(1, 120_000)),
    keyId: text(1, 16), signature: Buffer.alloc(0), reason: text(0, 30), leaseEpoch: 0,
  };
}

export { SeededRandom };
