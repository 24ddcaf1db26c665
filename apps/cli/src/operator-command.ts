import { FleetServiceClient, type CommandStatus, type RigCommandRequest } from '@rigwarden/protocol';
import { commandDetail, commandLine, isFinalFailure } from './command-status.format';
import { EXIT, exitCodeForStatus } from './exit-codes';
import {
  UsageError, explainGrpcError, isServiceError, positiveInt, value, type CommandContext, type CommandSpec, type FlagSpec, type ParsedArgs,
} from './fleet-command';
import { authMetadata, channelCredentials, type ConnectionOptions } from './grpc-client';
import { CommandStatus as CommandStatusMessage } from '@rigwarden/protocol';

/** Flags of the single-rig commands (set-pools, apply-profile, restart, reboot, power-cycle, power-mode, ...). */
export const TARGET_FLAGS: Readonly<Record<string, FlagSpec>> = {
  miner: { kind: 'value', placeholder: 'ID', description: "the miner on the rig (default its only or first miner)" },
  reason: { kind: 'value', placeholder: 'TEXT', description: 'why, for the command log, the events and the audit log' },
  'timeout-seconds': { kind: 'value', placeholder: 'N', description: 'the command\'s deadline: it ends TIMED_OUT without a result by then (default 60)' },
  'no-wait': { kind: 'switch', description: 'answer once the command is sent (exit 0), without waiting for its result' },
};

/** The single-rig commands' positional argument. */
export const RIG_ID_ARGUMENT = { name: '<rig-id>', description: 'the rig (rigctl rigs lists them)' } as const;

/** Margin above the command's own deadline for the RPC that waits on it. */
const WAIT_MARGIN_MS = 10_000;

/** The target of a single-rig command from `<rig-id>` and the target flags; waits for the result unless --no-wait. */
export function targetFrom(args: ParsedArgs, name: string): RigCommandRequest {
  const rigId = args.positional[0];
  if (!rigId) throw new UsageError(`${name} needs a rig id: rigctl ${name} <rig-id>`);
  if (args.positional.length > 1) throw new UsageError(`${name} takes one rig id, got ${args.positional.length} (use rigctl bulk for many)`);
  return {
    rigId, minerId: value(args, 'miner') ?? '', reason: value(args, 'reason') ?? '', wait: !args.switches.has('no-wait'),
    timeoutSeconds: positiveInt(args, 'timeout-seconds', 60),
  };
}

/** The context for an RPC that returns only when the command is finished: a deadline past the command's own. */
export function waitingContext(ctx: CommandContext, timeoutSeconds: number): CommandContext {
  return { ...ctx, timeoutMs: Math.max(ctx.timeoutMs, timeoutSeconds * 1000 + WAIT_MARGIN_MS) };
}

/** Prints a command's status (a line, the detail, or JSON) and answers the exit code: 1 when it did not succeed. */
export function reportCommand(ctx: CommandContext, status: CommandStatus, detail = false): number {
  if (ctx.json) ctx.out(JSON.stringify(CommandStatusMessage.toJSON(status), null, 2));
  else ctx.out(detail ? commandDetail(status, ctx.now()) : commandLine(status));
  return isFinalFailure(status.state) ? EXIT.FAILED : EXIT.OK;
}

export interface RunIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  now?: () => number;
  /** Whether stderr is a terminal (the bulk progress bar); default process.stderr.isTTY. */
  tty?: boolean;
  /** The command's usage line, printed under a usage error ("rigctl restart [options] <rig-id>"). */
  usage?: string;
}

/** What an operator command gets besides the common context. */
export interface OperatorContext extends CommandContext {
  tty: boolean;
}

export interface OperatorCommand extends CommandSpec {
  run(ctx: OperatorContext, args: ParsedArgs): Promise<number>;
}

/**
 * Runs one rigctl subcommand over FleetService with its parsed arguments and answers its exit code (exit-codes.ts):
 * 0 ok, 1 the command failed, was rejected or timed out, 2 usage or invalid argument, 3 not found,
 * 4 unauthenticated or permission denied, 5 the controller is unreachable.
 */
export async function runOperatorCommand(command: OperatorCommand, args: ParsedArgs, connection: ConnectionOptions, io: RunIo = {}): Promise<number> {
  const out = io.out ?? ((text: string) => console.log(text));
  const err = io.err ?? ((text: string) => console.error(text));
  let client: FleetServiceClient | undefined;
  try {
    const timeoutText = value(args, 'timeout');
    const timeoutMs = timeoutText === undefined ? 10_000 : Number(timeoutText);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout needs a positive number of milliseconds');
    client = new FleetServiceClient(connection.server, channelCredentials(connection));
    return await command.run({
      client, metadata: authMetadata(connection), connection, timeoutMs, json: args.switches.has('json'),
      now: io.now ?? (() => Date.now()), out, err, tty: io.tty ?? process.stderr.isTTY === true,
    }, args);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`rigctl: ${e.message}${io.usage ? `\n\nusage: ${io.usage}` : ''}`);
      return EXIT.USAGE;
    }
    if (isServiceError(e)) {
      err(`rigctl: ${explainGrpcError(e, connection)}`);
      return exitCodeForStatus(e.code);
    }
    err(`rigctl: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.FAILED;
  } finally {
    client?.close();
  }
}
