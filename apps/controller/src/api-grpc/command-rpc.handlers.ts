import { Inject, Injectable } from '@nestjs/common';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type { BulkCommandRequest, BulkProgress, FleetServiceServer } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { BulkCommandUseCase } from '../commands/bulk-command.usecase';
import { operatorOf } from '../commands/command-request';
import { GetCommandUseCase, ListCommandsUseCase } from '../commands/query-commands.usecase';
import {
  SendCommandUseCase, applyProfileCommand, rigCommand, setFaultLightCommand, setPoolsCommand, setPowerModeCommand, setPowerTargetCommand,
} from '../commands/send-command.usecase';
import { FleetError } from '../fleet/fleet-error';
import { toServiceError } from './grpc-status';
import { principalOf } from './principal';

type CommandHandlers = Pick<FleetServiceServer,
  'setPools' | 'applyProfile' | 'restartMiner' | 'rebootRig' | 'powerCycle' | 'setPowerMode' | 'setFaultLight' | 'setPowerTarget' | 'bulkCommand'
  | 'getCommand' | 'listCommands'>;

/** The RPC names these handlers serve (FleetGrpcServer leaves them out of its UNIMPLEMENTED list). */
export const COMMAND_RPCS: ReadonlyArray<keyof CommandHandlers> = [
  'setPools', 'applyProfile', 'restartMiner', 'rebootRig', 'powerCycle', 'setPowerMode', 'setFaultLight', 'setPowerTarget', 'bulkCommand', 'getCommand',
  'listCommands',
];

/**
 * FleetService command RPCs as grpc-js handler functions: they map requests to the command use cases, record who asked
 * (`operator:<api key id>`), and map errors to status codes.
 */
@Injectable()
export class CommandRpcHandlers {
  private readonly logger = createLogger('controller.grpc');

  constructor(
    @Inject(SendCommandUseCase) private readonly send: SendCommandUseCase,
    @Inject(BulkCommandUseCase) private readonly bulk: BulkCommandUseCase,
    @Inject(GetCommandUseCase) private readonly getCommand: GetCommandUseCase,
    @Inject(ListCommandsUseCase) private readonly listCommands: ListCommandsUseCase,
  ) {}

  handlers(): CommandHandlers {
    const by = (call: { metadata: ServerUnaryCall<unknown, unknown>['metadata'] }): string => operatorOf(principalOf(call));
    return {
      setPools: (call, callback) => this.unary(call, callback, (req) => this.send.execute(setPoolsCommand(req), by(call))),
      applyProfile: (call, callback) => this.unary(call, callback, (req) => this.send.execute(applyProfileCommand(req), by(call))),
      restartMiner: (call, callback) => this.unary(call, callback, (req) => this.send.execute(rigCommand(req, { $case: 'restartMiner', value: {} }), by(call))),
      rebootRig: (call, callback) => this.unary(call, callback, (req) => this.send.execute(rigCommand(req, { $case: 'rebootHost', value: {} }), by(call))),
      powerCycle: (call, callback) => this.unary(call, callback, (req) => this.send.execute(rigCommand(req, { $case: 'powerCycle', value: {} }), by(call))),
      setPowerMode: (call, callback) => this.unary(call, callback, (req) => this.send.execute(setPowerModeCommand(req), by(call))),
      setFaultLight: (call, callback) => this.unary(call, callback, (req) => this.send.execute(setFaultLightCommand(req), by(call))),
      setPowerTarget: (call, callback) => this.unary(call, callback, (req) => this.send.execute(setPowerTargetCommand(req), by(call))),
      getCommand: (call, callback) => this.unary(call, callback, (req) => this.getCommand.execute(req)),
      listCommands: (call, callback) => this.unary(call, callback, (req) => this.listCommands.execute(req)),
      bulkCommand: (call) => this.bulkCommand(call, by(call)),
    };
  }

  private bulkCommand(call: ServerWritableStream<BulkCommandRequest, BulkProgress>, requestedBy: string): void {
    let cancelled = false;
    call.on('cancelled', () => { cancelled = true; });
    this.bulk.run(call.request, requestedBy, {
      write: (progress) => { if (!cancelled) call.write(progress); },
      cancelled: () => cancelled,
    }).then(
      () => { if (!cancelled) call.end(); },
      (err: unknown) => {
        if (!(err instanceof FleetError)) this.logger.error('RPC failed', { path: call.getPath(), error: err as Error });
        if (!cancelled) call.emit('error', toServiceError(err));
      },
    );
  }

  private unary<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, run: (req: Req) => Promise<Res>): void {
    let work: Promise<Res>;
    try {
      work = run(call.request);
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (!(err instanceof FleetError)) this.logger.error('RPC failed', { path: call.getPath(), error: err as Error });
        callback(toServiceError(err), null);
      },
    );
  }
}
