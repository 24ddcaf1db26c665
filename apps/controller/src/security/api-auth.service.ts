import {
  ApiKeyAuthenticator, apiKeyFromAuthorization, type ApiKeyHasher, type ApiScope,
} from '@rigwarden/security';
import type { Clock } from '@rigwarden/shared';
import { RefusalAudit, peerAddress } from '../audit/refusal-audit';
import type { ApiAuth, EdgeAuthentication } from './api-auth';
import type { ApiKeyStore } from '../persistence/ports/api-key.port';

/** The audit principal of an API key. */
export function apiKeyPrincipal(keyId: string): string {
  return `apikey:${keyId}`;
}

/**
 * API_AUTH: checks a presented key against the SQLite api_keys table (read on every call, so a revocation takes effect
 * on the next call), records last-used time, and audits refusals through RefusalAudit (aggregated per key or address
 * and window, rate-limited past its limit). Accepted calls answer principal
 * `apikey:<id>`; the edge audits what the call then did.
 */
export class ApiAuthService implements ApiAuth {
  private readonly authenticator: ApiKeyAuthenticator;

  constructor(
    keys: ApiKeyStore,
    hasher: ApiKeyHasher,
    private readonly refusals: RefusalAudit,
    private readonly clock: Clock,
    lastUsedResolutionMs = 1000,
  ) {
    this.authenticator = new ApiKeyAuthenticator({
      keys, hasher, lastUsedResolutionMs, onUsed: (record, now) => keys.markUsed(record.id, now),
    });
  }

  async authenticate(authorization: string | undefined, required: ApiScope, action: string, peer?: string): Promise<EdgeAuthentication> {
    const presented = apiKeyFromAuthorization(authorization) ?? (authorization?.trim() ? 'unparseable' : undefined);
    const now = this.clock.now();
    const result = await this.authenticator.authenticate(presented, required, now);
    if (result.ok) return { ...result, principal: apiKeyPrincipal(result.keyId) };
    // A key that exists is counted as itself; an unknown id (anyone can make those up) by the caller's address.
    const known = result.keyId !== undefined && result.reason !== 'unknown_key';
    const decision = await this.refusals.record({
      source: known ? `key:${result.keyId}` : `addr:${peerAddress(peer)}`,
      principal: known ? apiKeyPrincipal(result.keyId!) : 'anonymous',
      keyId: known ? result.keyId! : '',
      action,
      outcome: result.status === 'permission_denied' ? 'denied' : 'unauthenticated',
      reason: result.reason,
      required,
    }, now);
    const refused = result.status === 'permission_denied' ? { ...result, principal: apiKeyPrincipal(result.keyId ?? '') } : result;
    return decision.retryAfterMs !== undefined ? { ...refused, retryAfterMs: decision.retryAfterMs } : refused;
  }
}
