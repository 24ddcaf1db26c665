#!/usr/bin/env node
/**
 * rigctl: the operator's command line over the controller's gRPC API.
 *
 *   rigctl rigs [--json]          all rigs, one line each
 *   rigctl rig <rig-id> [--json]  one rig with its miners, boards, fans and pools
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { FleetServiceClient, ListEventsResponse, ListRigsResponse, Rig, type Rig as RigType } from '@rigwarden/protocol';
import { runBrokerConfig } from './broker-config.command';
import { eventsTable, rigDetail, rigsTable } from './format';
import { AUDIT_USAGE, runAuditCommand } from './audit.command';
import { KEYS_USAGE, runKeysCommand } from './keys.command';
import { CONNECTION_USAGE, ConnectionOptionError, authMetadata, channelCredentials, parseConnectionOptions, type ConnectionOptions } from './grpc-client';

const USAGE = `usage: rigctl [--server host:port] <command> [--json]

commands:
  rigs              list every rig the controller knows
  rig <rig-id>      show one rig in detail
  events <rig-id>   what happened on a rig and why, newest first (--limit N, default 20)
  broker-config --format mosquitto --agents FILE --out-dir DIR [--topic-root R] [--controller-user U]
                    write a Mosquitto password file, ACL and conf snippet: each agent may publish only its own
                    rigs' topics and read only their commands; prints the generated passwords once
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

/** The API key every call carries (set once in main from --api-key / --api-key-file / the environment). */
let callMetadata = new Metadata();

function call<Req, Res>(method: (req: Req, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, callMetadata, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function explain(err: ServiceError, server: string): string {
  switch (err.code) {
    case status.UNAVAILABLE: return `cannot reach the controller at ${server} (${err.details}); is it running? Set --server or RIGWARDEN_SERVER`;
    case status.DEADLINE_EXCEEDED: return `the controller at ${server} did not answer in time`;
    case status.NOT_FOUND:
    case status.INVALID_ARGUMENT: return err.details;
    case status.UNAUTHENTICATED: return `the controller refused the API key (${err.details}); pass --api-key-file FILE or set RIGWARDEN_API_KEY_FILE (the first admin key is <data-dir>/admin.token)`;
    case status.PERMISSION_DENIED: return `permission denied: ${err.details}`;
    default: return `${status[err.code] ?? err.code}: ${err.details}`;
  }
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
  const args = parseArgs(argv);
  args.server = connection.server;
  callMetadata = authMetadata(connection);
  const [command, ...rest] = args.positional;
  if (!command) fail('no command given');
  const client = new FleetServiceClient(args.server, channelCredentials(connection));
  try {
    if (command === 'rigs') {
      const rigs: RigType[] = [];
      let pageToken = '';
      do {
        const page: ListRigsResponse = await call(client.listRigs.bind(client) as never, { pageSize: 1000, pageToken }, args.timeoutMs);
        rigs.push(...page.rigs);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      if (args.json) console.log(JSON.stringify({ rigs: rigs.map((r) => Rig.toJSON(r)) }, null, 2));
      else console.log(rigs.length === 0 ? 'no rigs yet: start an agent (see README) and wait one poll interval' : rigsTable(rigs, Date.now()));
    } else if (command === 'events') {
      const rigId = rest[0] ?? fail('events needs a rig id: rigctl events <rig-id>');
      const page: ListEventsResponse = await call(client.listEvents.bind(client) as never, { rigId, limit: args.limit }, args.timeoutMs);
      if (args.json) console.log(JSON.stringify(ListEventsResponse.toJSON(page), null, 2));
      else console.log(page.events.length === 0 ? `no events for rig ${rigId}` : eventsTable(page.events));
    } else if (command === 'rig') {
      const rigId = rest[0] ?? fail('rig needs a rig id: rigctl rig <rig-id>');
      const rig: RigType = await call(client.getRig.bind(client) as never, { rigId }, args.timeoutMs);
      console.log(args.json ? JSON.stringify(Rig.toJSON(rig), null, 2) : rigDetail(rig, Date.now()));
    } else {
      fail(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err) fail(explain(err as ServiceError, args.server), 1);
    throw err;
  } finally {
    client.close();
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err), 1));
