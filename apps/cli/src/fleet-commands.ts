import { dryRunPoliciesCommand } from './dry-run-policies.command';
import { eventsCommand } from './events.command';
import type { FleetCommand } from './fleet-command';
import type { ConnectionOptions } from './grpc-client';
import { runOperatorCommand } from './operator-command';
import { rigCommand } from './rig.command';
import { rigsCommand } from './rigs.command';
import { specCommand } from './spec.command';
import { telemetryCommand } from './telemetry.command';
import { watchCommand } from './watch.command';

/** The FleetService read/spec subcommands, each in its own file. */
export const FLEET_COMMANDS: readonly FleetCommand[] = [rigsCommand, rigCommand, watchCommand, telemetryCommand, eventsCommand, specCommand, dryRunPoliciesCommand];

/** Usage lines of these commands, for rigctl's help. */
export const FLEET_COMMANDS_USAGE = FLEET_COMMANDS.map((c) => `  ${c.usage}`).join('\n');

/** Options that take a value in any of these commands: their values are not the command name. */
const VALUE_FLAGS = new Set(['--timeout', '--limit', ...FLEET_COMMANDS.flatMap((c) => Object.entries(c.flags).filter(([, k]) => k !== 'switch').map(([n]) => `--${n}`))]);

/**
 * The subcommand argv names (the first word that is not an option or an option's value) when it is one of these,
 * with the rest of argv.
 */
export function fleetCommandFor(argv: readonly string[]): { command: FleetCommand; rest: string[] } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_FLAGS.has(arg)) { i++; continue; }
    if (arg.startsWith('-')) continue;
    const command = FLEET_COMMANDS.find((c) => c.name === arg);
    return command && { command, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return undefined;
}

export interface RunOptions {
  out?: (text: string) => void;
  err?: (text: string) => void;
  now?: () => number;
}

/** Runs one subcommand (`argv` without its name); answers its exit code (exit-codes.ts: the same for every subcommand). */
export function runFleetCommand(command: FleetCommand, argv: readonly string[], connection: ConnectionOptions, usage: string, io: RunOptions = {}): Promise<number> {
  return runOperatorCommand(command, argv, connection, { ...io, helpFooter: usage });
}
