import type { Provider } from '@nestjs/common';
import { CommandRpcHandlers } from '../api-grpc/command-rpc.handlers';
import { BulkCommandUseCase } from './bulk-command.usecase';
import { CommandDispatcher } from './command-dispatcher.service';
import { GetCommandUseCase, ListCommandsUseCase } from './query-commands.usecase';
import { SendCommandUseCase } from './send-command.usecase';

/** The commands feature's providers: dispatch (the command store is PersistenceModule's COMMAND_STORE). */
export const COMMAND_CORE_PROVIDERS: Provider[] = [CommandDispatcher];

/** The use cases and gRPC handlers over them (BulkCommandUseCase needs FleetSpecService for group selectors). */
export const COMMAND_API_PROVIDERS: Provider[] = [SendCommandUseCase, BulkCommandUseCase, GetCommandUseCase, ListCommandsUseCase, CommandRpcHandlers];

/** Everything of the commands feature, registered once in app.module.ts. */
export const COMMAND_PROVIDERS: Provider[] = [...COMMAND_CORE_PROVIDERS, ...COMMAND_API_PROVIDERS];
