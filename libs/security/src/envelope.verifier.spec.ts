import { CommandEnvelope, encodeJson, decodeCommandEnvelope } from '@rigwarden/protocol';
import { CommandSigner } from './envelope.signer';
import { EnvelopeVerifier, REJECTION_REASONS, type RejectionReason } from './envelope.verifier';
import { KeyRing } from './key-ring';
import { MemoryNonceStore } from './memory-nonce.store';
import { DAY, RIG, T0, draft, randomEnvelope, rigKey, ringWith, signedWith } from './testing/envelope-fixtures';
import { SeededRandom } from './testing/seeded-random';

const K1 = rigKey('k1');

function verifier(keys: KeyRing = ringWith(K1), options: { windowMs?: number; capacity?: number } = {}) {
  return new EnvelopeVerifier({ keys, nonces: new MemoryNonceStore({ capacity: options.capacity ?? 1000 }), windowMs: options.windowMs });
}

/** Round trip through the MQTT wire format, as the agent receives it. */
function overTheWire(envelope: CommandEnvelope): CommandEnvelope {
  return decodeCommandEnvelope(encodeJson(CommandEnvelope, envelope));
}

type Case = [name: string, envelope: () => CommandEnvelope, now: number, reason: RejectionReason, keys?: () => KeyRing];

const REJECTIONS: Case[] = [
  ['no command id', () => signedWith(K1, { commandId: '' }), T0, 'malformed'],
  ['no nonce', () => signedWith(K1, { nonce: '' }), T0, 'malformed'],
  ['a short nonce (under 96 bits)', () => signedWith(K1, { nonce: 'abc' }), T0, 'malformed'],
  ['no payload', () => ({ ...signedWith(K1), payload: undefined }), T0, 'malformed'],
  ['no issuedAt', () => ({ ...signedWith(K1), issuedAt: undefined }), T0, 'malformed'],
  ['no expiresAt', () => ({ ...signedWith(K1), expiresAt: undefined }), T0, 'malformed'],
  ['expiresAt before issuedAt', () => signedWith(K1, { expiresAt: new Date(T0 - 1) }), T0, 'malformed'],
  ['no key id', () => signedWith(K1, { keyId: '' }), T0, 'malformed'],
  ['no signature', () => ({ ...signedWith(K1), signature: Buffer.alloc(0) }), T0, 'malformed'],
  ['no miner id on a miner command', () => signedWith(K1, { minerId: '' }), T0, 'malformed'],
  ['a command for another rig', () => signedWith(K1, { rigId: 'rig-8' }), T0, 'wrong_rig'],
  ['an unknown key id', () => signedWith(rigKey('k9')), T0, 'unknown_key'],
  ['a retired key', () => signedWith(K1), T0, 'retired_key', () => ringWith(rigKey('k1', { retired: true }))],
  ['a key not valid yet', () => signedWith(K1), T0, 'key_not_yet_valid', () => ringWith(rigKey('k1', { notBefore: T0 + 1 }))],
  ['an expired key', () => signedWith(K1), T0, 'key_expired', () => ringWith(rigKey('k1', { expires: T0 }))],
  ['a flipped signature bit', () => { const e = signedWith(K1); e.signature[5] = (e.signature[5] as number) ^ 1; return e; }, T0, 'bad_signature'],
  ['a truncated signature', () => { const e = signedWith(K1); return { ...e, signature: e.signature.subarray(0, 31) }; }, T0, 'bad_signature'],
  ['issuedAt 30.001 s ahead', () => signedWith(K1, { issuedAt: new Date(T0 + 30_001), expiresAt: new Date(T0 + 60_000) }), T0, 'issued_in_future'],
  ['issuedAt 30.001 s ago', () => signedWith(K1, { issuedAt: new Date(T0 - 30_001), expiresAt: new Date(T0 + 60_000) }), T0, 'too_old'],
  ['expiresAt == now', () => signedWith(K1, { issuedAt: new Date(T0 - 10_000), expiresAt: new Date(T0) }), T0, 'expired'],
];

describe('envelope-verifier', () => {
  it.each(REJECTIONS)('envelope-verifier: %s is rejected', (_name, envelope, now, reason, keys) => {
    const result = verifier(keys?.()).verify(envelope(), RIG, now);
    const authenticated = ['issued_in_future', 'too_old', 'expired'].includes(reason);
    expect(result).toMatchObject({ ok: false, reason, authenticated });
    expect(result.ok === false && result.detail.length > 0).toBe(true);
  });

  it('envelope-verifier: a replayed nonce is rejected', () => {
    const v = verifier();
    const envelope = signedWith(K1);
    expect(v.verify(envelope, RIG, T0).ok).toBe(true);
    expect(v.verify(envelope, RIG, T0 + 1)).toMatchObject({ ok: false, reason: 'replayed_nonce', commandId: 'cmd-1', keyId: 'k1', authenticated: true });
  });

  it('envelope-verifier: the table covers every rejection reason', () => {
    const covered = new Set([...REJECTIONS.map((c) => c[3]), 'replayed_nonce']);
    expect([...covered].sort()).toEqual([...REJECTION_REASONS].sort());
  });

  it.each([
    ['issued exactly 30 s ahead', T0 + 30_000, T0 + 40_000],
    ['issued exactly 30 s ago', T0 - 30_000, T0 + 1],
    ['a rig-level command without a miner id', T0, T0 + 30_000],
  ])('envelope-verifier: %s is accepted', (name, issuedAt, expiresAt) => {
    const overrides = name.includes('rig-level') ? { minerId: '', payload: { $case: 'rebootHost' as const, value: {} } } : {};
    const result = verifier().verify(signedWith(K1, { ...overrides, issuedAt: new Date(issuedAt), expiresAt: new Date(expiresAt) }), RIG, T0);
    expect(result).toMatchObject({ ok: true, keyId: 'k1' });
  });

  it('envelope-verifier: a signed command survives the MQTT JSON round trip and is accepted', () => {
    const signer = new CommandSigner(ringWith(K1));
    const result = verifier().verify(overTheWire(signer.sign(draft(), T0)), RIG, T0 + 250);
    expect(result).toMatchObject({ ok: true, commandType: 'setPools', keyId: 'k1' });
  });

  it('envelope-verifier: 1,000 replays of one accepted command over the wire are all rejected as replayed_nonce', () => {
    const v = verifier();
    const wire = encodeJson(CommandEnvelope, new CommandSigner(ringWith(K1)).sign(draft(), T0));
    expect(v.verify(decodeCommandEnvelope(wire), RIG, T0).ok).toBe(true);
    const reasons = Array.from({ length: 1000 }, (_, i) => v.verify(decodeCommandEnvelope(wire), RIG, T0 + i * 25));
    expect(reasons.filter((r) => r.ok)).toHaveLength(0);
    expect(new Set(reasons.map((r) => !r.ok && r.reason))).toEqual(new Set(['replayed_nonce']));
  });

  it('envelope-verifier: a replay is refused at every instant of the next 2 minutes, by nonce or by age', () => {
    const v = verifier();
    const envelope = signedWith(K1, { issuedAt: new Date(T0), expiresAt: new Date(T0 + 60_000) });
    expect(v.verify(envelope, RIG, T0 - 29_000).ok).toBe(true);
    for (let t = T0 - 29_000; t <= T0 + 120_000; t += 500) {
      expect(v.verify(envelope, RIG, t).ok).toBe(false);
    }
  });

  it('envelope-verifier: forgeries are bad_signature: tampered pool, another rig\'s key, a key id swapped to a known key', () => {
    const v = verifier(ringWith(K1, rigKey('k2')));
    const genuine = new CommandSigner(ringWith(K1)).sign(draft(), T0);
    const tampered: CommandEnvelope = {
      ...genuine, payload: { $case: 'setPools', value: { pools: [{ url: 'stratum+tcp://evil.example:3333', user: 'thief', password: 'x' }] } },
    };
    const otherRigKey = new KeyRing();
    otherRigKey.add(RIG, { ...rigKey('k1'), secret: rigKey('zz').secret });
    const wrongSecret = new CommandSigner(otherRigKey).sign(draft({ commandId: 'cmd-2' }), T0);
    const swappedKeyId = { ...signedWith(K1, { commandId: 'cmd-3' }), keyId: 'k2' };
    for (const forged of [tampered, wrongSecret, swappedKeyId]) {
      expect(v.verify(forged, RIG, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
    }
  });

  it('envelope-verifier: 1,000 random tamperings of genuine commands are all refused (seed 2024)', () => {
    const random = new SeededRandom(2024);
    const keys = ringWith(K1);
    const tamper: Array<(e: CommandEnvelope) => CommandEnvelope> = [
      (e) => ({ ...e, commandId: `${e.commandId}x` }),
      (e) => ({ ...e, minerId: random.string(8) }),
      (e) => ({ ...e, nonce: random.string(22) }),
      (e) => ({ ...e, issuedAt: new Date((e.issuedAt as Date).getTime() - random.int(1, 5_000)) }),
      (e) => ({ ...e, expiresAt: new Date((e.expiresAt as Date).getTime() + random.int(1, 60_000)) }),
      (e) => ({ ...e, payload: randomEnvelope(random).payload }),
      (e) => { const sig = Buffer.from(e.signature); sig[random.int(0, 31)] ^= 1 << random.int(0, 7); return { ...e, signature: sig }; },
      (e) => ({ ...e, signature: Buffer.from(Array.from({ length: 32 }, () => random.int(0, 255))) }),
    ];
    for (let i = 0; i < 1000; i++) {
      const v = verifier(keys);
      const genuine = new CommandSigner(keys).sign({ ...draft({ commandId: `c${i}` }), payload: randomEnvelope(random).payload, minerId: 'm1' }, T0);
      const forged = random.pick(tamper)(genuine);
      if (encodeJson(CommandEnvelope, forged).equals(encodeJson(CommandEnvelope, genuine))) continue; // a no-op change
      const verdict = v.verify(overTheWire(forged), RIG, T0);
      expect(verdict.ok).toBe(false);
      expect(['bad_signature', 'malformed']).toContain(!verdict.ok && verdict.reason); // malformed: e.g. a nonce with a '.'
      expect(v.verify(overTheWire(genuine), RIG, T0).ok).toBe(true);
    }
  });

  it('envelope-verifier: a forgery does not burn the nonce of the genuine command', () => {
    const v = verifier();
    const genuine = signedWith(K1);
    const forged = { ...genuine, minerId: 'other-miner' };
    expect(v.verify(forged, RIG, T0)).toMatchObject({ reason: 'bad_signature' });
    expect(v.verify(genuine, RIG, T0).ok).toBe(true);
  });

  it('envelope-verifier: rotation: old and new keys both verify during the overlap, the old one is rejected after retirement', () => {
    const controller = ringWith(K1);
    const agent = ringWith(K1);
    const v = verifier(agent);
    const signer = new CommandSigner(controller);
    let n = 0;
    const send = (now: number) => v.verify(overTheWire(signer.sign(draft({ commandId: `cmd-${++n}` }), now)), RIG, now);

    expect(send(T0)).toMatchObject({ ok: true, keyId: 'k1' });
    // Step 1: the agent receives k2 (over the authenticated channel) and confirms; then the controller adds it.
    const k2 = rigKey('k2', { created: T0 + 1_000, notBefore: T0 + 1_000, expires: T0 + 60 * DAY });
    agent.add(RIG, k2);
    const inFlightOnK1 = signer.sign(draft({ commandId: 'in-flight' }), T0 + 1_500);
    controller.add(RIG, k2);
    // Step 2, overlap: new commands are signed with k2, a k1 command still in flight verifies.
    expect(send(T0 + 2_000)).toMatchObject({ ok: true, keyId: 'k2' });
    expect(v.verify(inFlightOnK1, RIG, T0 + 2_500)).toMatchObject({ ok: true, keyId: 'k1' });
    // Step 3: once nothing signed with k1 can still be fresh, retire it on both sides.
    controller.retire(RIG, 'k1');
    agent.retire(RIG, 'k1');
    expect(send(T0 + 40_000)).toMatchObject({ ok: true, keyId: 'k2' });
    const lateK1 = signedWith(K1, { commandId: 'late', issuedAt: new Date(T0 + 40_000), expiresAt: new Date(T0 + 50_000) });
    expect(v.verify(lateK1, RIG, T0 + 40_000)).toMatchObject({ ok: false, reason: 'retired_key' });
  });

  it('envelope-verifier: a broken clock (NaN) is an error, never an acceptance', () => {
    expect(() => verifier().verify(signedWith(K1), RIG, Number.NaN)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('envelope-verifier: a fractional clock (performance.now based) is fine', () => {
    expect(verifier().verify(signedWith(K1), RIG, T0 + 0.75).ok).toBe(true);
  });

  it('envelope-verifier: the window is configurable', () => {
    const v = verifier(ringWith(K1), { windowMs: 5_000 });
    const envelope = signedWith(K1, { issuedAt: new Date(T0 - 5_001), expiresAt: new Date(T0 + 60_000) });
    expect(v.verify(envelope, RIG, T0)).toMatchObject({ ok: false, reason: 'too_old' });
    expect(() => new EnvelopeVerifier({ keys: ringWith(K1), nonces: new MemoryNonceStore(), maxAgeMs: -1 })).toThrow(/maxAgeMs/);
  });

  it('envelope-verifier: the signer fills nonce, issuedAt and expiresAt (ttl) and signs with the newest key', () => {
    const signer = new CommandSigner(ringWith(K1, rigKey('k2', { created: T0 })), { ttlMs: 10_000, nonce: () => 'fixed-nonce-0000000' });
    const envelope = signer.sign(draft(), T0);
    expect(envelope).toMatchObject({ keyId: 'k2', nonce: 'fixed-nonce-0000000', issuedAt: new Date(T0), expiresAt: new Date(T0 + 10_000) });
    expect(envelope.signature).toHaveLength(32);
    expect(new CommandSigner(ringWith(K1)).sign(draft(), T0).nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it.each([
    ['expiresAt before issuedAt', { issuedAt: new Date(T0), expiresAt: new Date(T0 - 1) }, 'expiresAt'],
    ['a short nonce', { nonce: 'abc' }, 'nonce'],
    ['no miner id on a miner command', { minerId: '' }, 'minerId'],
    ['a command id with a space', { commandId: 'cmd 1' }, 'commandId'],
  ])('envelope-verifier: the signer refuses to sign what agents would call malformed: %s', (_name, overrides, field) => {
    const sign = () => new CommandSigner(ringWith(K1)).sign(draft(overrides), T0);
    expect(sign).toThrow(expect.objectContaining({ code: 'unsignable_envelope', context: expect.objectContaining({ field }) }));
  });

  it('envelope-verifier: a saturated nonce cache fails closed instead of forgetting a live nonce', () => {
    const v = verifier(ringWith(K1), { capacity: 3 });
    const envelopes = Array.from({ length: 5 }, (_, i) => signedWith(K1, { commandId: `c${i}`, issuedAt: new Date(T0 + i), expiresAt: new Date(T0 + 30_000 + i) }));
    for (const envelope of envelopes) expect(v.verify(envelope, RIG, T0 + 10).ok).toBe(true);
    const replays = envelopes.map((envelope) => v.verify(envelope, RIG, T0 + 20));
    expect(replays.map((r) => !r.ok && r.reason)).toEqual(Array(5).fill('replayed_nonce'));
    expect(replays.map((r) => !r.ok && r.detail.includes('saturated'))).toEqual([true, true, false, false, false]);
  });

  it('envelope-verifier: more authentic commands in one window than the cache holds: the overflow is refused, never run twice', () => {
    const v = verifier(ringWith(K1), { capacity: 3 });
    const results = Array.from({ length: 5 }, (_, i) => v.verify(signedWith(K1, { commandId: `c${i}` }), RIG, T0));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, false]);
  });
});
