import { applyProfileCommand } from './apply-profile.command';
import { bulkCommand } from './bulk.command';
import { commandCommand } from './command.command';
import { commandsCommand } from './commands.command';
import type { OperatorCommand } from './operator-command';
import { faultLightCommand, powerModeCommand, powerTargetCommand } from './miner-capability.command';
import { releaseCommand } from './release.command';
import { powerCycleCommand, rebootCommand, restartCommand } from './rig-action.command';
import { setPoolsCommand } from './set-pools.command';

/** The command subcommands (FleetService command RPCs), each in its own file, in the order `rigctl --help` lists them. */
export const OPERATOR_COMMANDS: readonly OperatorCommand[] = [
  setPoolsCommand, applyProfileCommand, restartCommand, rebootCommand, powerCycleCommand, powerModeCommand, faultLightCommand, powerTargetCommand,
  bulkCommand, commandCommand, commandsCommand, releaseCommand,
];
