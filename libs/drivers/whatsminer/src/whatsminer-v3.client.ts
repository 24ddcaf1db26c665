import { connect, type Socket } from 'node:net';
import type { MinerEndpoint } from '@rigwarden/drivers-core';
import { ENCRYPTED_PARAM_COMMANDS, encryptV3Param, v3Signature } from './whatsminer-v3.crypto';
import { V3_CODE, WhatsminerV3Error, kindForCode } from './whatsminer-v3.error';
import { FrameReader, MAX_FRAME_BYTES, encodeFrame } from './whatsminer-v3.framing';

/** A decoded v3 reply: `{"code":0,"desc":"get.device.info","msg":{...},"when":1773869570}`. */
export interface V3Reply {
  code: number;
  desc: string;
  msg: unknown;
  when?: number;
}

export interface V3RequestOptions {
  signal?: AbortSignal;
}

export interface V3Credentials {
  /** The API account: "super" on the firmware seen (the only one allowed to write). */
  account: string;
  password: string;
}

export interface WhatsminerV3ClientOptions {
  /** Upper bound for one request (connect, send, whole reply) whatever the caller's signal says. */
  requestTimeoutMs?: number;
  maxReplyBytes?: number;
  /** Wall clock for the `ts` of writes (the firmware compares it with its own). */
  now?: () => number;
}

/**
 * One v3 request per TCP connection (as asic-rs and miningos do): connect to 4433, send one frame, read one frame,
 * close. Writes (`set.*`) carry the account, a unix `ts` and the token derived from the password and the salt,
 * which is fetched once (get.device.info "salt") and fetched again when the miner refuses a token.
 */
export class WhatsminerV3Client {
  private readonly salts = new Map<string, string>();
  private readonly requestTimeoutMs: number;
  private readonly maxReplyBytes: number;
  private readonly now: () => number;

  constructor(options: WhatsminerV3ClientOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxReplyBytes = options.maxReplyBytes ?? MAX_FRAME_BYTES;
    this.now = options.now ?? (() => Date.now());
  }

  /** A read (`get.*`): no authentication. Throws WhatsminerV3Error on a non-zero code. */
  async read(endpoint: MinerEndpoint, cmd: string, param?: unknown, options: V3RequestOptions = {}): Promise<V3Reply> {
    const reply = await this.exchange(endpoint, cmd, param === undefined ? { cmd } : { cmd, param }, options);
    return checked(endpoint, cmd, reply);
  }

  /**
   * A write (`set.*`), signed with the password. A refused token (code -4) is retried once with a fresh salt;
   * refused again, it is `access_denied` naming the likely cause.
   */
  async write(endpoint: MinerEndpoint, cmd: string, param: unknown, credentials: V3Credentials, options: V3RequestOptions = {}): Promise<V3Reply> {
    const key = `${endpoint.host}:${endpoint.port}`;
    for (let attempt = 0; ; attempt++) {
      const salt = await this.salt(endpoint, options);
      const ts = Math.floor(this.now() / 1000);
      const { token, aesKey } = v3Signature(cmd, credentials.password, salt, ts);
      const body: Record<string, unknown> = { cmd, ts, token, account: credentials.account };
      if (param !== undefined) body['param'] = ENCRYPTED_PARAM_COMMANDS.has(cmd) ? encryptV3Param(aesKey, JSON.stringify(param)) : param;
      const reply = await this.exchange(endpoint, cmd, body, options);
      if (reply.code !== V3_CODE.accessDenied) return checked(endpoint, cmd, reply);
      this.salts.delete(key);
      if (attempt >= 1) {
        throw new WhatsminerV3Error('access_denied',
          `the miner refused our token after a fresh salt (code ${reply.code}: ${messageOf(reply)}): wrong password for account "${credentials.account}"?`,
          { host: endpoint.host, port: endpoint.port, command: cmd, minerCode: reply.code, minerMessage: messageOf(reply) });
      }
    }
  }

  /** Forgets the cached salt (after a reboot the firmware may have a new one). */
  forgetSalt(endpoint: MinerEndpoint): void {
    this.salts.delete(`${endpoint.host}:${endpoint.port}`);
  }

  private async salt(endpoint: MinerEndpoint, options: V3RequestOptions): Promise<string> {
    const key = `${endpoint.host}:${endpoint.port}`;
    const cached = this.salts.get(key);
    if (cached !== undefined) return cached;
    const reply = await this.read(endpoint, 'get.device.info', 'salt', options);
    const salt = isRecord(reply.msg) ? reply.msg['salt'] : undefined;
    if (typeof salt !== 'string' || salt === '') {
      throw new WhatsminerV3Error('parse', 'get.device.info "salt" has no salt in its msg', { host: endpoint.host, port: endpoint.port, command: 'get.device.info' });
    }
    this.salts.set(key, salt);
    return salt;
  }

  /** Sends one frame and returns the decoded reply frame, whatever its code. */
  exchange(endpoint: MinerEndpoint, cmd: string, body: unknown, options: V3RequestOptions = {}): Promise<V3Reply> {
    const context = { host: endpoint.host, port: endpoint.port, command: cmd };
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    return new Promise<V3Reply>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(context, signal, timeout));
        return;
      }
      const reader = new FrameReader(this.maxReplyBytes);
      let connected = false;
      let settled = false;
      const socket: Socket = connect({ host: endpoint.host, port: endpoint.port });
      const finish = (err: Error | undefined, reply?: V3Reply): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        if (err) reject(err);
        else resolve(reply!);
      };
      const onAbort = (): void => finish(abortError(context, signal, timeout, connected));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('connect', () => {
        connected = true;
        socket.write(encodeFrame(body));
      });
      socket.on('data', (chunk: Buffer) => {
        const progress = reader.push(chunk);
        if (progress.state === 'too-large') {
          finish(new WhatsminerV3Error('reply_too_large', `the reply's length prefix says ${progress.want} bytes (limit ${this.maxReplyBytes}): not a v3 frame`, context));
        } else if (progress.state === 'complete') {
          try {
            finish(undefined, decodeReply(progress.body, context));
          } catch (err) {
            finish(err as Error);
          }
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const kind = !connected && ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(err.code ?? '') ? 'unreachable' : 'miner_error';
        finish(new WhatsminerV3Error(kind, `${connected ? 'connection failed' : 'cannot connect'}: ${err.message}`, context, { cause: err }));
      });
      socket.on('close', () => {
        const p = reader.progress();
        if (p.state !== 'incomplete') return;
        finish(p.have === 0 && p.want === undefined
          ? new WhatsminerV3Error('miner_error', 'the miner closed the connection without a reply', context)
          : new WhatsminerV3Error('parse', p.want === undefined
            ? `truncated frame: the connection closed after ${p.have} of the 4 length bytes`
            : `truncated frame: the connection closed after ${p.have} of ${p.want} bytes`, context));
      });
    });
  }
}

function abortError(context: { host: string; port: number; command: string }, signal: AbortSignal, timeout: AbortSignal, connected = false): WhatsminerV3Error {
  if (timeout.aborted || (signal.reason as Error | undefined)?.name === 'TimeoutError') {
    return new WhatsminerV3Error('timeout', connected ? 'no complete reply before the deadline' : 'connect timed out', context);
  }
  return new WhatsminerV3Error('aborted', 'aborted by the caller', context);
}

/** Parses one reply frame: JSON with a numeric `code`. */
export function decodeReply(body: Buffer, context: { host: string; port: number; command: string }): V3Reply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    const shown = body.toString('utf8', 0, Math.min(body.length, 40));
    throw new WhatsminerV3Error('parse', `the reply frame is not JSON (${(err as Error).message}; starts ${JSON.stringify(shown)})`, context, { cause: err });
  }
  if (!isRecord(parsed) || typeof parsed['code'] !== 'number') {
    throw new WhatsminerV3Error('parse', 'the reply has no numeric "code": not an API v3 reply', context);
  }
  return {
    code: parsed['code'],
    desc: typeof parsed['desc'] === 'string' ? parsed['desc'] : '',
    msg: parsed['msg'],
    ...(typeof parsed['when'] === 'number' ? { when: parsed['when'] } : {}),
  };
}

function checked(endpoint: MinerEndpoint, cmd: string, reply: V3Reply): V3Reply {
  if (reply.code === V3_CODE.ok) return reply;
  const message = messageOf(reply);
  throw new WhatsminerV3Error(kindForCode(reply.code), `the miner refused ${cmd}: code ${reply.code}, "${message}"`,
    { host: endpoint.host, port: endpoint.port, command: cmd, minerCode: reply.code, minerMessage: message });
}

function messageOf(reply: V3Reply): string {
  return typeof reply.msg === 'string' ? reply.msg : JSON.stringify(reply.msg ?? '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
