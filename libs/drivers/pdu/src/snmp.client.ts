import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { BerError } from './ber.codec';
import { PduError, type PduErrorContext } from './pdu-error';
import {
  decodeSnmpMessage,
  encodeSnmpMessage,
  errorStatusName,
  type SnmpMessage,
  type SnmpPduType,
  type SnmpValue,
  type SnmpVarbind,
  type SnmpVersion,
} from './snmp-message.codec';

export const DEFAULT_SNMP_PORT = 161;

export interface SnmpTarget {
  host: string;
  port: number;
  community: string;
  version: SnmpVersion;
}

export interface SnmpClientOptions {
  /** How long to wait for a reply to one try (default 1000 ms). */
  timeoutMs?: number;
  /** Tries after the first (default 2: three datagrams in all, as net-snmp's default -r 5 is too patient for an agent). */
  retries?: number;
  /** Request-id source; random 31-bit by default. Injected by tests to check id matching. */
  nextRequestId?: () => number;
  /** Datagrams larger than this are ignored (default 65507, the UDP maximum). */
  maxReplyBytes?: number;
}

export interface SnmpRequestOptions {
  signal?: AbortSignal;
  /** Overrides the client's retries for this request; SETs that are not idempotent pass 0. */
  retries?: number;
  timeoutMs?: number;
  /** Merged into every error's context (outlet, operation). */
  context?: Partial<Pick<PduErrorContext, 'outlet' | 'operation'>>;
}

/** What happened to each datagram that arrived during a request, for diagnostics. */
export interface SnmpExchangeStats {
  sent: number;
  /** Replies with another request-id (late replies to an earlier request, or spoofed). */
  staleReplies: number;
  /** Datagrams that were not SNMP, or not a response, or another version. */
  ignoredDatagrams: number;
}

const DEFAULTS = { timeoutMs: 1000, retries: 2, maxReplyBytes: 65_507 };
const MAX_REQUEST_ID = 0x7fff_ffff;

/**
 * SNMP v1/v2c GET and SET over UDP. One socket per request, connected to the
 * target so the kernel drops datagrams from anyone else; every try waits at most
 * `timeoutMs`, so a request takes at most timeoutMs * (retries + 1). Retries
 * resend the same datagram with the same request-id, so a late reply to an
 * earlier try still completes the request (RFC 3416 lets an agent answer a
 * retransmission twice; the second answer is then ignored with the socket).
 *
 * Errors are PduErrors: `timeout` (no matching reply: wrong community, SNMP
 * disabled, host down, all alike on the wire), `unreachable` (ICMP port
 * unreachable, no route), `no_such_object` (v1 noSuchName, v2c exceptions),
 * `snmp_error` (any other error-status, named) and `unexpected_reply`.
 */
export class SnmpClient {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxReplyBytes: number;
  private readonly nextRequestId: () => number;
  /** Counters of the last request, for tests and probes. */
  lastExchange: SnmpExchangeStats = { sent: 0, staleReplies: 0, ignoredDatagrams: 0 };

  constructor(options: SnmpClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.retries = options.retries ?? DEFAULTS.retries;
    this.maxReplyBytes = options.maxReplyBytes ?? DEFAULTS.maxReplyBytes;
    checkTiming(this.timeoutMs, this.retries);
    let next = randomInt(1, MAX_REQUEST_ID);
    this.nextRequestId = options.nextRequestId ?? (() => (next = next >= MAX_REQUEST_ID ? 1 : next + 1));
  }

  /** GET: the values in the order asked. A missing object is a `no_such_object` error naming its OID. */
  async get(target: SnmpTarget, oids: readonly string[], options: SnmpRequestOptions = {}): Promise<SnmpVarbind[]> {
    const request = oids.map((oid): SnmpVarbind => ({ oid, value: { type: 'null' } }));
    return this.request(target, 'get', request, options);
  }

  /** GETNEXT: for each OID, the next object in the agent's MIB and its value (v2c: endOfMibView at the end). */
  async getNext(target: SnmpTarget, oids: readonly string[], options: SnmpRequestOptions = {}): Promise<SnmpVarbind[]> {
    const request = oids.map((oid): SnmpVarbind => ({ oid, value: { type: 'null' } }));
    return this.request(target, 'getNext', request, options);
  }

  /**
   * Every object under `root`, in order, one GETNEXT per row (v1 has no GETBULK).
   * Bounded: at most `maxRows` rows (default 1000), each request bounded as usual;
   * an agent that does not move forward is an unexpected_reply.
   */
  async walk(target: SnmpTarget, root: string, options: SnmpRequestOptions & { maxRows?: number } = {}): Promise<SnmpVarbind[]> {
    const prefix = `${root.replace(/^\./, '')}.`;
    const maxRows = options.maxRows ?? 1000;
    const rows: SnmpVarbind[] = [];
    let current = prefix.slice(0, -1);
    while (rows.length < maxRows) {
      let next: SnmpVarbind | undefined;
      try {
        [next] = await this.getNext(target, [current], options);
      } catch (err) {
        // v1 agents end a walk at the end of their MIB with noSuchName.
        if (err instanceof PduError && err.kind === 'no_such_object' && target.version === '1') break;
        throw err;
      }
      if (!next || next.value.type === 'endOfMibView' || !next.oid.startsWith(prefix)) break;
      if (compareOids(next.oid, current) <= 0) {
        throw new PduError('unexpected_reply', `GETNEXT after ${current} went back to ${next.oid}`, {
          host: target.host, port: target.port, operation: options.context?.operation ?? 'walk', oid: root,
        });
      }
      rows.push(next);
      current = next.oid;
    }
    return rows;
  }

  /** SET: the values the agent reports having set. */
  async set(target: SnmpTarget, varbinds: readonly SnmpVarbind[], options: SnmpRequestOptions = {}): Promise<SnmpVarbind[]> {
    return this.request(target, 'set', varbinds, options);
  }

  private async request(target: SnmpTarget, type: SnmpPduType, varbinds: readonly SnmpVarbind[], options: SnmpRequestOptions): Promise<SnmpVarbind[]> {
    const operation = options.context?.operation ?? type;
    const base: PduErrorContext = {
      host: target.host,
      port: target.port,
      operation,
      ...(options.context?.outlet !== undefined ? { outlet: options.context.outlet } : {}),
      ...(varbinds.length === 1 ? { oid: varbinds[0].oid } : {}),
    };
    if (varbinds.length === 0) throw new PduError('bad_input', 'no OID to ask for', base);
    const retries = options.retries ?? this.retries;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    checkTiming(timeoutMs, retries);
    const requestId = this.nextRequestId();
    let datagram: Buffer;
    try {
      datagram = encodeSnmpMessage({
        version: target.version,
        community: target.community,
        pdu: { type, requestId, errorStatus: 0, errorIndex: 0, varbinds: [...varbinds] },
      });
    } catch (err) {
      throw new PduError('bad_input', `cannot encode the request: ${(err as Error).message}`, base, { cause: err });
    }
    const reply = await this.exchange(target, datagram, requestId, retries, timeoutMs, base, options.signal);
    return this.checkReply(reply, type, varbinds, base);
  }

  private exchange(
    target: SnmpTarget,
    datagram: Buffer,
    requestId: number,
    retries: number,
    timeoutMs: number,
    context: PduErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<SnmpMessage> {
    const stats: SnmpExchangeStats = { sent: 0, staleReplies: 0, ignoredDatagrams: 0 };
    this.lastExchange = stats;
    if (signal?.aborted) return Promise.reject(new PduError('aborted', 'aborted before sending', context, { cause: signal.reason }));
    const socket: Socket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
    return new Promise<SnmpMessage>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (err: PduError | undefined, reply?: SnmpMessage): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('message');
        socket.on('error', () => undefined); // late ICMP errors after we are done
        try {
          socket.close();
        } catch {
          // already closed
        }
        if (err) reject(err);
        else resolve(reply as SnmpMessage);
      };
      const onAbort = (): void => finish(new PduError('aborted', `aborted after ${stats.sent} tries`, { ...context, attempts: stats.sent }, { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('error', (err: NodeJS.ErrnoException) => finish(socketError(err, context, stats.sent)));
      socket.on('message', (message: Buffer) => {
        if (message.length > this.maxReplyBytes) {
          stats.ignoredDatagrams++;
          return;
        }
        let decoded: SnmpMessage;
        try {
          decoded = decodeSnmpMessage(message);
        } catch (err) {
          if (!(err instanceof BerError) && !(err instanceof RangeError)) throw err;
          stats.ignoredDatagrams++;
          return;
        }
        if (decoded.pdu.type !== 'response' || decoded.version !== target.version) {
          stats.ignoredDatagrams++;
          return;
        }
        if (decoded.pdu.requestId !== requestId) {
          stats.staleReplies++;
          return;
        }
        finish(undefined, decoded);
      });

      const send = (): void => {
        if (settled) return;
        stats.sent++;
        socket.send(datagram, (err) => {
          if (err) finish(socketError(err as NodeJS.ErrnoException, context, stats.sent));
        });
        timer = setTimeout(() => {
          if (stats.sent <= retries) send();
          else finish(new PduError('timeout', timeoutMessage(stats, timeoutMs), { ...context, attempts: stats.sent }));
        }, timeoutMs);
      };
      // Name resolution counts against the first try, so a hanging resolver cannot stall the request.
      timer = setTimeout(
        () => finish(new PduError('timeout', `the host name did not resolve within ${timeoutMs} ms`, { ...context, attempts: 0 })),
        timeoutMs,
      );
      try {
        socket.connect(target.port, target.host, () => {
          clearTimeout(timer);
          send();
        });
      } catch (err) {
        finish(new PduError('bad_input', `cannot address ${target.host}:${target.port}: ${(err as Error).message}`, context, { cause: err }));
      }
    });
  }

  private checkReply(reply: SnmpMessage, type: SnmpPduType, request: readonly SnmpVarbind[], base: PduErrorContext): SnmpVarbind[] {
    const { pdu } = reply;
    if (pdu.errorStatus !== 0) {
      const index = pdu.errorIndex;
      const oid = (index > 0 ? (pdu.varbinds[index - 1]?.oid ?? request[index - 1]?.oid) : undefined) ?? base.oid;
      const status = errorStatusName(pdu.errorStatus);
      const context: PduErrorContext = {
        ...base,
        ...(oid ? { oid } : {}),
        errorStatus: status,
        errorStatusCode: pdu.errorStatus,
        errorIndex: index,
      };
      const kind = pdu.errorStatus === 2 ? 'no_such_object' : 'snmp_error';
      throw new PduError(kind, `the agent answered ${status} (error-status ${pdu.errorStatus}, index ${index})${hintFor(pdu.errorStatus, type)}`, context);
    }
    if (pdu.varbinds.length !== request.length) {
      throw new PduError('unexpected_reply', `the agent answered ${pdu.varbinds.length} values for ${request.length} asked`, base);
    }
    if (type === 'getNext') return pdu.varbinds; // other OIDs by design; endOfMibView is the walk's end, not an error
    pdu.varbinds.forEach((vb, i) => {
      const asked = request[i].oid.replace(/^\./, '');
      if (vb.oid !== asked) {
        throw new PduError('unexpected_reply', `value ${i + 1} is for ${vb.oid}, not the OID asked`, { ...base, oid: asked });
      }
      if (isException(vb.value)) {
        throw new PduError('no_such_object', `the agent answered ${vb.value.type}`, { ...base, oid: asked, errorStatus: vb.value.type });
      }
    });
    return pdu.varbinds;
  }
}

/** Numeric OID order (1.3.6.1.10 after 1.3.6.1.9). */
export function compareOids(a: string, b: string): number {
  const x = a.replace(/^\./, '').split('.').map(Number);
  const y = b.replace(/^\./, '').split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function isException(value: SnmpValue): value is { type: 'noSuchObject' | 'noSuchInstance' | 'endOfMibView' } {
  return value.type === 'noSuchObject' || value.type === 'noSuchInstance' || value.type === 'endOfMibView';
}

function hintFor(errorStatus: number, type: SnmpPduType): string {
  switch (errorStatus) {
    case 2:
      return type === 'set' ? ': no such object, or (SNMP v1) the community may not write it' : ': no such object';
    case 4:
    case 6:
    case 17:
      return ': is the community a read-write (write) community?';
    case 3:
    case 7:
    case 10:
      return ': the agent refused the value';
    default:
      return '';
  }
}

function timeoutMessage(stats: SnmpExchangeStats, timeoutMs: number): string {
  const extra = [
    stats.staleReplies ? `${stats.staleReplies} replies with another request-id ignored` : '',
    stats.ignoredDatagrams ? `${stats.ignoredDatagrams} datagrams that were not a matching response ignored` : '',
  ].filter(Boolean);
  return (
    `no reply after ${stats.sent} ${stats.sent === 1 ? 'try' : 'tries'} of ${timeoutMs} ms` +
    `${extra.length ? ` (${extra.join('; ')})` : ''}: wrong community, wrong SNMP version, SNMP disabled or host down`
  );
}

function socketError(err: NodeJS.ErrnoException, context: PduErrorContext, attempts: number): PduError {
  const what =
    err.code === 'ECONNREFUSED'
      ? 'ICMP port unreachable: no SNMP agent listens on this port'
      : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : `cannot send: ${err.code ?? err.message}`;
  return new PduError('unreachable', what, { ...context, attempts }, { cause: err });
}

function checkTiming(timeoutMs: number, retries: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new RangeError(`timeoutMs must be an integer from 1 to 60000, got ${timeoutMs}`);
  if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new RangeError(`retries must be an integer from 0 to 10, got ${retries}`);
}
