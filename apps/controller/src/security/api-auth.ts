import type { ApiKeyAuthentication, ApiScope } from '@rigwarden/security';

/**
 * How the edges (gRPC interceptor, dashboard HTTP) check an API key: one implementation, registered in Nest under
 * API_AUTH by the security module. `authorization` is the raw header/metadata value ("Bearer rwk_..."); `action`
 * names what is attempted ("FleetService/RestartMiner", "GET /api/rigs") for the audit log.
 */
export interface ApiAuth {
  authenticate(authorization: string | undefined, required: ApiScope, action: string): Promise<ApiKeyAuthentication>;
}

export const API_AUTH = Symbol('API_AUTH');

/** The bootstrap admin token the controller writes on first start (mode 0600): `<data-dir>/admin.token`. */
export const ADMIN_TOKEN_FILE = 'admin.token';
