import { Metadata, credentials, status as GrpcStatus, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { CollectContext } from '@rigwarden/drivers-core';
import type { LoginResponse } from './bos-messages';
import { BraiinsGrpcError, grpcFailure, isServiceError } from './braiins-grpc.error';
import { loadBosServices, type BosServices } from './braiins-proto.loader';

export type BosService = Exclude<keyof BosServices, 'AuthenticationService' | 'ApiVersionService'>;

export interface BraiinsGrpcClientOptions {
  host: string;
  port: number;
  /** Braiins OS+ ships with user root and an empty password. */
  username?: string;
  password?: string;
  /** Clock for the token's lifetime (tests move it). */
  now?: () => number;
  /** Log in again this long before the token would expire (default: a tenth of its lifetime, at most 60 s). */
  refreshMarginMs?: number;
  /** Folder with the bos-plus-api .proto files (default: found next to the sources or the bundle). */
  protoDir?: string;
}

/**
 * A miner that rebooted is back within minutes: reconnect at most 10 s apart (grpc-js backs off to 120 s by
 * default), and keep replies within 8 MiB (hashboard and pool replies are a few KiB).
 */
const CHANNEL_OPTIONS = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.max_reconnect_backoff_ms': 10_000,
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
});

type UnaryMethod = (request: unknown, metadata: Metadata, options: { deadline: Date }, callback: (err: ServiceError | null, value?: unknown) => void) => ClientUnaryCall;

/**
 * The bos-plus-api over @grpc/grpc-js: AuthenticationService/Login, then every call with the token in the metadata
 * `authorization`. The token is renewed before it expires (Login says how long it lives; each call extends it) and
 * once more when the miner answers UNAUTHENTICATED (it restarted, or another session logged in with SetPassword).
 * Every call carries the collect's deadline and is cancelled when its signal aborts.
 */
export class BraiinsGrpcClient {
  readonly username: string;
  private readonly password: string;
  private readonly now: () => number;
  private readonly services: BosServices;
  private readonly clients = new Map<keyof BosServices, Client>();
  private token: string | undefined;
  private expiresAt = 0;
  private lifetimeMs = 0;
  private loggingIn: Promise<string> | undefined;
  /** Logins made so far (diagnostics and tests). */
  logins = 0;

  constructor(private readonly options: BraiinsGrpcClientOptions) {
    this.username = options.username ?? 'root';
    this.password = options.password ?? '';
    this.now = options.now ?? (() => Date.now());
    this.services = loadBosServices(options.protoDir);
  }

  get address(): string {
    return `${this.options.host.includes(':') && !this.options.host.startsWith('[') ? `[${this.options.host}]` : this.options.host}:${this.options.port}`;
  }

  /** A unary call to `service.method` with the session token; logs in first when there is none or it is about to lapse. */
  async call<Res>(service: BosService, method: string, request: object, ctx: CollectContext): Promise<Res> {
    const token = await this.validToken(ctx);
    try {
      return await this.callWithToken<Res>(service, method, request, ctx, token);
    } catch (err) {
      if (!(err instanceof BraiinsGrpcError) || err.grpcCode !== GrpcStatus.UNAUTHENTICATED) throw err;
      // The miner forgot the session (restart, reboot, expiry by its own clock): log in once more and retry once.
      if (this.token === token) this.forgetToken();
      const fresh = await this.validToken(ctx);
      return this.callWithToken<Res>(service, method, request, ctx, fresh);
    }
  }

  /** A call without a token (ApiVersionService answers anyone). */
  async callAnonymous<Res>(service: 'ApiVersionService', method: string, request: object, ctx: CollectContext): Promise<Res> {
    return (await this.unary(service, method, request, new Metadata(), ctx)).value as Res;
  }

  /** Drops the session so the next call logs in again. */
  forgetToken(): void {
    this.token = undefined;
    this.expiresAt = 0;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private async callWithToken<Res>(service: BosService, method: string, request: object, ctx: CollectContext, token: string): Promise<Res> {
    const started = this.now();
    const metadata = new Metadata();
    metadata.set('authorization', token);
    const { value } = await this.unary(service, method, request, metadata, ctx);
    // Each request extends the session to the full lifetime again (authentication.proto).
    if (this.token === token) this.expiresAt = started + this.lifetimeMs;
    return value as Res;
  }

  private async validToken(ctx: CollectContext): Promise<string> {
    const margin = this.options.refreshMarginMs ?? Math.min(60_000, this.lifetimeMs / 10);
    if (this.token && this.now() < this.expiresAt - margin) return this.token;
    this.token = undefined;
    this.loggingIn ??= this.login(ctx).finally(() => { this.loggingIn = undefined; });
    return this.loggingIn;
  }

  private async login(ctx: CollectContext): Promise<string> {
    const started = this.now();
    let reply: { value: unknown; header: Metadata | undefined };
    try {
      reply = await this.unary('AuthenticationService', 'Login', { username: this.username, password: this.password }, new Metadata(), ctx);
    } catch (err) {
      if (err instanceof BraiinsGrpcError && (err.grpcCode === GrpcStatus.UNAUTHENTICATED || err.grpcCode === GrpcStatus.PERMISSION_DENIED)) {
        throw new BraiinsGrpcError('access_denied',
          `login refused for user "${this.username}": wrong user or password (set options.user and options.password for this miner; Braiins OS+ defaults to root with an empty password)`,
          { host: this.options.host, port: this.options.port, command: 'AuthenticationService/Login', statusCode: err.grpcCode, statusMsg: err.context.statusMsg },
          { cause: err });
      }
      throw err;
    }
    const body = reply.value as LoginResponse;
    // Older API versions put the token only in the response header `authorization`.
    const headerToken = reply.header?.get('authorization')[0];
    const token = body.token || (typeof headerToken === 'string' ? headerToken : undefined);
    if (!token) {
      throw new BraiinsGrpcError('parse', 'login answered without a token', { host: this.options.host, port: this.options.port, command: 'AuthenticationService/Login' });
    }
    this.logins++;
    this.token = token;
    this.lifetimeMs = (body.timeout_s && body.timeout_s > 0 ? body.timeout_s : 3600) * 1000;
    this.expiresAt = started + this.lifetimeMs;
    return token;
  }

  private client(service: keyof BosServices): Client {
    let client = this.clients.get(service);
    if (!client) {
      const first = this.clients.values().next().value as Client | undefined;
      // One channel (one HTTP/2 connection) for every service of this miner.
      client = new this.services[service](this.address, credentials.createInsecure(), first ? { channelOverride: first.getChannel() } : CHANNEL_OPTIONS);
      this.clients.set(service, client);
    }
    return client;
  }

  private unary(service: keyof BosServices, method: string, request: object, metadata: Metadata, ctx: CollectContext): Promise<{ value: unknown; header: Metadata | undefined }> {
    const where = { host: this.options.host, port: this.options.port };
    const name = `${service}/${method}`;
    if (ctx.signal.aborted) return Promise.reject(new BraiinsGrpcError('aborted', 'aborted before the call', { ...where, command: name }));
    const client = this.client(service) as unknown as Record<string, UnaryMethod>;
    const fn = client[method];
    if (typeof fn !== 'function') return Promise.reject(new BraiinsGrpcError('bad_request', 'no such method in the loaded .proto files', { ...where, command: name }));
    return new Promise((resolve, reject) => {
      let header: Metadata | undefined;
      const onAbort = (): void => call.cancel();
      const call = fn.call(client, request, metadata, { deadline: new Date(Date.now() + Math.max(1, ctx.deadlineMs)) }, (err, value) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (err) {
          if (ctx.signal.aborted && isServiceError(err) && err.code === GrpcStatus.CANCELLED) {
            reject(new BraiinsGrpcError('aborted', 'the collect deadline passed', { ...where, command: name }, { cause: err }));
          } else {
            reject(grpcFailure(err, where, name));
          }
          return;
        }
        resolve({ value, header });
      });
      call.on('metadata', (m: Metadata) => { header = m; });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
