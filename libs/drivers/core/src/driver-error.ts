/**
 * The drivers' error family. Every failure says which miner, which command and,
 * when the miner sent one, its cgminer STATUS letter, Code and Msg.
 */
export type DriverErrorKind =
  | 'unreachable'     // connect refused, host down, DNS
  | 'timeout'         // connect or total deadline passed
  | 'connection_refused_by_api' // closed with zero bytes: our address is not in --api-allow
  | 'access_denied'   // cgminer Code 45: read-only API or a stock firmware lock
  | 'miner_error'     // STATUS E/F with another code
  | 'parse'           // a reply we could not decode
  | 'reply_too_large'
  | 'bad_request'     // refused before sending (request too long, bad parameter)
  | 'unsupported'     // the driver or firmware cannot do this
  | 'aborted';

export interface DriverErrorContext {
  host: string;
  port: number;
  command?: string;
  /** cgminer STATUS letter: S, I, W, E or F. */
  statusLetter?: string;
  statusCode?: number;
  statusMsg?: string;
}

export class DriverError extends Error {
  override readonly name = 'DriverError';
  constructor(
    readonly kind: DriverErrorKind,
    message: string,
    readonly context: DriverErrorContext,
    options?: { cause?: unknown },
  ) {
    super(`${context.host}:${context.port}${context.command ? ` ${context.command}` : ''}: ${message}`, options);
  }
}

/** What putting the previous state back after a failed write achieved. */
export interface RestoreOutcome {
  /** "not-needed": nothing had changed; "restored": the previous state is back (verified); "partial" / "failed": not. */
  result: 'not-needed' | 'restored' | 'partial' | 'failed';
  message: string;
}

/**
 * A multi-step write (set-pools) that failed: the step that failed, with the miner's STATUS/Code in `context`, and
 * what restoring the previous state achieved. The message names both, so an operator reads the whole story.
 */
export class WriteTransactionError extends DriverError {
  constructor(
    readonly failure: DriverError,
    readonly restore: RestoreOutcome,
  ) {
    super(failure.kind, `${stripPrefix(failure)}; ${restore.message}`, failure.context, { cause: failure });
  }
}

/** The failure's message without the "host:port command: " its constructor put in front. */
function stripPrefix(err: DriverError): string {
  const prefix = `${err.context.host}:${err.context.port}${err.context.command ? ` ${err.context.command}` : ''}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}
