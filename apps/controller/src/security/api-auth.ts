import type { ApiKeyAuthentication, ApiScope } from '@rigwarden/security';

/**
 * How the edges (gRPC interceptor, dashboard HTTP) check an API key: one implementation, registered in Nest under
 * API_AUTH by the security module. `authorization` is the raw header/metadata value ("Bearer rwk_..."); `action`
 * names what is attempted ("FleetService/RestartMiner", "GET /api/rigs") for the audit log.
 */
export interface ApiAuth {
  /**
   * `peer` is the caller's address (a socket's remoteAddress, a gRPC peer): refusals are counted by key, or by this
   * address when no known key was sent, and a source past its limit gets `retryAfterMs` on its refusal.
   */
  authenticate(authorization: string | undefined, required: ApiScope, action: string, peer?: string): Promise<EdgeAuthentication>;
}

/** A key check's result; a refusal of a source that refused too often says when to retry. */
export type EdgeAuthentication = ApiKeyAuthentication & { readonly retryAfterMs?: number };

export const API_AUTH = Symbol('API_AUTH');

/** The bootstrap admin token the controller writes on first start (mode 0600): `<data-dir>/admin.token`. */
export const ADMIN_TOKEN_FILE = 'admin.token';
