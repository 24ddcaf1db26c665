import { request, type IncomingMessage } from 'node:http';
import { DriverError, type DriverErrorContext } from '@rigwarden/drivers-core';

export interface HttpJsonClientOptions {
  /** Deadline for the whole exchange, connect included. */
  timeoutMs?: number;
  /** Bodies larger than this are refused. */
  maxBodyBytes?: number;
}

export interface HttpTarget {
  host: string;
  port: number;
}

export interface GetOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Statuses returned to the caller instead of thrown (e.g. 401 to trigger a login). */
  acceptStatuses?: readonly number[];
}

export interface HttpJsonReply {
  status: number;
  body: unknown;
}

const DEFAULTS: Required<HttpJsonClientOptions> = { timeoutMs: 5_000, maxBodyBytes: 2 * 1024 * 1024 };

/**
 * GET a JSON document from a miner's HTTP API over node:http. Every failure is a
 * DriverError naming host, port and path: unreachable, timeout (the miner accepted
 * and never answered: a hung API), access_denied (401/403), miner_error (other
 * non-2xx), parse, reply_too_large, aborted.
 */
export class HttpJsonClient {
  private readonly options: Required<HttpJsonClientOptions>;

  constructor(options: HttpJsonClientOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  async get(target: HttpTarget, path: string, opts: GetOptions = {}): Promise<HttpJsonReply> {
    const context: DriverErrorContext = { host: target.host, port: target.port, command: `GET ${redactQuery(path)}` };
    const { status, text } = await this.fetchText(target, path, context, opts);
    if (status === 401 || status === 403) {
      if (opts.acceptStatuses?.includes(status)) return { status, body: safeParse(text) };
      throw new DriverError('access_denied', `HTTP ${status}: the miner wants credentials (API password or bearer token)`, context);
    }
    if (status < 200 || status >= 300) {
      if (opts.acceptStatuses?.includes(status)) return { status, body: safeParse(text) };
      throw new DriverError('miner_error', `HTTP ${status}${text ? `: ${text.trim().slice(0, 120)}` : ''}`, context);
    }
    try {
      return { status, body: JSON.parse(text) };
    } catch (err) {
      throw new DriverError('parse', `reply is not JSON: ${(err as Error).message} (starts ${JSON.stringify(text.trim().slice(0, 80))})`, context, { cause: err });
    }
  }

  private fetchText(target: HttpTarget, path: string, context: DriverErrorContext, opts: GetOptions): Promise<{ status: number; text: string }> {
    const { timeoutMs, maxBodyBytes } = this.options;
    if (opts.signal?.aborted) return Promise.reject(new DriverError('aborted', 'request aborted by the caller', context));
    return new Promise((resolve, reject) => {
      let settled = false;
      let gotResponse = false;
      const finish = (err: DriverError | undefined, value?: { status: number; text: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve(value!);
      };
      const onAbort = (): void => finish(new DriverError('aborted', 'request aborted by the caller', context));
      const timer = setTimeout(() => finish(new DriverError('timeout', gotResponse
        ? `reply body incomplete after ${timeoutMs} ms`
        : `no reply within ${timeoutMs} ms (API hung?)`, context)), timeoutMs);

      const req = request({
        host: target.host, port: target.port, path, method: 'GET', agent: false,
        headers: { accept: 'application/json', connection: 'close', ...opts.headers },
      }, (res: IncomingMessage) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            finish(new DriverError('reply_too_large', `reply exceeds ${maxBodyBytes} bytes`, context));
            return;
          }
          chunks.push(chunk);
        });
        res.once('end', () => finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', (err) => finish(new DriverError('unreachable', `connection lost mid-reply (${err.message})`, context, { cause: err })));
      });
      req.once('error', (err: NodeJS.ErrnoException) => {
        finish(new DriverError('unreachable', `cannot reach the miner API (${err.code ?? err.message})`, context, { cause: err }));
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Never log secrets: drop query values named like credentials. */
export function redactQuery(path: string): string {
  return path.replace(/([?&](?:password|sid|token)=)[^&]*/gi, '$1***');
}
