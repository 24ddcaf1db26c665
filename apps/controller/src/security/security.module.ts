import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { ApiKeyHasher, AuditChain } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { AuditRepository } from '../audit/audit.repository';
import { RefusalAuditService } from '../audit/refusal-audit.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { PersistenceModule } from '../persistence/persistence.module';
import { API_KEY_STORE, type ApiKeyStore } from '../persistence/ports/api-key.port';
import { AUDIT_STORE, type AuditStore } from '../persistence/ports/audit.port';
import { PostgresAuditStore } from '../persistence/postgres/postgres-audit.store';
import { STORAGE_BACKEND, byBackend, type StorageBackend } from '../persistence/storage-backend';
import { ADMIN_TOKEN_FILE, API_AUTH } from './api-auth';
import { ApiAuthService } from './api-auth.service';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService } from './api-key.service';
import { loadOrCreateControllerSecrets, type ControllerSecrets } from './controller-secrets';

export const CONTROLLER_SECRETS = Symbol('CONTROLLER_SECRETS');

/** Up to this many audit rows, the hash chain is verified at every start (measured: 1.8 s per 100,000 rows). */
const VERIFY_AT_START_MAX_ROWS = 50_000;

/** API keys, their checking (API_AUTH) and the audit log. */
@Module({
  imports: [PersistenceModule],
  providers: [
    {
      provide: CONTROLLER_SECRETS,
      inject: [CONTROLLER_CONFIG],
      useFactory: (config: ControllerConfig): ControllerSecrets => {
        const path = config.secretsFile;
        const { secrets, created } = loadOrCreateControllerSecrets(path);
        if (created) createLogger('controller.security').info('created the API key pepper and audit key (back this file up with the database)', { file: path });
        return secrets;
      },
    },
    { provide: ApiKeyHasher, inject: [CONTROLLER_SECRETS], useFactory: (s: ControllerSecrets) => new ApiKeyHasher(s.apiKeyPepper) },
    {
      provide: AUDIT_STORE,
      inject: [STORAGE_BACKEND, CONTROLLER_SECRETS],
      useFactory: async (backend: StorageBackend, s: ControllerSecrets): Promise<AuditStore> => {
        const chain = new AuditChain(s.auditKey);
        const now = (): number => systemClock.now();
        const audit = byBackend<AuditStore>(backend, (db) => new AuditRepository(db, chain, now), (db) => new PostgresAuditStore(db, chain, now));
        const logger = createLogger('controller.audit');
        const anchor = await audit.anchor();
        // Check the chain at start while that is cheap; past that, log the anchor only (AuditRepository.verify() on demand).
        const check = anchor.seq <= VERIFY_AT_START_MAX_ROWS ? await audit.verify() : undefined;
        if (check && !check.ok) {
          logger.error(check.seq === 1 && s.createdNow
            ? 'the audit key is new (the secrets file was missing): the existing audit rows no longer verify; restore the previous secrets file to check them'
            : 'the audit log was altered outside the controller: its hash chain breaks', { seq: check.seq, reason: check.reason });
        }
        else logger.info('audit log', { rows: anchor.seq, lastHash: anchor.hash, verified: check !== undefined });
        return audit;
      },
    },
    // The SQLite class names resolve to the ports (whichever backend): specs get the stores by these names.
    { provide: ApiKeyRepository, useExisting: API_KEY_STORE },
    { provide: AuditRepository, useExisting: AUDIT_STORE },
    {
      provide: ApiKeyService,
      inject: [API_KEY_STORE, ApiKeyHasher],
      useFactory: (keys: ApiKeyStore, hasher: ApiKeyHasher) => new ApiKeyService(keys, hasher, systemClock),
    },
    { provide: RefusalAuditService, inject: [AUDIT_STORE], useFactory: (audit: AuditStore) => new RefusalAuditService(audit, systemClock) },
    {
      provide: API_AUTH,
      inject: [CONTROLLER_CONFIG, API_KEY_STORE, ApiKeyHasher, AUDIT_STORE, ApiKeyService, CONTROLLER_SECRETS, RefusalAuditService],
      useFactory: async (config: ControllerConfig, keys: ApiKeyStore, hasher: ApiKeyHasher, audit: AuditStore, service: ApiKeyService, secrets: ControllerSecrets, refusals: RefusalAuditService) => {
        const keyId = await service.bootstrapAdmin(join(config.dataDir, ADMIN_TOKEN_FILE), createLogger('controller.security'), { secretsReplaced: secrets.createdNow });
        if (keyId) await audit.append({ principal: 'controller', action: 'apikey.bootstrap', target: keyId, outcome: 'ok', detail: { file: ADMIN_TOKEN_FILE } });
        return new ApiAuthService(keys, hasher, refusals, systemClock);
      },
    },
  ],
  exports: [API_AUTH, AuditRepository, ApiKeyService, ApiKeyRepository, AUDIT_STORE, CONTROLLER_SECRETS, RefusalAuditService],
})
export class SecurityModule {}
