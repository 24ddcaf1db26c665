import { KeyRing, keyState } from './key-ring';
import { SecurityError } from './security-error';
import { DAY, RIG, T0, rigKey } from './testing/envelope-fixtures';

describe('key-ring', () => {
  const ring = new KeyRing();
  ring.add(RIG, rigKey('active'));
  ring.add(RIG, rigKey('retired', { retired: true }));
  ring.add(RIG, rigKey('future', { notBefore: T0 + 1 }));
  ring.add(RIG, rigKey('old', { expires: T0 }));

  it.each([
    ['active', { ok: true }],
    ['retired', { ok: false, reason: 'retired_key' }],
    ['future', { ok: false, reason: 'key_not_yet_valid' }],
    ['old', { ok: false, reason: 'key_expired' }],
    ['nope', { ok: false, reason: 'unknown_key' }],
  ])('key-ring: lookup of key %s at T0 gives %j', (id, expected) => {
    expect(ring.lookup(RIG, id, T0)).toMatchObject(expected);
  });

  it('key-ring: a key of another principal is unknown', () => {
    expect(ring.lookup('rig-8', 'active', T0)).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('key-ring: notBefore is inclusive and expires exclusive', () => {
    const key = rigKey('k', { notBefore: T0, expires: T0 + 10 });
    expect([T0 - 1, T0, T0 + 9, T0 + 10].map((t) => keyState(key, t))).toEqual(['not_yet_valid', 'active', 'active', 'expired']);
  });

  it('key-ring: the newest active key signs; retired, future and expired keys never do', () => {
    const keys = new KeyRing();
    keys.add(RIG, rigKey('k1', { created: T0 - 2 * DAY }));
    keys.add(RIG, rigKey('k2', { created: T0 - DAY }));
    keys.add(RIG, rigKey('k3', { created: T0, notBefore: T0 + 60_000 }));
    expect(keys.signingKey(RIG, T0).id).toBe('k2');
    expect(keys.signingKey(RIG, T0 + 60_000).id).toBe('k3');
    keys.retire(RIG, 'k2');
    expect(keys.signingKey(RIG, T0).id).toBe('k1');
  });

  it('key-ring: no active key is a no_active_key error naming the principal', () => {
    const keys = new KeyRing();
    keys.add(RIG, rigKey('k1', { retired: true }));
    expect(() => keys.signingKey(RIG, T0)).toThrow(expect.objectContaining({ code: 'no_active_key', context: { principal: RIG, now: T0 } }));
  });

  it.each([
    ['a duplicate id', () => ring.add(RIG, rigKey('active')), 'duplicate_key'],
    ['an id with spaces', () => new KeyRing().add(RIG, rigKey('a b')), 'invalid_argument'],
    ['expires before notBefore', () => new KeyRing().add(RIG, rigKey('k', { expires: T0 - 2 * DAY })), 'invalid_argument'],
    ['a secret that is not SecretBytes', () => new KeyRing().add(RIG, { ...rigKey('k'), secret: Buffer.alloc(32) as never }), 'invalid_secret'],
    ['retiring an unknown key', () => new KeyRing().retire(RIG, 'k9'), 'unknown_key'],
    ['a lookup with a NaN clock', () => ring.lookup(RIG, 'active', Number.NaN), 'invalid_argument'],
    ['choosing a signing key with a NaN clock', () => ring.signingKey(RIG, Number.NaN), 'invalid_argument'],
  ])('key-ring: %s is refused', (_name, action, code) => {
    expect(action).toThrow(SecurityError);
    expect(action).toThrow(expect.objectContaining({ code }));
  });

  it('key-ring: list shows states and never secrets; remove forgets a key', () => {
    const keys = new KeyRing();
    keys.add(RIG, rigKey('k1', { created: T0 - 2 * DAY }));
    keys.add(RIG, rigKey('k2'));
    keys.retire(RIG, 'k1');
    expect(keys.list(RIG, T0).map((k) => [k.id, k.state, 'secret' in k])).toEqual([['k1', 'retired', false], ['k2', 'active', false]]);
    expect(keys.remove(RIG, 'k1')).toBe(true);
    expect(keys.lookup(RIG, 'k1', T0)).toEqual({ ok: false, reason: 'unknown_key' });
  });
});
