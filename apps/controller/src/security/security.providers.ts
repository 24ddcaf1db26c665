import type { Provider } from '@nestjs/common';
import { createLogger, systemClock } from '@rigwarden/shared';
import { AdminGrpcHandlers } from '../api-grpc/admin-grpc.handlers';
import { CommandAuditService } from '../audit/command-audit.service';
import { CommandDispatcher } from '../commands/command-dispatcher.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { AUDIT_STORE, type AuditStore } from '../persistence/ports/audit.port';
import { RotateRigKeyUseCase } from './rotate-rig-key.usecase';

/** What security needs from other features (the command dispatcher): registered once in app.module.ts. */
export const SECURITY_PROVIDERS: Provider[] = [
  {
    provide: RotateRigKeyUseCase,
    inject: [CONTROLLER_CONFIG, CommandDispatcher, AUDIT_STORE],
    useFactory: (config: ControllerConfig, dispatcher: CommandDispatcher, audit: AuditStore) =>
      new RotateRigKeyUseCase(config.keysFile ?? `${config.dataDir}/keys.json`, dispatcher, audit, systemClock, createLogger('controller.keys')),
  },
  AdminGrpcHandlers,
  CommandAuditService,
];
