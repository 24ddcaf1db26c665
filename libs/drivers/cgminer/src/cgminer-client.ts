import { connect, type Socket } from 'node:net';
import { DriverError, type DriverErrorContext } from '@rigwarden/drivers-core';
import { CgminerParseError, parseCgminerJson } from './cgminer-json';

/** cgminer reads a request with one recv() into a buffer of this size. */
export const MAX_REQUEST_BYTES = 4095;

export interface CgminerClientOptions {
  /** Deadline for the TCP handshake. */
  connectTimeoutMs?: number;
  /** Deadline for the whole exchange, connect included. */
  totalTimeoutMs?: number;
  /** Replies larger than this are refused (a confused device can stream forever). */
  maxReplyBytes?: number;
}

export interface CgminerTarget {
  host: string;
  port: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** A cgminer STATUS entry, as found in every reply. */
export interface CgminerStatus {
  STATUS: string;
  Code?: number;
  Msg?: string;
  Description?: string;
  When?: number;
}

export type CgminerReply = Record<string, unknown> & { STATUS?: CgminerStatus[] | CgminerStatus | string };

const DEFAULTS: Required<CgminerClientOptions> = {
  connectTimeoutMs: 3_000,
  totalTimeoutMs: 10_000,
  maxReplyBytes: 4 * 1024 * 1024,
};

/**
 * One TCP connection per request, the whole request in one write, the reply read
 * until a NUL byte, EOF or the deadline. Errors are DriverErrors with the host,
 * the command and, where the miner sent one, its STATUS letter, Code and Msg.
 */
export class CgminerClient {
  private readonly options: Required<CgminerClientOptions>;

  constructor(options: CgminerClientOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Sends a JSON-mode command and returns the decoded reply after checking its STATUS. */
  async command(target: CgminerTarget, command: string, parameter?: string, opts: RequestOptions = {}): Promise<CgminerReply> {
    const request = JSON.stringify(parameter === undefined ? { command } : { command, parameter });
    const raw = await this.exchange(target, request, command, opts);
    const context: DriverErrorContext = { host: target.host, port: target.port, command };
    let reply: unknown;
    try {
      reply = parseCgminerJson(raw.toString('latin1'));
    } catch (err) {
      const excerpt = err instanceof CgminerParseError ? err.excerpt : '';
      throw new DriverError('parse', `${(err as Error).message} (reply starts ${JSON.stringify(excerpt.slice(0, 80))})`, context, { cause: err });
    }
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
      throw new DriverError('parse', `reply is ${Array.isArray(reply) ? 'an array' : typeof reply}, expected an object`, context);
    }
    checkStatus(reply as CgminerReply, context);
    return reply as CgminerReply;
  }

  /** Sends raw bytes and returns the raw reply without its terminating NUL. */
  exchange(target: CgminerTarget, request: string, command: string, opts: RequestOptions = {}): Promise<Buffer> {
    const context: DriverErrorContext = { host: target.host, port: target.port, command };
    const payload = Buffer.from(request, 'utf8');
    if (payload.length === 0) {
      return Promise.reject(new DriverError('bad_request', 'empty request: cgminer would never answer it', context));
    }
    if (payload.length > MAX_REQUEST_BYTES) {
      return Promise.reject(new DriverError('bad_request',
        `request is ${payload.length} bytes; cgminer reads at most ${MAX_REQUEST_BYTES} bytes per request`, context));
    }
    const { connectTimeoutMs, totalTimeoutMs, maxReplyBytes } = this.options;

    if (opts.signal?.aborted) {
      return Promise.reject(new DriverError('aborted', 'request aborted by the caller', context));
    }

    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const socket: Socket = connect({ host: target.host, port: target.port });

      const finish = (err: DriverError | undefined, value?: Buffer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (err) reject(err);
        else resolve(value!);
      };
      const onAbort = (): void => finish(new DriverError('aborted', 'request aborted by the caller', context));

      const connectTimer = setTimeout(
        () => finish(new DriverError('timeout', `no TCP connection within ${connectTimeoutMs} ms`, context)),
        connectTimeoutMs,
      );
      const totalTimer = setTimeout(
        () => finish(new DriverError('timeout', received > 0
          ? `reply incomplete after ${totalTimeoutMs} ms (${received} bytes, no NUL terminator)`
          : `no reply within ${totalTimeoutMs} ms`, context)),
        totalTimeoutMs,
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });

      socket.setNoDelay(true);
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        socket.write(payload);
      });
      socket.on('data', (chunk: Buffer) => {
        const nul = chunk.indexOf(0);
        const part = nul >= 0 ? chunk.subarray(0, nul) : chunk;
        received += part.length;
        if (received > maxReplyBytes) {
          finish(new DriverError('reply_too_large', `reply exceeds ${maxReplyBytes} bytes`, context));
          return;
        }
        chunks.push(part);
        if (nul >= 0) {
          finish(undefined, Buffer.concat(chunks));
        } else if (chunk[chunk.length - 1] === 0x0a && looksComplete(chunks)) {
          // Some forks end a reply with "\n" and keep the socket open.
          finish(undefined, Buffer.concat(chunks));
        }
      });
      socket.once('end', () => {
        if (received === 0) {
          finish(new DriverError('connection_refused_by_api',
            'connection closed without a reply: is this host allowed by the miner\'s --api-allow?', context));
        } else {
          finish(undefined, Buffer.concat(chunks));
        }
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
          if (received === 0) {
            finish(new DriverError('connection_refused_by_api',
              'connection reset without a reply: is this host allowed by the miner\'s --api-allow?', context, { cause: err }));
          } else {
            finish(undefined, Buffer.concat(chunks));
          }
          return;
        }
        finish(new DriverError('unreachable', `cannot connect (${err.code ?? err.message})`, context, { cause: err }));
      });
    });
  }
}

function looksComplete(chunks: Buffer[]): boolean {
  const text = Buffer.concat(chunks).toString('latin1').trimEnd();
  if (!text.endsWith('}') && !text.endsWith('|')) return false;
  if (text.endsWith('|')) return true;
  try {
    parseCgminerJson(text);
    return true;
  } catch {
    return false;
  }
}

/** The miner's status entries, whatever shape they came in. */
export function statusEntries(reply: CgminerReply): CgminerStatus[] {
  const status = reply.STATUS;
  if (Array.isArray(status)) return status.filter((s): s is CgminerStatus => s !== null && typeof s === 'object');
  if (status && typeof status === 'object') return [status];
  if (typeof status === 'string') return [{ STATUS: status }];
  return [];
}

export function checkStatus(reply: CgminerReply, context: DriverErrorContext): void {
  for (const entry of statusEntries(reply)) {
    const letter = String(entry.STATUS ?? '');
    if (letter !== 'E' && letter !== 'F') continue;
    const code = typeof entry.Code === 'number' ? entry.Code : undefined;
    const msg = typeof entry.Msg === 'string' ? entry.Msg : 'error';
    const full: DriverErrorContext = { ...context, statusLetter: letter, statusCode: code, statusMsg: msg };
    if (code === 45) {
      throw new DriverError('access_denied',
        `${msg} (Code 45): the API is read-only for this host; enable write access (--api-allow W:<agent address>)`, full);
    }
    if (code === 14) {
      throw new DriverError('unsupported', `${msg} (Code 14): this firmware does not know the command`, full);
    }
    throw new DriverError('miner_error', `${msg} (STATUS ${letter}, Code ${code ?? '?'})`, full);
  }
}
