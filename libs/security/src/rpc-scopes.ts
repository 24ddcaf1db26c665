import { API_SCOPES, isApiScope, type ApiScope } from './api-scope';
import { SecurityError } from './security-error';

/** A gRPC service definition as ts-proto / grpc-js generate it: method name → `{ path }`. */
export type ServiceDefinitionLike = Readonly<Record<string, { readonly path: string }>>;

/** The scope every method of `S` requires: a missing or extra method is a compile error. */
export type RpcScopeTable<S extends ServiceDefinitionLike> = { readonly [K in keyof S]: ApiScope };

/**
 * The scope each RPC requires, checked complete at boot so a new RPC cannot ship without one, and looked up by the
 * full path an interceptor sees (`call.getPath()`, `/rigwarden.v1.FleetService/ListRigs`). An unknown path requires
 * `admin`: fail closed. The same table drives the "every RPC × every scope" test.
 */
export class RpcScopes {
  readonly #byPath = new Map<string, ApiScope>();

  constructor(services: ReadonlyArray<readonly [ServiceDefinitionLike, Readonly<Record<string, ApiScope>>]>) {
    for (const [service, table] of services) {
      const methods = Object.keys(service);
      const missing = methods.filter((m) => !isApiScope(table[m]));
      const extra = Object.keys(table).filter((m) => !methods.includes(m));
      if (missing.length > 0 || extra.length > 0) {
        throw new SecurityError('invalid_argument',
          `RpcScopes: the scope table must name every method exactly once (missing or invalid: ${missing.join(', ') || 'none'}; unknown: ${extra.join(', ') || 'none'})`);
      }
      for (const method of methods) this.#byPath.set((service[method] as { path: string }).path, table[method] as ApiScope);
    }
  }

  /** Typed construction for one service: `RpcScopes.of(FleetServiceService, { listRigs: 'read', getRig: 'read' })`. */
  static of<S extends ServiceDefinitionLike>(service: S, table: RpcScopeTable<S>): RpcScopes {
    return new RpcScopes([[service, table as Readonly<Record<string, ApiScope>>]]);
  }

  /** The scope a call to `path` needs; `admin` for a path no table names. */
  required(path: string): ApiScope {
    return this.#byPath.get(path) ?? 'admin';
  }

  /** Every (path, required scope) pair, for table-driven tests. */
  entries(): Array<{ path: string; scope: ApiScope }> {
    return [...this.#byPath].map(([path, scope]) => ({ path, scope })).sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Every (path, presented scope, allowed?) triple: the RPC × scope matrix issue 7 asks to test. */
  matrix(): Array<{ path: string; required: ApiScope; presented: ApiScope; allowed: boolean }> {
    return this.entries().flatMap(({ path, scope }) =>
      API_SCOPES.map((presented) => ({ path, required: scope, presented, allowed: API_SCOPES.indexOf(presented) >= API_SCOPES.indexOf(scope) })));
  }
}

/**
 * The API key in an `authorization` header or gRPC metadata value: `Bearer rwk_...` (case-insensitive scheme) or the
 * bare token. Undefined for anything else, so a caller never echoes what it could not parse.
 */
export function apiKeyFromAuthorization(header: string | readonly string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : header;
  if (typeof value !== 'string') return undefined;
  const match = /^(?:bearer\s+)?(rwk_\S+)$/i.exec(value.trim());
  return match?.[1];
}
