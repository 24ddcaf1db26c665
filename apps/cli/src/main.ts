#!/usr/bin/env node
/**
 * rigctl: the operator's command line over the controller's gRPC API. The FleetService subcommands each live in
 * their own <name>.command.ts, listed in fleet-commands.ts; `rigctl --help` shows them all.
 */
import { runBrokerConfig } from './broker-config.command';
import { OPERATOR_COMMANDS_USAGE, operatorCommandFor } from './operator-commands';
import { runOperatorCommand } from './operator-command';
import { FLEET_COMMANDS_USAGE, fleetCommandFor, runFleetCommand } from './fleet-commands';
import { AUDIT_USAGE, runAuditCommand } from './audit.command';
import { KEYS_USAGE, runKeysCommand } from './keys.command';
import { CONNECTION_USAGE, ConnectionOptionError, parseConnectionOptions, type ConnectionOptions } from './grpc-client';

const USAGE = `usage: rigctl [--server host:port] <command> [--json]

commands:
${FLEET_COMMANDS_USAGE}
  broker-config --format mosquitto --agents FILE --out-dir DIR [--topic-root R] [--controller-user U]
                    write a Mosquitto password file, ACL and conf snippet: each agent may publish only its own
                    rigs' topics and read only their commands; prints the generated passwords once
${OPERATOR_COMMANDS_USAGE}
  ${KEYS_USAGE}
  ${AUDIT_USAGE}

${CONNECTION_USAGE}

options:
  --json               print proto3 JSON instead of a table
  --timeout <ms>       give up after this long (default 10000)`;

interface Args {
  server: string;
  json: boolean;
  limit: number;
  timeoutMs: number;
  positional: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { server: process.env['RIGWARDEN_SERVER'] || '127.0.0.1:50051', json: false, limit: 20, timeoutMs: 10_000, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') args.json = true;
    else if (arg === '--server') args.server = argv[++i] ?? fail('--server needs host:port');
    else if (arg.startsWith('--server=')) args.server = arg.slice(9);
    else if (arg === '--timeout') args.timeoutMs = Number(argv[++i]);
    else if (arg === '--limit') args.limit = Number(argv[++i]);
    else if (arg === '--help' || arg === '-h') { console.log(USAGE); process.exit(0); }
    else if (arg.startsWith('-')) fail(`unknown option "${arg}"`);
    else args.positional.push(arg);
  }
  if (!Number.isFinite(args.timeoutMs) || args.timeoutMs <= 0) fail('--timeout needs a positive number of milliseconds');
  return args;
}

function fail(message: string, code = 2): never {
  console.error(`rigctl: ${message}`);
  if (code === 2) console.error(`\n${USAGE}`);
  process.exit(code);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'broker-config') {
    process.exit(runBrokerConfig(process.argv.slice(3)));
  }
  let connection: ConnectionOptions;
  let argv: string[];
  try {
    ({ options: connection, rest: argv } = parseConnectionOptions(process.argv.slice(2), process.env));
  } catch (err) {
    if (err instanceof ConnectionOptionError) fail(err.message);
    throw err;
  }
  const adminCommand = argv.find((a) => !a.startsWith('-'));
  if (adminCommand === 'keys' || adminCommand === 'audit') {
    const io = { out: (t: string) => console.log(t), err: (t: string) => console.error(t), now: () => Date.now() };
    const rest = argv.filter((_, i) => i !== argv.indexOf(adminCommand));
    process.exit(adminCommand === 'keys' ? await runKeysCommand(rest, connection, io) : await runAuditCommand(rest, connection, io));
  }
  const fleet = fleetCommandFor(argv);
  if (fleet) process.exit(await runFleetCommand(fleet.command, fleet.rest, connection, USAGE));
  const operator = operatorCommandFor(argv);
  if (operator) process.exit(await runOperatorCommand(operator.command, operator.rest, connection));
  const args = parseArgs(argv);
  const [command] = args.positional;
  if (!command) fail('no command given');
  fail(`unknown command "${command}"`);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err), 1));
