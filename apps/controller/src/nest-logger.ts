import type { LoggerService } from '@nestjs/common';
import { createLogger, redactSecrets } from '@rigwarden/shared';

/**
 * Nest's own messages (a failed module init, an unhandled exception in a lifecycle hook) through the controller's
 * logger: the same line format, LOG_FORMAT=json included, and the same redaction of secrets (a broker URL with its
 * password in an error message). Nest's ConsoleLogger would print them as they are.
 */
export class NestLogger implements LoggerService {
  private readonly logger = createLogger('nest');

  /** Nest's progress messages ("dependencies initialized"): debug, as they were silent before. */
  log(message: unknown, ...rest: unknown[]): void {
    this.logger.debug(text(message), context(rest));
  }

  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack?, context?)
    const stack = rest.find((r): r is string => typeof r === 'string' && r.includes('\n    at '));
    this.logger.error(text(message), { ...context(rest), ...(stack ? { stack: redactSecrets(stack) } : {}) });
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.logger.warn(text(message), context(rest));
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.logger.debug(text(message), context(rest));
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.logger.debug(text(message), context(rest));
  }
}

function text(message: unknown): string {
  const s = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
  return redactSecrets(s ?? String(message));
}

function context(rest: unknown[]): Record<string, string> {
  const last = rest[rest.length - 1];
  return typeof last === 'string' && !last.includes('\n') ? { context: last } : {};
}
