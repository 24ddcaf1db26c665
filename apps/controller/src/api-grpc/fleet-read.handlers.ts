import { Inject, Injectable } from '@nestjs/common';
import type { sendUnaryData, Server, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { PROTO_DESCRIPTOR_SET_BASE64, type FleetServiceServer, type RigUpdate, type WatchRigsRequest } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { DryRunPoliciesUseCase } from '../fleet/dry-run-policies.usecase';
import { FleetError } from '../fleet/fleet-error';
import { ApplyFleetSpecUseCase, GetFleetSpecUseCase } from '../fleet/fleet-spec.usecases';
import { QueryTelemetryUseCase } from '../fleet/query-telemetry.usecase';
import { WatchRigsUseCase } from '../fleet/watch-rigs.usecase';
import { toServiceError } from './grpc-status';
import { principalOf } from './principal';

type ReadHandlers = Pick<FleetServiceServer, 'watchRigs' | 'queryTelemetry' | 'getFleetSpec' | 'applyFleetSpec' | 'dryRunPolicies'>;

/** The RPC names these handlers serve (FleetGrpcServer leaves them out of its UNIMPLEMENTED list). */
export const READ_RPCS: ReadonlyArray<keyof ReadHandlers> = ['watchRigs', 'queryTelemetry', 'getFleetSpec', 'applyFleetSpec', 'dryRunPolicies'];

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) over the services in proto/, from the descriptor set that
 * `npm run proto` embeds, so `grpcurl -plaintext host:port list` works without the .proto files.
 */
export function addReflection(server: Server): void {
  const definition = loadFileDescriptorSetFromBuffer(Buffer.from(PROTO_DESCRIPTOR_SET_BASE64, 'base64'));
  new ReflectionService(definition, { services: ['rigwarden.v1.FleetService', 'rigwarden.v1.AdminService'] }).addToServer(server);
}

/** FleetService handlers for watching, telemetry, the fleet spec and dry runs: they map and call the use cases. */
@Injectable()
export class FleetReadHandlers {
  private readonly logger = createLogger('controller.grpc');

  constructor(
    @Inject(WatchRigsUseCase) private readonly watchRigs: WatchRigsUseCase,
    @Inject(QueryTelemetryUseCase) private readonly queryTelemetry: QueryTelemetryUseCase,
    @Inject(GetFleetSpecUseCase) private readonly getFleetSpec: GetFleetSpecUseCase,
    @Inject(ApplyFleetSpecUseCase) private readonly applyFleetSpec: ApplyFleetSpecUseCase,
    @Inject(DryRunPoliciesUseCase) private readonly dryRunPolicies: DryRunPoliciesUseCase,
  ) {}

  handlers(): ReadHandlers {
    return {
      watchRigs: (call) => this.watch(call),
      queryTelemetry: (call, callback) => this.unary(call, callback, (req) => this.queryTelemetry.execute(req)),
      getFleetSpec: (call, callback) => this.unary(call, callback, async () => this.getFleetSpec.execute()),
      applyFleetSpec: (call, callback) => this.unary(call, callback, (req) => this.applyFleetSpec.execute(req, principalOf(call).principal)),
      dryRunPolicies: (call, callback) => this.unary(call, callback, (req) => this.dryRunPolicies.execute(req)),
    };
  }

  private watch(call: ServerWritableStream<WatchRigsRequest, RigUpdate>): void {
    let stopWatch = (): void => undefined;
    let waiting: (() => void) | undefined;
    const stop = (): void => {
      stopWatch();
      const resume = waiting; // a watcher waiting for a drain that will never come: let it see it is closed
      waiting = undefined;
      resume?.();
    };
    const fail = (err: unknown): void => {
      stop();
      if (!(err instanceof FleetError)) this.logger.error('RPC failed', { path: call.getPath(), error: err as Error });
      const status = toServiceError(err);
      call.destroy(Object.assign(new Error(status.details ?? 'failed'), status));
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
    this.watchRigs.start(call.request, {
      write: (update) => call.write(update),
      onDrain: (resume) => {
        waiting = resume;
        call.once('drain', () => { waiting = undefined; resume(); });
      },
    }, fail).then(
      (watch) => {
        stopWatch = watch.stop;
        if (call.cancelled) stop();
      },
      fail,
    );
  }

  private unary<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, run: (req: Req) => Promise<Res>): void {
    run(call.request).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (!(err instanceof FleetError)) this.logger.error('RPC failed', { path: call.getPath(), error: err as Error });
        callback(toServiceError(err), null);
      },
    );
  }
}
