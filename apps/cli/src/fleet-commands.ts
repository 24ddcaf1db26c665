import { dryRunPoliciesCommand } from './dry-run-policies.command';
import { eventsCommand } from './events.command';
import type { CommandGroup, FleetCommand } from './fleet-command';
import { rigCommand } from './rig.command';
import { rigsCommand } from './rigs.command';
import { specCommands } from './spec.command';
import { telemetryCommand } from './telemetry.command';
import { watchCommand } from './watch.command';

/** The FleetService read/spec subcommands, each in its own file, in the order `rigctl --help` lists them. */
export const FLEET_COMMANDS: ReadonlyArray<FleetCommand | CommandGroup<FleetCommand>> = [
  rigsCommand, rigCommand, watchCommand, telemetryCommand, eventsCommand, specCommands, dryRunPoliciesCommand,
];
