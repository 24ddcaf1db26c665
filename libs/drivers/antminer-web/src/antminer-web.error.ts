import { DriverError, type DriverErrorKind } from '@rigwarden/drivers-core';

export interface AntminerWebErrorContext {
  host: string;
  port: number;
  /** The CGI endpoint, e.g. "set_miner_conf.cgi". */
  endpoint: string;
  /** The HTTP status the web server answered with, when it answered. */
  httpStatus?: number;
  /** The firmware's own code in a JSON reply ("M001", "B001"), when it sent one. */
  firmwareCode?: string;
  firmwareMsg?: string;
}

/**
 * The stock Antminer web driver's errors: a DriverError (so the runtime, the agent and the policies handle it like
 * every other driver's) that also names the CGI endpoint, the HTTP status and the firmware's code.
 */
export class AntminerWebError extends DriverError {
  readonly endpoint: string;
  readonly httpStatus: number | undefined;
  readonly firmwareCode: string | undefined;

  constructor(kind: DriverErrorKind, message: string, context: AntminerWebErrorContext, options?: { cause?: unknown }) {
    const status = context.httpStatus === undefined ? '' : ` (HTTP ${context.httpStatus})`;
    super(kind, `${message}${status}`, {
      host: context.host,
      port: context.port,
      command: context.endpoint,
      statusCode: context.httpStatus,
      statusMsg: context.firmwareCode ? `${context.firmwareCode}${context.firmwareMsg ? ` ${context.firmwareMsg}` : ''}` : undefined,
    }, options);
    this.endpoint = context.endpoint;
    this.httpStatus = context.httpStatus;
    this.firmwareCode = context.firmwareCode;
  }
}
