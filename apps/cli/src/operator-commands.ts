import { applyProfileCommand } from './apply-profile.command';
import { bulkCommand } from './bulk.command';
import { commandCommand } from './command.command';
import { commandsCommand } from './commands.command';
import type { OperatorCommand } from './operator-command';
import { faultLightCommand, powerModeCommand, powerTargetCommand } from './miner-capability.command';
import { releaseCommand } from './release.command';
import { powerCycleCommand, rebootCommand, restartCommand } from './rig-action.command';
import { setPoolsCommand } from './set-pools.command';

/** The command subcommands (FleetService command RPCs), each in its own file. */
export const OPERATOR_COMMANDS: readonly OperatorCommand[] = [
  setPoolsCommand, applyProfileCommand, restartCommand, rebootCommand, powerCycleCommand, powerModeCommand, faultLightCommand, powerTargetCommand,
  bulkCommand, commandCommand, commandsCommand, releaseCommand,
];

/** Usage lines of these commands, for rigctl's help. */
export const OPERATOR_COMMANDS_USAGE = OPERATOR_COMMANDS.map((c) => `  ${c.usage}`).join('\n');

/** Options that take a value: their values are not the command name. */
const VALUE_FLAGS = new Set(['--timeout', ...OPERATOR_COMMANDS.flatMap((c) => Object.entries(c.flags).filter(([, k]) => k !== 'switch').map(([n]) => `--${n}`))]);

/** The operator command argv names (its first word that is not an option or an option's value), with the rest of argv. */
export function operatorCommandFor(argv: readonly string[]): { command: OperatorCommand; rest: string[] } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_FLAGS.has(arg)) { i++; continue; }
    if (arg.startsWith('-')) continue;
    const command = OPERATOR_COMMANDS.find((c) => c.name === arg);
    return command && { command, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return undefined;
}
