import { connect, type Socket } from 'node:net';
import { DriverError, type DriverErrorContext } from '@rigwarden/drivers-core';
import { CgminerParseError, decodeCgminerJson } from './cgminer-json.decoder';
import { parseCgminerText } from './cgminer-text.decoder';

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

/** The outcome of a multi-command: each part either replied or failed with its own typed error. */
export interface MultiReply {
  replies: Record<string, CgminerReply>;
  errors: Record<string, DriverError>;
  /** True when the firmware answered the joined request (cmd1+cmd2) in one connection. */
  joined: boolean;
  /** Parts the joined request did not answer (Code 45 for a non-joinable command) that were asked alone. */
  askedAlone: string[];
}

export interface MultiOptions extends RequestOptions {
  /** false: never try the joined form (the firmware is known not to join). */
  join?: boolean;
}

/** Kinds of failure after which the miner is still there and another request makes sense. */
const RETRYABLE_PART_KINDS = new Set(['unsupported', 'access_denied', 'miner_error', 'parse']);

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
    return this.requestJson(target, request, command, opts);
  }

  /**
   * Sends any JSON object (Whatsminer's {"cmd":...} form, encrypted envelopes) and
   * decodes the reply. `label` names the operation in errors.
   */
  async requestJson(target: CgminerTarget, request: string, label: string, opts: RequestOptions = {}): Promise<CgminerReply> {
    const raw = await this.exchange(target, request, label, opts);
    const reply = decodeReply(raw.toString('latin1'), { host: target.host, port: target.port, command: label });
    checkStatus(reply, { host: target.host, port: target.port, command: label });
    return reply;
  }

  /** Plain-text mode: sends `command|parameter` and parses the key=value reply into the JSON shape. */
  async commandText(target: CgminerTarget, command: string, parameter?: string, opts: RequestOptions = {}): Promise<CgminerReply> {
    const request = parameter === undefined ? command : `${command}|${parameter}`;
    const raw = await this.exchange(target, request, command, opts);
    const context: DriverErrorContext = { host: target.host, port: target.port, command };
    let reply: CgminerReply;
    try {
      reply = parseCgminerText(raw.toString('latin1')) as CgminerReply;
    } catch (err) {
      throw new DriverError('parse', (err as Error).message, context, { cause: err });
    }
    checkStatus(reply, context);
    return reply;
  }

  /**
   * Several read commands. Tries the joined form (summary+pools+stats) first; when
   * the firmware does not join (Code 14, cgminer 2.x) or one part fails, asks for
   * the missing parts one per connection. Errors that mean the miner is gone
   * (timeout, unreachable, refused) are thrown; per-command failures are returned.
   */
  async commands(target: CgminerTarget, commands: readonly string[], opts: MultiOptions = {}): Promise<MultiReply> {
    const result: MultiReply = { replies: {}, errors: {}, joined: false, askedAlone: [] };
    let pending = [...commands];
    if (commands.length > 1 && opts.join !== false) {
      const label = commands.join('+');
      try {
        const joined = await this.command(target, label, undefined, opts);
        const retry: string[] = [];
        for (const cmd of commands) {
          const part = joined[cmd];
          const first = Array.isArray(part) ? part[0] : undefined;
          if (!first || typeof first !== 'object' || Array.isArray(first)) {
            retry.push(cmd);
            continue;
          }
          try {
            checkStatus(first as CgminerReply, { host: target.host, port: target.port, command: cmd });
            result.replies[cmd] = first as CgminerReply;
            result.joined = true;
          } catch (err) {
            if (!(err instanceof DriverError)) throw err;
            retry.push(cmd); // e.g. Code 45 for a non-joinable command: ask alone
          }
        }
        pending = retry;
        result.askedAlone = retry;
      } catch (err) {
        if (!(err instanceof DriverError) || !RETRYABLE_PART_KINDS.has(err.kind)) throw err;
      }
    }
    for (const cmd of pending) {
      try {
        result.replies[cmd] = await this.command(target, cmd, undefined, opts);
      } catch (err) {
        if (!(err instanceof DriverError) || !RETRYABLE_PART_KINDS.has(err.kind)) throw err;
        result.errors[cmd] = err;
      }
    }
    return result;
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
      const depth = new JsonDepthTracker();
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
        depth.feed(part);
        if (nul >= 0) {
          finish(undefined, Buffer.concat(chunks));
        } else if (chunk[chunk.length - 1] === 0x0a && (depth.closed || looksLikeCompleteText(chunks))) {
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

/** A plain-text reply ends with "|" (a NUL-less fork then sends "\n" and keeps the socket open). */
function looksLikeCompleteText(chunks: Buffer[]): boolean {
  const first = chunks[0];
  if (!first || first.subarray(0, 7).toString('latin1') !== 'STATUS=') return false;
  const last = chunks[chunks.length - 1]!.toString('latin1').trimEnd();
  return last.endsWith('|');
}

/**
 * Follows the bracket depth of a JSON reply as its bytes arrive, outside strings,
 * so a reply ended by "\n" on a socket kept open is known complete in O(n) even
 * when it is pretty-printed (many packets end with an inner "}\n").
 */
export class JsonDepthTracker {
  private depth = 0;
  private opened = false;
  private inString = false;
  private escaped = false;
  /** The top-level value has been opened and closed again. */
  closed = false;

  feed(bytes: Buffer): void {
    for (const byte of bytes) {
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === 0x5c) this.escaped = true; // backslash
        else if (byte === 0x22) this.inString = false;
        continue;
      }
      if (byte === 0x22) this.inString = true;
      else if (byte === 0x7b || byte === 0x5b) {
        this.depth++;
        this.opened = true;
        this.closed = false;
      } else if (byte === 0x7d || byte === 0x5d) {
        this.depth--;
        if (this.opened && this.depth <= 0) this.closed = true;
      }
    }
  }
}

/**
 * Decodes a JSON-mode reply into an object. A reply cut short is accepted only
 * when it was cut after its "id" (nothing but closing brackets missing); any
 * other truncation would silently drop data and is a parse error.
 */
export function decodeReply(text: string, context: DriverErrorContext): CgminerReply {
  let decoded;
  try {
    decoded = decodeCgminerJson(text);
  } catch (err) {
    const excerpt = err instanceof CgminerParseError ? err.excerpt : '';
    throw new DriverError('parse', `${(err as Error).message} (near ${JSON.stringify(excerpt.slice(0, 80))})`, context, { cause: err });
  }
  const reply = decoded.value;
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
    throw new DriverError('parse', `reply is ${reply === null ? 'null' : Array.isArray(reply) ? 'an array' : typeof reply}, expected an object`, context);
  }
  if (decoded.repairs.includes('unclosed') && !('id' in reply)) {
    throw new DriverError('parse', `reply truncated (${text.length} bytes, no closing brackets)`, context);
  }
  return reply as CgminerReply;
}

/** The miner's status entries, whatever shape they came in. */
export function statusEntries(reply: CgminerReply): CgminerStatus[] {
  const status = reply.STATUS;
  if (Array.isArray(status)) return status.filter((s): s is CgminerStatus => s !== null && typeof s === 'object');
  if (status && typeof status === 'object') return [status];
  if (typeof status === 'string') return [{ STATUS: status, ...(typeof reply.Code === 'number' ? { Code: reply.Code } : {}), ...(typeof reply.Msg === 'string' ? { Msg: reply.Msg } : {}), ...(typeof reply.Description === 'string' ? { Description: reply.Description } : {}) }];
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
