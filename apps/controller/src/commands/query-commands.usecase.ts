import { Inject, Injectable } from '@nestjs/common';
import type { CommandStatus, GetCommandRequest, ListCommandsRequest, ListCommandsResponse } from '@rigwarden/protocol';
import { FleetError } from '../fleet/fleet-error';
import { COMMAND_STORE, type CommandStore } from '../persistence/ports/command.port';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { CommandDispatcher } from './command-dispatcher.service';
import { checkRigId, invalid, toCommandStatus } from './command-request';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;

/** GetCommand: one command's state. */
@Injectable()
export class GetCommandUseCase {
  constructor(@Inject(CommandDispatcher) private readonly dispatcher: CommandDispatcher) {}

  async execute(request: GetCommandRequest): Promise<CommandStatus> {
    if (request.commandId === '') throw invalid('command_id', 'is required');
    const command = await this.dispatcher.get(request.commandId);
    if (!command) throw new FleetError('not_found', `no command "${request.commandId}" (rigctl commands lists the recent ones)`, 'command_id');
    return toCommandStatus(command);
  }
}

/** ListCommands: a rig's (or every rig's) commands, newest first. NOT_FOUND for a rig never heard of. */
@Injectable()
export class ListCommandsUseCase {
  constructor(
    @Inject(COMMAND_STORE) private readonly commands: CommandStore,
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
  ) {}

  async execute(request: ListCommandsRequest): Promise<ListCommandsResponse> {
    if (request.limit > MAX_LIST_LIMIT) throw invalid('limit', `must be at most ${MAX_LIST_LIMIT}, got ${request.limit}`);
    if (request.rigId !== '') {
      checkRigId(request.rigId, 'rig_id');
      if (!(await this.rigs.getRig(request.rigId))) throw new FleetError('not_found', `no rig "${request.rigId}": the controller has never heard of it`, 'rig_id');
    }
    const rows = await this.commands.list(request.rigId, request.limit || DEFAULT_LIST_LIMIT);
    return { commands: rows.map(toCommandStatus) };
  }
}
