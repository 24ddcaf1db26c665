import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { AntminerWebError } from './antminer-web.error';
import { digestAuthorization, parseDigestChallenge, type DigestChallenge, type DigestCredentials } from './digest-auth';

export interface AntminerWebTarget extends DigestCredentials {
  host: string;
  /** The web server's port (80 on the miner). */
  port: number;
}

export interface WebRequest {
  method: 'GET' | 'POST';
  /** The CGI name, e.g. "get_miner_conf.cgi"; sent as /cgi-bin/<endpoint>. */
  endpoint: string;
  body?: string;
  contentType?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface WebResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Bodies beyond this are refused: the biggest real reply (S19 Pro+ stats with chip maps) is 18 kB. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

const NETWORK_UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTDOWN']);
/** The server closed the connection before answering: lighttpd does so after some digest challenges. */
const CLOSED_EARLY = new Set(['ECONNRESET', 'EPIPE']);

/**
 * HTTP with digest authentication to one miner's web server. The last challenge is kept and answered with a
 * growing nonce count, so a collect costs one round trip per endpoint; a 401 (new or stale nonce) is answered once
 * with the fresh challenge, and a second 401 is the wrong password. A connection closed right after a challenge is
 * retried once. Every failure is an AntminerWebError naming the host, the endpoint and the HTTP status.
 */
export class AntminerWebClient {
  private challenge: DigestChallenge | undefined;
  private nc = 0;

  constructor(private readonly target: AntminerWebTarget) {}

  async request(req: WebRequest): Promise<WebResponse> {
    const deadline = Date.now() + req.timeoutMs;
    let freshChallenge = false;
    let closedRetries = 0;
    for (;;) {
      const authorization = this.challenge ? this.authorize(req) : undefined;
      let res: WebResponse;
      try {
        res = await this.once(req, authorization, Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (err instanceof AntminerWebError && err.kind === 'unreachable' && (err.cause as { closedEarly?: boolean } | undefined)?.closedEarly
          && closedRetries === 0 && Date.now() < deadline) {
          closedRetries++;
          continue;
        }
        throw err;
      }
      if (res.status !== 401) return res;
      const challenge = parseDigestChallenge(firstHeader(res.headers['www-authenticate']));
      if (!challenge) {
        throw this.error('access_denied', 'the web server refused the request without a digest challenge', req, res.status);
      }
      if (freshChallenge || (authorization && !challenge.stale && challenge.nonce === this.challenge?.nonce)) {
        this.challenge = undefined;
        throw this.error('access_denied',
          `digest authentication failed for user "${this.target.user}" (realm "${challenge.realm}"): wrong web password? set user/password in the miner's options`,
          req, res.status);
      }
      this.challenge = challenge;
      this.nc = 0;
      freshChallenge = true;
    }
  }

  private authorize(req: WebRequest): string {
    this.nc++;
    return digestAuthorization(this.challenge!, this.target, { method: req.method, uri: pathOf(req.endpoint), nc: this.nc });
  }

  private once(req: WebRequest, authorization: string | undefined, timeoutMs: number): Promise<WebResponse> {
    return new Promise<WebResponse>((resolve, reject) => {
      if (req.signal?.aborted) {
        reject(this.error('aborted', 'aborted before sending', req));
        return;
      }
      const headers: Record<string, string | number> = { Connection: 'close', Accept: 'application/json, text/plain, */*' };
      if (authorization) headers['Authorization'] = authorization;
      if (req.body !== undefined) {
        headers['Content-Type'] = req.contentType ?? 'text/plain;charset=UTF-8';
        headers['Content-Length'] = Buffer.byteLength(req.body);
        headers['X-Requested-With'] = 'XMLHttpRequest';
      }
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const httpReq = httpRequest({ host: this.target.host, port: this.target.port, method: req.method, path: pathOf(req.endpoint), headers, agent: false });
      const timer = setTimeout(() => {
        finish(() => reject(this.error('timeout', `no complete reply within ${timeoutMs} ms`, req)));
        httpReq.destroy();
      }, timeoutMs);
      const onAbort = (): void => {
        finish(() => reject(this.error('aborted', 'aborted', req)));
        httpReq.destroy();
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      httpReq.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        const cause = Object.assign(err, { closedEarly: CLOSED_EARLY.has(code) || err.message === 'socket hang up' });
        const what = NETWORK_UNREACHABLE.has(code) ? 'cannot reach the web server' : 'the connection failed';
        finish(() => reject(this.error('unreachable', `${what}: ${err.message}`, req, undefined, cause)));
      });
      httpReq.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            finish(() => reject(this.error('reply_too_large', `reply larger than ${MAX_BODY_BYTES} bytes`, req, res.statusCode)));
            httpReq.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', (err) => finish(() => reject(this.error('unreachable', `reply cut off: ${err.message}`, req, res.statusCode, err))));
      });
      httpReq.end(req.body);
    });
  }

  private error(kind: AntminerWebError['kind'], message: string, req: WebRequest, httpStatus?: number, cause?: unknown): AntminerWebError {
    return new AntminerWebError(kind, message, { host: this.target.host, port: this.target.port, endpoint: req.endpoint, httpStatus }, { cause });
  }
}

export function pathOf(endpoint: string): string {
  return `/cgi-bin/${endpoint}`;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.find((v) => /^\s*digest/i.test(v)) ?? value[0] : value;
}
