import { Inject, Injectable } from '@nestjs/common';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import {
  ApiKeyInfo, AuditEntry, RotateRigKeyProgress, type AdminServiceServer, type RotateRigKeyRequest,
} from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { AUDIT_STORE, type AuditRow, type AuditStore } from '../persistence/ports/audit.port';
import { FleetError } from '../fleet/fleet-error';
import type { ApiKeyInfoRow } from '../security/api-key.repository';
import { ApiKeyService } from '../security/api-key.service';
import { RotateRigKeyUseCase } from '../security/rotate-rig-key.usecase';
import { toServiceError } from './grpc-status';
import { principalOf } from './principal';

function keyInfo(row: ApiKeyInfoRow): ApiKeyInfo {
  return ApiKeyInfo.fromPartial({
    keyId: row.id, name: row.name, scopes: row.scopes, createdAt: new Date(row.created),
    ...(row.expires !== undefined ? { expiresAt: new Date(row.expires) } : {}),
    ...(row.revoked !== undefined ? { revokedAt: new Date(row.revoked) } : {}),
    ...(row.lastUsed !== undefined ? { lastUsedAt: new Date(row.lastUsed) } : {}),
  });
}

function auditEntry(row: AuditRow): AuditEntry {
  return AuditEntry.fromPartial({
    seq: row.seq, at: new Date(row.at), principal: row.principal, keyId: row.key_id, action: row.action, target: row.target,
    outcome: row.outcome, detail: row.detail, hash: row.hash,
  });
}

/**
 * AdminService: API keys, rig key rotation and the audit log. Handlers map requests to the use cases; the scope
 * (admin for all of them) is checked before they run by the authentication interceptor, which also audits each call.
 * Key management steps are audited here too, with what they changed.
 */
@Injectable()
export class AdminGrpcHandlers {
  private readonly logger = createLogger('controller.grpc.admin');

  constructor(
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
    @Inject(AUDIT_STORE) private readonly audit: AuditStore,
    @Inject(RotateRigKeyUseCase) private readonly rotate: RotateRigKeyUseCase,
  ) {}

  handlers(): AdminServiceServer {
    return {
      createApiKey: (call, callback) => this.unary(call, callback, async (req) => {
        const { token, info } = await this.keys.create({ name: req.name, scopes: req.scopes, ttlDays: req.ttlDays });
        const who = principalOf(call);
        await this.audit.append({ principal: who.principal, keyId: who.keyId, action: 'apikey.create', target: info.id, outcome: 'ok', detail: { name: info.name, scopes: info.scopes } });
        return { key: keyInfo(info), token: token.reveal() };
      }),
      listApiKeys: (call, callback) => this.unary(call, callback, async () => ({ keys: (await this.keys.list()).map(keyInfo) })),
      revokeApiKey: (call, callback) => this.unary(call, callback, async (req) => {
        const info = await this.keys.revoke(req.keyId);
        const who = principalOf(call);
        await this.audit.append({ principal: who.principal, keyId: who.keyId, action: 'apikey.revoke', target: info.id, outcome: 'ok', detail: { name: info.name } });
        return keyInfo(info);
      }),
      rotateRigKey: (call) => this.rotateRigKey(call),
      verifyAudit: (call, callback) => this.unary(call, callback, async () => {
        const check = await this.audit.verify();
        return check.ok
          ? { ok: true, entries: check.entries, lastSeq: check.entries, lastHash: check.lastMac, brokenSeq: 0, reason: '' }
          : { ok: false, entries: check.index, lastSeq: 0, lastHash: '', brokenSeq: check.seq, reason: check.reason };
      }),
      listAudit: (call, callback) => this.unary(call, callback, async (req) => ({
        entries: (await this.audit.query({
          principal: req.principal, action: req.action, target: req.target, since: req.since?.getTime(), limit: req.limit || 100,
        })).map(auditEntry),
      })),
    };
  }

  private rotateRigKey(call: ServerWritableStream<RotateRigKeyRequest, RotateRigKeyProgress>): void {
    const who = principalOf(call);
    this.rotate.execute(
      { rigId: call.request.rigId, timeoutSeconds: call.request.timeoutSeconds, principal: who.principal, keyId: who.keyId },
      (progress) => { if (!call.cancelled) call.write(RotateRigKeyProgress.fromPartial(progress)); },
    ).then(
      () => call.end(),
      (err: unknown) => {
        if (!(err instanceof FleetError)) this.logger.error('RotateRigKey failed', { error: err as Error });
        call.destroy(Object.assign(new Error((toServiceError(err).details as string | undefined) ?? 'failed'), toServiceError(err)));
      },
    );
  }

  private unary<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, run: (req: Req) => Promise<Res>): void {
    run(call.request).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (!(err instanceof FleetError)) this.logger.error('RPC failed', { path: call.getPath(), error: err as Error });
        callback(toServiceError(err), null);
      },
    );
  }
}
