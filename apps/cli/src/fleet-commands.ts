import { FleetServiceClient } from '@rigwarden/protocol';
import { dryRunPoliciesCommand } from './dry-run-policies.command';
import { eventsCommand } from './events.command';
import { exitCodeForStatus } from './exit-codes';
import {
  EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, explainGrpcError, isServiceError, parseCommandArgs, type FleetCommand,
} from './fleet-command';
import { authMetadata, channelCredentials, type ConnectionOptions } from './grpc-client';
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
export async function runFleetCommand(command: FleetCommand, argv: readonly string[], connection: ConnectionOptions, usage: string, io: RunOptions = {}): Promise<number> {
  const out = io.out ?? ((text: string) => console.log(text));
  const err = io.err ?? ((text: string) => console.error(text));
  let client: FleetServiceClient | undefined;
  try {
    const args = parseCommandArgs(argv, command.flags);
    if (args.switches.has('help')) {
      out(`usage: rigctl [connection options] ${command.usage}\n\n${usage}`);
      return EXIT_OK;
    }
    const timeoutText = args.values.get('timeout')?.[0];
    const timeoutMs = timeoutText === undefined ? 10_000 : Number(timeoutText);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout needs a positive number of milliseconds');
    client = new FleetServiceClient(connection.server, channelCredentials(connection));
    return await command.run({
      client, metadata: authMetadata(connection), server: connection.server, timeoutMs, json: args.switches.has('json'),
      now: io.now ?? (() => Date.now()), out, err,
    }, args);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`rigctl: ${e.message}\n\nusage: rigctl [connection options] ${command.usage}`);
      return EXIT_USAGE;
    }
    if (isServiceError(e)) {
      err(`rigctl: ${explainGrpcError(e, connection.server)}`);
      return exitCodeForStatus(e.code);
    }
    err(`rigctl: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FAILED;
  } finally {
    client?.close();
  }
}
