import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createLogger, systemClock, type Clock } from '@rigwarden/shared';
import { AlertService } from '../alerts/alert.service';
import { CommandDispatcher } from '../commands/command-dispatcher.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import { ReleaseQuarantineUseCase } from '../fleet/release-quarantine.usecase';
import { ListEventsUseCase } from '../fleet/list-events.usecase';
import { MetricsService } from '../metrics/metrics.service';
import { AUDIT_STORE, type AuditStore } from '../persistence/ports/audit.port';
import { COMMAND_STORE, type CommandStore } from '../persistence/ports/command.port';
import { DASHBOARD_READ_STORE, type DashboardReadStore } from '../persistence/ports/dashboard-read.port';
import { ADMIN_TOKEN_FILE, API_AUTH, type ApiAuth } from '../security/api-auth';
import { ApiKeyService } from '../security/api-key.service';
import { DashboardApi, commandJson } from './dashboard-api.routes';
import { DEFAULT_MAX_STREAMS_PER_KEY, DashboardStream } from './dashboard-stream.service';
import { FleetViewService } from './fleet-view.service';
import { HttpError, sendError, sendJson } from './http-io';
import { StreamTickets } from './stream-ticket';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.map': 'application/json',
};

/** Where the built UI is: next to the bundle (dist/controller/web), or dist/ of the checkout when run from source. */
export function findWebRoot(): string | undefined {
  const candidates = [join(__dirname, 'web'), join(__dirname, '..', '..', '..', '..', 'dist', 'controller', 'web')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js')));
}

/**
 * The dashboard: static UI, JSON API under /api/, Server-Sent Events at /api/stream, /healthz and the Prometheus
 * exposition at /metrics (MetricsService; a read key, as Prometheus' `authorization` sends it); one node:http server
 * on --http (default 127.0.0.1:8080, a free port when that is taken and no address was asked for).
 */
@Injectable()
export class DashboardHttpServer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.dashboard');
  private server: Server | undefined;
  private stream: DashboardStream | undefined;
  private api: DashboardApi | undefined;
  private boundAddress = '';
  private stopRevocations: () => void = () => undefined;
  private readonly webRoot = findWebRoot();
  private readonly assets = new Map<string, Buffer>();
  clock: Clock = systemClock;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(API_AUTH) private readonly auth: ApiAuth,
    @Inject(FleetViewService) private readonly view: FleetViewService,
    @Inject(DASHBOARD_READ_STORE) private readonly reads: DashboardReadStore,
    @Inject(ListEventsUseCase) private readonly listEvents: ListEventsUseCase,
    @Inject(COMMAND_STORE) private readonly commands: CommandStore,
    @Inject(CommandDispatcher) private readonly dispatcher: CommandDispatcher,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(AUDIT_STORE) private readonly audit: AuditStore,
    @Inject(ReleaseQuarantineUseCase) private readonly release: ReleaseQuarantineUseCase,
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
  ) {}

  /** host:port the dashboard listens on (after init). */
  get address(): string {
    return this.boundAddress;
  }

  /** The dashboard's URL (after init). */
  get url(): string {
    const { host } = this.config.http;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.boundAddress.split(':').pop()}/`;
  }

  async onModuleInit(): Promise<void> {
    const reads = this.reads;
    this.stream = new DashboardStream(this.view, reads);
    await this.stream.start();
    this.dispatcher.onFinished((record) => this.stream?.broadcastCommand(commandJson(record)));
    const tickets = new StreamTickets();
    const stream = this.stream;
    this.stopRevocations = this.keys.onRevoked((keyId) => {
      tickets.revokeKey(keyId, this.clock.now());
      stream.closeKey(keyId);
    });
    stream.checkKeysWith((keyId) => this.keys.isActive(keyId));
    this.api = new DashboardApi({
      auth: this.auth, view: this.view, reads, listEvents: this.listEvents, commands: this.commands, dispatcher: this.dispatcher,
      stream: this.stream, tickets, alerts: this.alerts, clock: { now: () => this.clock.now() },
      keyActive: (keyId) => this.keys.isActive(keyId),
      maxStreamsPerKey: this.config.http.maxStreamsPerKey ?? DEFAULT_MAX_STREAMS_PER_KEY,
      profilesFor: (rigId) => {
        const rig = this.view.rig(rigId);
        return rig ? this.fleet.specFor(rig)?.profiles.map((p) => p.name) ?? [] : [];
      },
      adminTokenHint: `the controller wrote an admin key to ${join(this.config.dataDir, ADMIN_TOKEN_FILE)} on first start`,
      audit: this.audit,
      releaseQuarantine: (rigId, reason, principal) => this.release.execute({ rigId, reason }, principal),
    });
    if (!this.webRoot) this.logger.warn('the dashboard UI is not built (no dist/controller/web); the API still works. Run `npm run build`.');

    const server = createServer((req, res) => void this.route(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    const { host, port, fallbackToFreePort } = this.config.http;
    const listen = (p: number): Promise<number> => new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(p, host, () => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
    let actual: number;
    try {
      actual = await listen(port);
    } catch (err) {
      if (!fallbackToFreePort) throw new Error(`the dashboard cannot listen on ${host}:${port}: ${(err as Error).message}; choose another with --http`);
      actual = await listen(0);
      this.logger.warn(`port ${port} is taken; the dashboard took a free port instead`, { port: actual });
    }
    this.boundAddress = `${host}:${actual}`;
    this.logger.info('dashboard listening', { url: this.url });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopRevocations();
    this.stream?.stop();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.clock.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.local');
    } catch {
      return sendError(res, new HttpError(400, 'bad_request', 'the request target is not a valid URL'));
    }
    try {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', rigs: this.view.size, streamClients: this.stream?.clientCount ?? 0 });
      if (url.pathname === '/metrics' && req.method === 'GET') {
        await this.api!.authenticate(req, 'read', 'GET /metrics');
        const text = await this.metrics.render();
        res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
        res.end(text);
        return;
      }
      if (url.pathname.startsWith('/api/')) return await this.api!.handle(req, res, url);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`);
      return this.serveStatic(url.pathname, res);
    } catch (err) {
      const httpError = DashboardApi.toHttpError(err);
      if (httpError) {
        if (!res.headersSent) sendError(res, httpError);
        else res.end();
        return;
      }
      this.logger.error('dashboard request failed', { method: req.method, path: url.pathname, error: err as Error });
      if (!res.headersSent) sendError(res, new HttpError(500, 'internal', `the controller could not answer ${req.method} ${url.pathname}: ${(err as Error).message}; see its log`));
      else res.end();
    } finally {
      this.logger.debug('http', { method: req.method, path: url.pathname, status: res.statusCode, ms: this.clock.now() - started });
    }
  }

  private serveStatic(pathname: string, res: ServerResponse): void {
    if (!this.webRoot) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The dashboard UI is not built: run `npm run build` (it writes dist/controller/web). The JSON API is under /api/.\n');
      return;
    }
    // Client-side routes (#/rigs/...) all load index.html; only known asset names are read from disk.
    const name = pathname === '/' || pathname === '/index.html' ? 'index.html' : /^\/(app\.js|app\.css|favicon\.svg)$/.exec(pathname)?.[1];
    if (!name) throw new HttpError(404, 'not_found', `no page ${pathname}; the dashboard is at /`);
    let body = this.assets.get(name);
    if (!body) {
      body = readFileSync(join(this.webRoot, name));
      this.assets.set(name, body);
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  }
}
