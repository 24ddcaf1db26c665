import { ApiKeyAuthenticator } from './api-key.authenticator';
import { ApiKeyHasher, generateApiKey } from './api-key.hasher';
import { API_SCOPES } from './api-scope';
import { MemoryApiKeyStore } from './memory-api-key.store';
import { RpcScopes, apiKeyFromAuthorization } from './rpc-scopes';
import { DAY, T0, fixedSecret } from './testing/envelope-fixtures';

/** Service definitions shaped like the generated ones (kept local: the real services grow as RPCs are added). */
const FleetServiceService = {
  listRigs: { path: '/rigwarden.v1.FleetService/ListRigs' },
  getRig: { path: '/rigwarden.v1.FleetService/GetRig' },
} as const;
const KeyService = {
  rotateRigKey: { path: '/rigwarden.v1.KeyService/RotateRigKey' },
  switchPool: { path: '/rigwarden.v1.KeyService/SwitchPool' },
} as const;

const scopes = new RpcScopes([
  [FleetServiceService, { listRigs: 'read', getRig: 'read' }],
  [KeyService, { rotateRigKey: 'admin', switchPool: 'operate' }],
]);

describe('rpc-scopes', () => {
  it('rpc-scopes: looks scopes up by the path an interceptor sees', () => {
    expect(scopes.required('/rigwarden.v1.FleetService/ListRigs')).toBe('read');
    expect(scopes.required('/rigwarden.v1.KeyService/SwitchPool')).toBe('operate');
  });

  it('rpc-scopes: an RPC nobody gave a scope requires admin (fail closed)', () => {
    expect(scopes.required('/rigwarden.v1.FleetService/DeleteEverything')).toBe('admin');
  });

  it.each([
    ['a missing method', { listRigs: 'read' }],
    ['an unknown method', { listRigs: 'read', getRig: 'read', dropRig: 'admin' }],
    ['an invalid scope', { listRigs: 'read', getRig: 'root' }],
  ])('rpc-scopes: a table with %s is refused at boot', (_name, table) => {
    expect(() => new RpcScopes([[FleetServiceService, table as never]])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('rpc-scopes: RpcScopes.of types the table by the service', () => {
    expect(RpcScopes.of(FleetServiceService, { listRigs: 'read', getRig: 'operate' }).required('/rigwarden.v1.FleetService/GetRig')).toBe('operate');
  });

  // The shape of issue 7's "every RPC × scope" test, here against the authenticator.
  const hasher = new ApiKeyHasher(fixedSecret(9));
  const store = new MemoryApiKeyStore();
  const tokens = Object.fromEntries(API_SCOPES.map((scope) => {
    const { token, record } = generateApiKey(hasher, { principal: `p-${scope}`, scope, now: T0, expires: T0 + DAY });
    store.add(record);
    return [scope, token];
  }));
  const auth = new ApiKeyAuthenticator({ keys: store, hasher });

  it.each(scopes.matrix().map((m) => [m.path, m.presented, m.required, m.allowed] as const))(
    'rpc-scopes: %s with a %s key (requires %s): allowed %s',
    async (path, presented, _required, allowed) => {
      const header = `Bearer ${tokens[presented]?.reveal()}`;
      const result = await auth.authenticate(apiKeyFromAuthorization(header), scopes.required(path), T0);
      expect(result.ok).toBe(allowed);
      if (!result.ok) expect(result).toMatchObject({ reason: 'insufficient_scope', status: 'permission_denied' });
    },
  );

  it.each<[string, string | string[] | undefined, string | undefined]>([
    ['a bearer header', 'Bearer rwk_0123456789abcdef_x', 'rwk_0123456789abcdef_x'],
    ['a lower-case scheme', 'bearer   rwk_a_b', 'rwk_a_b'],
    ['a bare token (gRPC metadata)', ['rwk_a_b'], 'rwk_a_b'],
    ['two metadata values', ['rwk_a_b', 'rwk_c_d'], undefined],
    ['basic auth', 'Basic dXNlcjpwYXNz', undefined],
    ['nothing', undefined, undefined],
  ])('rpc-scopes: apiKeyFromAuthorization of %s', (_name, header, expected) => {
    expect(apiKeyFromAuthorization(header)).toBe(expected);
  });
});
