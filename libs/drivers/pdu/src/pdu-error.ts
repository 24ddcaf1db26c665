/**
 * The PDU lib's error family. Every failure names the PDU (host:port), the
 * operation and, when known, the outlet, the OID and the agent's error-status.
 * Community strings are credentials: they never appear in a message.
 */
export type PduErrorKind =
  | 'bad_config'      // refused at construction: the message names the key path
  | 'bad_input'       // refused before sending: outlet out of range, bad state, bad offMs
  | 'timeout'         // no matching reply after every try (wrong community, SNMP off, host down)
  | 'unreachable'     // the OS refused to send or reported the port closed
  | 'no_such_object'  // v1 noSuchName, v2c noSuchObject / noSuchInstance / endOfMibView
  | 'snmp_error'      // any other error-status: readOnly, noAccess, badValue, wrongValue, genErr...
  | 'unexpected_reply' // a reply we could decode but not use (wrong type, unknown outlet state)
  | 'verify_failed'   // the PDU accepted the command but the read-back never showed the wanted state
  | 'busy'            // another command for the same outlet is in progress
  | 'aborted';

export interface PduErrorContext {
  host: string;
  port: number;
  /** What was being done: "get", "set", "outlet state", "set outlet on", "power-cycle". */
  operation: string;
  outlet?: number;
  oid?: string;
  /** The agent's error-status name (noAccess) or v2c exception (noSuchInstance). */
  errorStatus?: string;
  /** The numeric error-status, when the agent sent one. */
  errorStatusCode?: number;
  /** 1-based index of the varbind the error-status is about. */
  errorIndex?: number;
  /** For bad_config: the key path, e.g. "pdu.community". */
  field?: string;
  /** When a power-cycle failed half-way: the state the outlet was left in, as last read or commanded. */
  outletLeft?: 'on' | 'off' | 'unknown';
  /** Requests sent before giving up (timeouts). */
  attempts?: number;
}

export class PduError extends Error {
  override readonly name = 'PduError';
  constructor(
    readonly kind: PduErrorKind,
    /** The message without the "host:port outlet operation OID:" prefix. */
    readonly detail: string,
    readonly context: PduErrorContext,
    options?: { cause?: unknown },
  ) {
    super(`${formatWhere(context)}: ${detail}`, options);
  }
}

function formatWhere(context: PduErrorContext): string {
  const outlet = context.outlet !== undefined ? ` outlet ${context.outlet}` : '';
  const oid = context.oid ? ` ${context.oid}` : '';
  const where = context.host ? `${context.host}:${context.port}${outlet} ` : outlet ? `${outlet.trim()} ` : '';
  return `${where}${context.operation}${oid}`;
}

export function isPduError(err: unknown): err is PduError {
  return err instanceof PduError;
}
