import { Metadata, ServerInterceptingCall, status, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';
import { AdminServiceService, FleetServiceService } from '@rigwarden/protocol';
import { RpcScopes, type ApiKeyAuthentication, type ApiScope, type RpcScopeTable } from '@rigwarden/security';
import { createLogger } from '@rigwarden/shared';
import type { AuditStore } from '../persistence/ports/audit.port';
import type { ApiAuth } from '../security/api-auth';
import { KEY_ID_METADATA, PRINCIPAL_METADATA } from './principal';
import { requestBoundsViolation } from './request-bounds';

/** The scope every FleetService RPC needs: a missing or unknown method is a compile error (and a boot error). */
export const FLEET_RPC_SCOPES: RpcScopeTable<typeof FleetServiceService> = {
  listRigs: 'read',
  getRig: 'read',
  watchRigs: 'read',
  queryTelemetry: 'read',
  listEvents: 'read',
  getFleetSpec: 'read',
  applyFleetSpec: 'admin',
  setPools: 'operate',
  applyProfile: 'operate',
  restartMiner: 'operate',
  rebootRig: 'operate',
  powerCycle: 'operate',
  setPowerMode: 'operate',
  setFaultLight: 'operate',
  setPowerTarget: 'operate',
  bulkCommand: 'operate',
  getCommand: 'read',
  listCommands: 'read',
  dryRunPolicies: 'read',
  releaseQuarantine: 'operate',
};

/** Every AdminService RPC needs admin. */
export const ADMIN_RPC_SCOPES: RpcScopeTable<typeof AdminServiceService> = {
  createApiKey: 'admin',
  listApiKeys: 'admin',
  revokeApiKey: 'admin',
  rotateRigKey: 'admin',
  listAudit: 'admin',
  verifyAudit: 'admin',
};

/** gRPC server reflection (grpcurl list/describe): needs a read key, like any other look at the API. */
export const REFLECTION_SERVICE = {
  v1: { path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo' },
  v1alpha: { path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo' },
} as const;

export const RPC_SCOPES = new RpcScopes([
  [FleetServiceService, FLEET_RPC_SCOPES],
  [AdminServiceService, ADMIN_RPC_SCOPES],
  [REFLECTION_SERVICE, { v1: 'read', v1alpha: 'read' } satisfies RpcScopeTable<typeof REFLECTION_SERVICE>],
]);

/** Admin RPCs that change nothing: not audited when they succeed (every refusal still is). */
const READ_ONLY_ADMIN = new Set<string>([AdminServiceService.listApiKeys.path, AdminServiceService.listAudit.path, AdminServiceService.verifyAudit.path]);

/** Does a successful call to `path` change something (and so belong in the audit log)? */
export function isMutatingRpc(path: string): boolean {
  return RPC_SCOPES.required(path) !== 'read' && !READ_ONLY_ADMIN.has(path);
}

/** "FleetService/RestartMiner" from "/rigwarden.v1.FleetService/RestartMiner". */
export function rpcAction(path: string): string {
  return path.replace(/^\/[^/]*\.(?=[^./]+\/)/, '').replace(/^\//, '');
}

/** What a request acts on, for the audit log: a rig id, a key id, "fleet-spec", a selector. */
export function auditTarget(path: string, request: unknown): string {
  if (path === FleetServiceService.applyFleetSpec.path) return 'fleet-spec';
  const m = (request ?? {}) as Record<string, unknown>;
  const nested = (m['target'] ?? {}) as Record<string, unknown>;
  for (const value of [m['rigId'], nested['rigId'], m['keyId'], m['name'], m['commandId']]) {
    if (typeof value === 'string' && value !== '') return value;
  }
  const selector = m['selector'] as { rigIds?: string[]; group?: string } | undefined;
  if (selector) {
    if (selector.rigIds?.length) return selector.rigIds.join(',');
    if (selector.group) return `group:${selector.group}`;
    return 'selector:all';
  }
  return '';
}

function outcomeOf(code: status): string {
  switch (code) {
    case status.OK: return 'ok';
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.NOT_FOUND: return 'invalid';
    case status.CANCELLED: return 'cancelled';
    default: return 'failed';
  }
}

function refusal(result: Exclude<ApiKeyAuthentication, { ok: true }> & { retryAfterMs?: number }, required: ApiScope, action: string): { code: status; details: string } {
  if (result.retryAfterMs !== undefined) {
    return { code: status.RESOURCE_EXHAUSTED, details: `too many refused calls from this key or address: retry in ${Math.ceil(result.retryAfterMs / 1000)} s with a valid API key` };
  }
  if (result.status === 'permission_denied') {
    return { code: status.PERMISSION_DENIED, details: `${action} needs an API key with scope ${required}; key ${result.keyId ?? '?'} does not have it (rigctl keys create --scopes ${required})` };
  }
  const why: Record<string, string> = {
    missing: 'no API key: pass authorization "Bearer rwk_..." (rigctl: --api-key-file or RIGWARDEN_API_KEY_FILE)',
    malformed: 'the authorization value is not an API key ("Bearer rwk_<id>_<secret>")',
    revoked: `API key ${result.keyId ?? ''} was revoked`,
    expired: `API key ${result.keyId ?? ''} has expired`,
    key_not_yet_valid: `API key ${result.keyId ?? ''} is not valid yet`,
  };
  return { code: status.UNAUTHENTICATED, details: why[result.reason] ?? 'unknown API key or wrong secret' };
}

/**
 * Authenticates every call before its handler runs: reads `authorization`, checks the scope RPC_SCOPES names for the
 * method (unknown methods need admin), answers UNAUTHENTICATED or PERMISSION_DENIED (audited by API_AUTH), strips
 * any principal metadata the client sent and sets the verified one for handlers, and audits every mutating call with
 * its final status once the handler is done.
 */
export function authInterceptor(auth: ApiAuth, audit: AuditStore, scopes: RpcScopes = RPC_SCOPES): ServerInterceptor {
  const logger = createLogger('controller.grpc.auth');
  return (descriptor, call) => {
    const path = descriptor.path;
    const action = rpcAction(path);
    const required = scopes.required(path);
    const mutating = isMutatingRpc(path);
    let accepted: { principal: string; keyId: string } | undefined;
    let target = '';
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, nextMetadata) => {
          metadata.remove(PRINCIPAL_METADATA);
          metadata.remove(KEY_ID_METADATA);
          const values = metadata.get('authorization');
          const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : values.length > 1 ? 'several' : undefined;
          auth.authenticate(header, required, action, call.getPeer()).then((result) => {
            if (!result.ok) {
              intercepting.sendStatus({ ...refusal(result, required, action), metadata: new Metadata() });
              return;
            }
            accepted = { principal: result.principal, keyId: result.keyId };
            metadata.set(PRINCIPAL_METADATA, result.principal);
            metadata.set(KEY_ID_METADATA, result.keyId);
            nextMetadata(metadata);
          }, (err: unknown) => {
            logger.error('authentication failed', { path, error: err as Error });
            intercepting.sendStatus({ code: status.UNAVAILABLE, details: 'cannot check the API key right now; retry', metadata: new Metadata() });
          });
        },
        onReceiveMessage: (message, nextMessage) => {
          const violation = requestBoundsViolation(message);
          if (violation) {
            // Refused before any handler formats the value into an error, a log line or a query.
            intercepting.sendStatus({ code: status.INVALID_ARGUMENT, details: `${action}: ${violation}`, metadata: new Metadata() });
            return;
          }
          if (mutating && target === '') target = auditTarget(path, message);
          nextMessage(message);
        },
      }),
      sendStatus: (statusObject, nextStatus) => {
        if (!accepted || !mutating) {
          nextStatus(statusObject);
          return;
        }
        const code = statusObject.code ?? status.OK;
        audit.append({
          principal: accepted.principal, keyId: accepted.keyId, action, target, outcome: outcomeOf(code),
          ...(code !== status.OK ? { detail: { code: status[code], details: (statusObject as Partial<StatusObject>).details ?? '' } } : {}),
        }).catch((err: unknown) => logger.error('cannot write the audit log', { path, error: err as Error }))
          .finally(() => nextStatus(statusObject));
      },
    });
    return intercepting;
  };
}
