import {
  ApiKeyAuthenticator, apiKeyFromAuthorization, type ApiKeyAuthentication, type ApiKeyHasher, type ApiScope,
} from '@rigwarden/security';
import type { Clock } from '@rigwarden/shared';
import type { AuditRepository } from '../audit/audit.repository';
import type { ApiAuth } from './api-auth';
import type { ApiKeyRepository } from './api-key.repository';

/** The audit principal of an API key. */
export function apiKeyPrincipal(keyId: string): string {
  return `apikey:${keyId}`;
}

/**
 * API_AUTH: checks a presented key against the SQLite api_keys table (read on every call, so a revocation takes effect
 * on the next call), records last-used time, and audits every refusal. Accepted calls answer principal
 * `apikey:<id>`; the edge audits what the call then did.
 */
export class ApiAuthService implements ApiAuth {
  private readonly authenticator: ApiKeyAuthenticator;

  constructor(
    keys: ApiKeyRepository,
    hasher: ApiKeyHasher,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    lastUsedResolutionMs = 1000,
  ) {
    this.authenticator = new ApiKeyAuthenticator({
      keys, hasher, lastUsedResolutionMs, onUsed: (record, now) => keys.markUsed(record.id, now),
    });
  }

  async authenticate(authorization: string | undefined, required: ApiScope, action: string): Promise<ApiKeyAuthentication> {
    const presented = apiKeyFromAuthorization(authorization) ?? (authorization?.trim() ? 'unparseable' : undefined);
    const result = await this.authenticator.authenticate(presented, required, this.clock.now());
    if (result.ok) return { ...result, principal: apiKeyPrincipal(result.keyId) };
    await this.audit.append({
      principal: result.keyId ? apiKeyPrincipal(result.keyId) : 'anonymous',
      keyId: result.keyId ?? '',
      action,
      target: '',
      outcome: result.status === 'permission_denied' ? 'denied' : 'unauthenticated',
      detail: { reason: result.reason, required },
    });
    return result.status === 'permission_denied' ? { ...result, principal: apiKeyPrincipal(result.keyId ?? '') } : result;
  }
}
