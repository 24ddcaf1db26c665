import type { OnModuleDestroy } from '@nestjs/common';
import { createLogger, type Clock } from '@rigwarden/shared';
import type { AuditRecord } from './audit.repository';
import { RefusalAudit, type RefusalAuditOptions } from './refusal-audit';

/**
 * RefusalAudit as the controller runs it: a timer writes the summary of each ended window (so a flood that stops is
 * still counted within a window or two), and the open windows are written at shutdown.
 */
export class RefusalAuditService extends RefusalAudit implements OnModuleDestroy {
  private readonly logger = createLogger('controller.audit');
  private readonly timer: NodeJS.Timeout;

  constructor(audit: { append(record: AuditRecord): Promise<unknown> }, private readonly clock: Clock, options: RefusalAuditOptions = {}) {
    super(audit, options);
    this.timer = setInterval(() => {
      this.sweep(this.clock.now()).catch((err: unknown) => this.logger.error('cannot write the refusals summary', { error: err as Error }));
    }, this.windowMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch((err: unknown) => this.logger.error('cannot write the refusals summary at shutdown', { error: err as Error }));
  }
}
