import { ApiKeyAuthenticator } from './api-key.authenticator';
import { ApiKeyHasher, ApiKeyToken, generateApiKey, parseApiKeyToken, type ApiKeyRecord } from './api-key.hasher';
import { API_SCOPES, allows, type ApiScope } from './api-scope';
import { MemoryApiKeyStore } from './memory-api-key.store';
import { SecretBytes } from './secret-bytes';
import { DAY, T0, fixedSecret } from './testing/envelope-fixtures';

const hasher = new ApiKeyHasher(fixedSecret(0x50));

function setup(scope: ApiScope = 'operate', overrides: { notBefore?: number; expires?: number } = {}) {
  const store = new MemoryApiKeyStore();
  const used: Array<[string, number]> = [];
  const { token, record } = generateApiKey(hasher, { principal: 'alice', scope, now: T0, expires: T0 + 90 * DAY, ...overrides });
  store.add(record);
  const auth = new ApiKeyAuthenticator({
    keys: store, hasher, lastUsedResolutionMs: 0,
    onUsed: (r, now) => { used.push([r.id, now]); store.markUsed(r.id, now); },
  });
  return { store, token, record, auth, used };
}

describe('api-keys', () => {
  it.each([
    ['read', 'read', true], ['read', 'operate', false], ['read', 'admin', false],
    ['operate', 'read', true], ['operate', 'operate', true], ['operate', 'admin', false],
    ['admin', 'read', true], ['admin', 'operate', true], ['admin', 'admin', true],
  ] as Array<[ApiScope, ApiScope, boolean]>)('api-keys: a %s key allows %s: %s', (granted, required, expected) => {
    expect(allows(granted, required)).toBe(expected);
  });

  it('api-keys: an unknown scope allows nothing', () => {
    expect(allows('root' as ApiScope, 'read')).toBe(false);
    expect(allows('admin', 'root' as ApiScope)).toBe(false);
  });

  it('api-keys: a new key is rwk_<16 hex>_<43 base64url> (256 random bits), and only its hash is stored', () => {
    const { token, record } = setup();
    expect(token.reveal()).toMatch(/^rwk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(parseApiKeyToken(token.reveal())?.secret ?? '', 'base64url')).toHaveLength(32);
    expect(record.hash.length).toBe(32);
    expect(record.hash.exposeBase64url()).not.toContain(parseApiKeyToken(token.reveal())?.secret);
    expect(token.id).toBe(record.id);
  });

  it('api-keys: two keys never share an id or a secret (1,000 draws)', () => {
    const tokens = Array.from({ length: 1000 }, () => generateApiKey(hasher, { principal: 'p', scope: 'read', now: T0, expires: T0 + DAY }).token.reveal());
    expect(new Set(tokens.map((t) => t.slice(4, 20))).size).toBe(1000);
    expect(new Set(tokens).size).toBe(1000);
  });

  it('api-keys: the right key with enough scope is accepted and its last use recorded', async () => {
    const { token, record, auth, used, store } = setup('operate');
    await expect(auth.authenticate(token.reveal(), 'operate', T0 + 5)).resolves.toEqual({ ok: true, principal: 'alice', keyId: record.id, scope: 'operate' });
    expect(used).toEqual([[record.id, T0 + 5]]);
    expect(store.findById(record.id)?.lastUsed).toBe(T0 + 5);
  });

  it('api-keys: last use is recorded at most once per resolution window', async () => {
    const { store, token } = setup();
    const calls: number[] = [];
    const auth = new ApiKeyAuthenticator({ keys: store, hasher, onUsed: (r, now) => { calls.push(now); store.markUsed(r.id, now); } });
    for (const t of [0, 10_000, 59_999, 60_000, 60_001]) await auth.authenticate(token.reveal(), 'read', T0 + t);
    expect(calls).toEqual([T0, T0 + 60_000]);
  });

  it.each<[string, (t: string, r: ApiKeyRecord) => string, ApiScope, number, string, string]>([
    ['no key', () => '', 'read', T0, 'missing', 'unauthenticated'],
    ['a token of the wrong shape', (t) => t.slice(0, -1), 'read', T0, 'malformed', 'unauthenticated'],
    ['a bearer prefix left in', (t) => `Bearer ${t}`, 'read', T0, 'malformed', 'unauthenticated'],
    ['an unknown id', (t) => t.replace(/^rwk_[0-9a-f]{16}/, 'rwk_0000000000000000'), 'read', T0, 'unknown_key', 'unauthenticated'],
    ['a wrong secret', (t) => `${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`, 'read', T0, 'bad_secret', 'unauthenticated'],
    ['an expired key', (t) => t, 'read', T0 + 90 * DAY, 'expired', 'unauthenticated'],
    ['a key used before notBefore', (t) => t, 'read', T0 - 1, 'key_not_yet_valid', 'unauthenticated'],
    ['an operate key on an admin call', (t) => t, 'admin', T0, 'insufficient_scope', 'permission_denied'],
  ])('api-keys: %s is rejected', async (_name, present, required, now, reason, status) => {
    const { token, record, auth, used } = setup('operate');
    await expect(auth.authenticate(present(token.reveal(), record), required, now)).resolves.toMatchObject({ ok: false, reason, status });
    expect(used).toEqual([]);
  });

  it('api-keys: a NaN clock is an error, never an acceptance', async () => {
    const { token, auth } = setup();
    await expect(auth.authenticate(token.reveal(), 'read', Number.NaN)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('api-keys: revocation takes effect on the next call', async () => {
    const { token, record, auth, store } = setup();
    expect((await auth.authenticate(token.reveal(), 'read', T0)).ok).toBe(true);
    store.revoke(record.id, T0 + 1);
    await expect(auth.authenticate(token.reveal(), 'read', T0 + 1)).resolves.toMatchObject({ ok: false, reason: 'revoked', keyId: record.id });
  });

  it('api-keys: rotation: two keys of one principal work during the overlap, the old one stops when revoked', async () => {
    const { token: old, record: oldRecord, auth, store } = setup('admin');
    const { token: fresh, record } = generateApiKey(hasher, { principal: 'alice', scope: 'admin', now: T0 + 10, expires: T0 + 90 * DAY });
    store.add(record);
    expect((await auth.authenticate(old.reveal(), 'admin', T0 + 20)).ok).toBe(true);
    expect((await auth.authenticate(fresh.reveal(), 'admin', T0 + 20)).ok).toBe(true);
    store.revoke(oldRecord.id, T0 + 30);
    expect((await auth.authenticate(old.reveal(), 'admin', T0 + 30)).ok).toBe(false);
    expect((await auth.authenticate(fresh.reveal(), 'admin', T0 + 30)).ok).toBe(true);
    expect(store.listByPrincipal('alice').map((r) => r.revoked !== undefined)).toEqual([true, false]);
  });

  it('api-keys: a record swapped onto another id does not authenticate (the id is hashed in)', async () => {
    const { token, record } = setup();
    const other = generateApiKey(hasher, { principal: 'bob', scope: 'read', now: T0, expires: T0 + DAY });
    const store = new MemoryApiKeyStore();
    store.add({ ...other.record, hash: record.hash });
    const auth = new ApiKeyAuthenticator({ keys: store, hasher });
    const forged = `rwk_${other.record.id}_${parseApiKeyToken(token.reveal())?.secret}`;
    await expect(auth.authenticate(forged, 'read', T0)).resolves.toMatchObject({ ok: false, reason: 'bad_secret' });
  });

  it('api-keys: another pepper cannot verify the stored hashes', async () => {
    const { token, store } = setup();
    const auth = new ApiKeyAuthenticator({ keys: store, hasher: new ApiKeyHasher(SecretBytes.generate()) });
    await expect(auth.authenticate(token.reveal(), 'read', T0)).resolves.toMatchObject({ ok: false, reason: 'bad_secret' });
  });

  it('api-keys: hashes persist as base64url and load back', async () => {
    const { token, record } = setup();
    const stored = JSON.parse(JSON.stringify({ ...record, hash: record.hash.exposeBase64url() })) as ApiKeyRecord & { hash: string };
    const store = new MemoryApiKeyStore();
    store.add({ ...stored, hash: SecretBytes.fromBase64url(stored.hash) });
    await expect(new ApiKeyAuthenticator({ keys: store, hasher }).authenticate(token.reveal(), 'read', T0)).resolves.toMatchObject({ ok: true });
  });

  it.each([
    ['an unknown scope', { scope: 'root' as ApiScope }],
    ['expires before notBefore', { expires: T0 - 1 }],
    ['an empty principal', { principal: '' }],
  ])('api-keys: generating a key with %s is refused', (_name, change) => {
    expect(() => generateApiKey(hasher, { principal: 'alice', scope: 'read', now: T0, expires: T0 + DAY, ...change })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
  });

  it('api-keys: the stored hash format is pinned (changing it would lock every client out): checked against Python', () => {
    // python3: hmac.new(b'\x50' * 32, b'rigwarden/api-key/v1\x00' + id + b'\x00' + secret, sha256), base64url
    expect(hasher.hash('0123456789abcdef', 'A'.repeat(43)).exposeBase64url()).toBe('s60p97Hzb8viklyZ4p8bVHWZ_PINK2uNgbEHtukqY8A');
  });

  it('api-keys: the scopes are ordered read < operate < admin', () => {
    expect(API_SCOPES).toEqual(['read', 'operate', 'admin']);
    expect(new ApiKeyToken('abc', 'rwk_abc_secret').toString()).toBe('rwk_abc_[redacted]');
  });
});
