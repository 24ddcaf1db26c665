import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Server, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AdminServiceService, FleetServiceService, type FleetServiceServer } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { FleetError } from '../fleet/fleet-error';
import { GetRigUseCase } from '../fleet/get-rig.usecase';
import { ListEventsUseCase } from '../fleet/list-events.usecase';
import { ListRigsUseCase } from '../fleet/list-rigs.usecase';
import { ReleaseQuarantineUseCase } from '../fleet/release-quarantine.usecase';
import { AUDIT_STORE, type AuditStore } from '../persistence/ports/audit.port';
import { API_AUTH, type ApiAuth } from '../security/api-auth';
import { AdminGrpcHandlers } from './admin-grpc.handlers';
import { grpcServerCredentials } from '../security/tls-credentials';
import { authInterceptor } from './auth.interceptor';
import { CommandRpcHandlers } from './command-rpc.handlers';
import { FleetReadHandlers, addReflection } from './fleet-read.handlers';
import { toServiceError } from './grpc-status';
import { principalOf } from './principal';
import { MAX_RECEIVE_MESSAGE_BYTES, MAX_SEND_MESSAGE_BYTES } from './request-bounds';

/** Serves FleetService. Handlers only map requests to use cases and errors to status codes. */
@Injectable()
export class FleetGrpcServer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.grpc');
  private server: Server | undefined;
  private boundAddress = '';

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(ListRigsUseCase) private readonly listRigs: ListRigsUseCase,
    @Inject(GetRigUseCase) private readonly getRig: GetRigUseCase,
    @Inject(ListEventsUseCase) private readonly listEvents: ListEventsUseCase,
    @Inject(FleetReadHandlers) private readonly read: FleetReadHandlers,
    @Inject(CommandRpcHandlers) private readonly commands: CommandRpcHandlers,
    @Inject(API_AUTH) private readonly auth: ApiAuth,
    @Inject(AUDIT_STORE) private readonly audit: AuditStore,
    @Inject(AdminGrpcHandlers) private readonly admin: AdminGrpcHandlers,
    @Inject(ReleaseQuarantineUseCase) private readonly release: ReleaseQuarantineUseCase,
  ) {}

  get address(): string {
    return this.boundAddress;
  }

  async onModuleInit(): Promise<void> {
    const server = new Server({
      interceptors: [authInterceptor(this.auth, this.audit)],
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
    });
    this.server = server; // set before binding so a shutdown during start-up still closes it
    const impl: FleetServiceServer = {
      listRigs: (call, callback) => this.handle(call, callback, (req) => this.listRigs.execute(req)),
      getRig: (call, callback) => this.handle(call, callback, (req) => this.getRig.execute(req)),
      listEvents: (call, callback) => this.handle(call, callback, (req) => this.listEvents.execute(req)),
      releaseQuarantine: (call, callback) => this.handle(call, callback, (req) => this.release.execute(req, principalOf(call).principal)),
      ...this.read.handlers(),
      ...this.commands.handlers(),
    } as FleetServiceServer;
    server.addService(FleetServiceService, impl);
    server.addService(AdminServiceService, this.admin.handlers());
    addReflection(server);
    const { host, port, fallbackToFreePort } = this.config.grpc;
    const bind = (p: number): Promise<number> => new Promise((resolve, reject) => {
      server.bindAsync(`${host}:${p}`, grpcServerCredentials(this.config), (err, actual) => (err ? reject(err) : resolve(actual)));
    });
    let actual: number;
    try {
      actual = await bind(port);
    } catch (err) {
      if (!fallbackToFreePort) throw new Error(`gRPC API cannot listen on ${host}:${port}: ${(err as Error).message}; choose another with --grpc`);
      actual = await bind(0);
      this.logger.warn(`port ${port} is taken; gRPC API took a free port instead`, { port: actual });
    }
    this.boundAddress = `${host}:${actual}`;
    this.logger.info('gRPC API listening', { address: this.boundAddress, tls: this.config.grpcTls ? (this.config.grpcTls.caFile ? 'mutual' : 'server') : 'off' });
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
      server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
  }

  private handle<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, run: (req: Req) => Promise<Res>): void {
    run(call.request).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (!(err instanceof FleetError)) this.logger.error('RPC failed', { path: call.getPath(), error: err as Error });
        callback(toServiceError(err), null);
      },
    );
  }
}
