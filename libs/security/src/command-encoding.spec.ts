import { CommandEnvelope } from '@rigwarden/protocol';
import { COMMAND_ENCODING_TAG, encodeForSigning, type SignedFields } from './command-encoding';
import { computeSignature } from './envelope.signer';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';
import { randomEnvelope } from './testing/envelope-fixtures';
import { SeededRandom, shuffleKeys } from './testing/seeded-random';

/** The test vector in the README: anyone reimplementing v1 (another language, a hardware agent) checks against it. */
const VECTOR: SignedFields = {
  commandId: 'cmd-1', rigId: 'rig-7', minerId: 'm1', payload: { $case: 'switchPool', value: { poolIndex: 1 } },
  nonce: 'AAAAAAAAAAAAAAAAAAAAAA', issuedAt: new Date('2026-11-22T06:00:00.000Z'), expiresAt: new Date('2026-11-22T06:00:30.000Z'), keyId: 'k1',
};
const VECTOR_HEX =
  '0000001d72696777617264656e2f636f6d6d616e642d656e76656c6f70652f7631' + // tag
  '00000005636d642d31' + '000000057269672d37' + '000000026d31' + // commandId, rigId, minerId
  '0000000a737769746368506f6f6c' + '0000000f7b22706f6f6c496e646578223a317d' + // type, payload
  '0000001641414141414141414141414141414141414141414141' + // nonce
  '0000000d31373935333237323030303030' + '0000000d31373935333237323330303030' + // issuedAt, expiresAt
  '000000026b31'; // keyId
const VECTOR_HMAC = '3da8148993c49bffcdeaa112826758e1d16b043cd36a6cf99e8de36cb24b863e'; // key: 32 bytes of 0x2a

const SIGNED_FIELD_CHANGES: Array<[string, (e: CommandEnvelope, r: SeededRandom) => CommandEnvelope]> = [
  ['commandId', (e, r) => ({ ...e, commandId: `${e.commandId}${r.string(1)}` })],
  ['rigId', (e, r) => ({ ...e, rigId: `${r.string(1)}${e.rigId}` })],
  ['minerId', (e) => ({ ...e, minerId: `${e.minerId}x` })],
  ['nonce', (e) => ({ ...e, nonce: `${e.nonce.slice(1)}${e.nonce[0] === 'Z' ? 'Y' : 'Z'}` })],
  ['issuedAt', (e, r) => ({ ...e, issuedAt: new Date((e.issuedAt as Date).getTime() + r.pick([-1, 1, 1000])) })],
  ['expiresAt', (e) => ({ ...e, expiresAt: new Date((e.expiresAt as Date).getTime() + 1) })],
  ['keyId', (e) => ({ ...e, keyId: `${e.keyId}2` })],
  ['command type', (e) => ({ ...e, payload: e.payload?.$case === 'rebootHost' ? { $case: 'powerCycle', value: {} } : { $case: 'rebootHost', value: {} } })],
  ['payload value', (e) => ({ ...e, payload: e.payload?.$case === 'applyProfile'
    ? { $case: 'applyProfile', value: { profile: `${e.payload.value.profile}!` } }
    : { $case: 'applyProfile', value: { profile: 'eco' } } })],
  ['a field moved between neighbours', (e) => ({ ...e, commandId: `${e.commandId}${e.rigId[0]}`, rigId: e.rigId.slice(1) || 'r' })],
];

describe('command-encoding', () => {
  it('command-encoding: v1 test vector (bytes and HMAC, checked against an independent Python implementation)', () => {
    expect(encodeForSigning(VECTOR).toString('hex')).toBe(VECTOR_HEX);
    expect(computeSignature(VECTOR, SecretBytes.from(Buffer.alloc(32, 0x2a))).toString('hex')).toBe(VECTOR_HMAC);
  });

  it('command-encoding: starts with the versioned tag', () => {
    const bytes = encodeForSigning(VECTOR);
    expect(bytes.readUInt32BE(0)).toBe(COMMAND_ENCODING_TAG.length);
    expect(bytes.subarray(4, 4 + COMMAND_ENCODING_TAG.length).toString()).toBe('rigwarden/command-envelope/v1');
  });

  it('command-encoding: 300 random envelopes encode the same after a wire round trip with shuffled keys and whitespace (seed 42)', () => {
    const random = new SeededRandom(42);
    for (let i = 0; i < 300; i++) {
      const envelope = randomEnvelope(random);
      const wire = JSON.stringify(shuffleKeys(CommandEnvelope.toJSON(envelope), random), null, random.pick([0, 1, 2, '\t']));
      const received = CommandEnvelope.fromJSON(JSON.parse(wire));
      expect(encodeForSigning(received).equals(encodeForSigning(envelope))).toBe(true);
    }
  });

  it('command-encoding: a payload built with keys in any order encodes the same', () => {
    const a: SignedFields = { ...VECTOR, payload: { $case: 'setPools', value: { pools: [{ url: 'u', user: 'w', password: 'p' }] } } };
    const b: SignedFields = { ...VECTOR, payload: { value: { pools: [{ password: 'p', user: 'w', url: 'u' }] }, $case: 'setPools' } };
    expect(encodeForSigning(b).equals(encodeForSigning(a))).toBe(true);
  });

  it.each(SIGNED_FIELD_CHANGES)('command-encoding: changing %s changes the bytes, for 200 random envelopes (seed 1234)', (_field, change) => {
    const random = new SeededRandom(1234);
    for (let i = 0; i < 200; i++) {
      const envelope = randomEnvelope(random);
      const changed = change(envelope, random);
      expect(encodeForSigning(changed).equals(encodeForSigning(envelope))).toBe(false);
    }
  });

  it('command-encoding: 3,000 random envelopes give 3,000 different encodings (seed 3)', () => {
    const random = new SeededRandom(3);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) seen.add(encodeForSigning(randomEnvelope(random)).toString('hex'));
    expect(seen.size).toBe(3000);
  });

  it('command-encoding: reason and signature are not signed', () => {
    const bytes = encodeForSigning(VECTOR);
    const other = { ...VECTOR, reason: 'anything', signature: Buffer.alloc(32, 1) };
    expect(encodeForSigning(other).equals(bytes)).toBe(true);
  });

  it('command-encoding: pool order is signed (the first pool is preferred)', () => {
    const pools = [{ url: 'a', user: 'u', password: '' }, { url: 'b', user: 'u', password: '' }];
    const forward: SignedFields = { ...VECTOR, payload: { $case: 'setPools', value: { pools } } };
    const reversed: SignedFields = { ...VECTOR, payload: { $case: 'setPools', value: { pools: [...pools].reverse() } } };
    expect(encodeForSigning(reversed).equals(encodeForSigning(forward))).toBe(false);
  });

  it.each<[string, Partial<SignedFields>, string]>([
    ['no payload', { payload: undefined }, 'payload'],
    ['an unknown command type', { payload: { $case: 'selfDestruct', value: {} } as never }, 'payload'],
    ['no issuedAt', { issuedAt: undefined }, 'issuedAt'],
    ['an invalid expiresAt', { expiresAt: new Date('nope') }, 'expiresAt'],
    ['a lone surrogate in commandId (it would encode like U+FFFD)', { commandId: 'a\uD800' }, 'commandId'],
    ['a lone surrogate in the payload', { payload: { $case: 'applyProfile', value: { profile: '\uDFFF' } } }, 'payload'],
  ])('command-encoding: %s is unsignable', (_name, change, field) => {
    const attempt = () => encodeForSigning({ ...VECTOR, ...change });
    expect(attempt).toThrow(SecurityError);
    try {
      attempt();
    } catch (err) {
      expect((err as SecurityError).code).toBe('unsignable_envelope');
      expect((err as SecurityError).context['field']).toBe(field);
    }
  });
});
