import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { createLogger } from '@rigwarden/shared';
import { CommandDispatcher } from '../commands/command-dispatcher.service';
import type { CommandRecord } from '../commands/command-repository';
import { AUDIT_STORE, type AuditRecord, type AuditStore } from '../persistence/ports/audit.port';

/** "operator:<key id>" → principal apikey:<key id> with its key id; "policy:failover" stays as it is. */
export function commandAuditRecord(command: CommandRecord): AuditRecord {
  const operator = /^operator:(?:apikey:)?([0-9a-f]{16})$/.exec(command.requestedBy);
  return {
    principal: operator ? `apikey:${operator[1]}` : command.requestedBy || 'controller',
    keyId: operator?.[1] ?? '',
    action: `command.${command.type}`,
    target: command.rigId,
    outcome: command.state.toLowerCase(),
    detail: { commandId: command.id, minerId: command.minerId, attempts: command.attempts, cause: command.cause, reason: command.reason },
  };
}

/** Every command, whoever sent it (an operator or a policy), lands in the audit log with its final outcome. */
@Injectable()
export class CommandAuditService implements OnModuleInit {
  private readonly logger = createLogger('controller.audit');

  constructor(
    @Inject(CommandDispatcher) private readonly dispatcher: CommandDispatcher,
    @Inject(AUDIT_STORE) private readonly audit: AuditStore,
  ) {}

  onModuleInit(): void {
    this.dispatcher.onFinished((command) => {
      this.audit.append(commandAuditRecord(command)).catch((err: unknown) => {
        this.logger.error('cannot audit a finished command', { command: command.id, error: err as Error });
      });
    });
  }
}
