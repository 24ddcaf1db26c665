import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { RigSelector, type FleetServiceClient } from '@rigwarden/protocol';
import type { ConnectionOptions } from './grpc-client';

/** What every FleetService subcommand gets: a connected client, the API key metadata and the common options. */
export interface CommandContext {
  client: FleetServiceClient;
  metadata: Metadata;
  connection: ConnectionOptions;
  timeoutMs: number;
  json: boolean;
  now(): number;
  out(text: string): void;
  err(text: string): void;
}

/** Exit codes: 0 success, 1 the call failed (the message says why), 2 usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type FlagKind = 'switch' | 'value' | 'multi';

/** One option of a subcommand: how it parses, what `--help` says, and what shell completion offers for its value. */
export interface FlagSpec {
  kind: FlagKind;
  description: string;
  /** The value's placeholder in the help ("N", "TIME"); default the upper-cased name. */
  placeholder?: string;
  /** Values shell completion offers (rigctl checks the value itself, with its own message). */
  choices?: readonly string[];
  /** Shell completion offers file or directory names for the value. */
  completes?: 'file' | 'dir';
}

/** One positional argument: `<rig-id>` is required, `[rig-id]` optional. */
export interface ArgumentSpec {
  name: string;
  description: string;
  choices?: readonly string[];
  completes?: 'file' | 'dir';
}

/** What rigctl's parser and help need to know of a subcommand; each *.command.ts exports one (or a group of them). */
export interface CommandSpec {
  /** The word on the command line: "rigs", "create" (under "keys"). */
  name: string;
  /** One line, for the list of commands. */
  summary: string;
  /** More than the summary, for the command's own --help. */
  description?: string;
  arguments?: readonly ArgumentSpec[];
  flags: Readonly<Record<string, FlagSpec>>;
  /** The command checks surplus positional arguments itself (with a better message than the parser's). */
  checksExtraArguments?: boolean;
  /** Lines shown under "examples:" in --help. */
  examples?: readonly string[];
}

/** A word that only groups subcommands: "rigctl spec get", "rigctl keys create". */
export interface CommandGroup<C extends CommandSpec> {
  name: string;
  summary: string;
  commands: readonly C[];
}

export function isCommandGroup<C extends CommandSpec>(c: C | CommandGroup<C>): c is CommandGroup<C> {
  return 'commands' in c;
}

export interface ParsedArgs {
  positional: string[];
  switches: Set<string>;
  values: Map<string, string[]>;
}

export interface FleetCommand extends CommandSpec {
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}

export function value(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

export function positiveInt(args: ParsedArgs, name: string, fallback: number): number {
  const text = value(args, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a whole number above 0, got "${text}"`);
  return n;
}

/** The rig selector flags shared by rigs, watch and bulk: every one given must match. */
export const SELECTOR_FLAGS: Readonly<Record<string, FlagSpec>> = {
  group: { kind: 'value', placeholder: 'G', description: "rigs of this fleet group" },
  label: { kind: 'multi', placeholder: 'k=v', description: 'rigs with this label (repeat for more, all must match)' },
  status: { kind: 'value', placeholder: 'S', choices: ['online', 'offline', 'stale', 'miner-unreachable'], description: 'online, offline, or the liveness stale or miner-unreachable' },
  model: { kind: 'value', placeholder: 'SUBSTRING', description: "rigs whose miner model contains this (any case)" },
  rig: { kind: 'multi', placeholder: 'ID', description: 'this rig (repeat for more)' },
};

export function selectorFrom(args: ParsedArgs): RigSelector {
  const labels: Record<string, string> = {};
  for (const pair of args.values.get('label') ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`--label needs key=value, got "${pair}"`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const statusValue = value(args, 'status') ?? '';
  if (!['', 'online', 'offline', 'stale', 'miner-unreachable'].includes(statusValue)) {
    throw new UsageError(`--status must be online or offline (or the liveness stale or miner-unreachable), got "${statusValue}"`);
  }
  return RigSelector.fromPartial({
    rigIds: args.values.get('rig') ?? [], group: value(args, 'group') ?? '', labels, status: statusValue, model: value(args, 'model') ?? '',
  });
}

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "now", an RFC 3339 time, or a time ago: "90s", "15m", "2h", "7d" (a leading "-" is allowed). */
export function parseTime(text: string, now: number, flag: string): Date {
  if (text === 'now') return new Date(now);
  const ago = /^-?(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNITS_MS[ago[2]!]!);
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new UsageError(`--${flag}: expected "now", a time ago (15m, 2h, 7d) or an RFC 3339 time (2026-12-01T10:00:00Z), got "${text}"`);
  }
  return new Date(at);
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res: Res) => void) => unknown;

/** One unary call with the API key and the deadline. */
export function unary<Req, Res>(ctx: CommandContext, method: Unary<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(ctx.client, req, ctx.metadata, { deadline: new Date(Date.now() + ctx.timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', ENOTFOUND: 'host name not found', EAI_AGAIN: 'host name lookup failed',
};

/**
 * Why a channel did not connect, in words, from grpc-js's details ("No connection established. Last error: Error:
 * connect ECONNREFUSED 127.0.0.1:1. Resolution note: " is "connection refused").
 */
export function unreachableCause(details: string): string {
  const errno = /\b(E[A-Z_]{3,})\b/.exec(details)?.[1];
  if (errno !== undefined) return SOCKET_ERRORS[errno] ?? errno;
  if (/name resolution failed/i.test(details)) return 'host name not found';
  const cause = details
    .replace(/\s*Resolution note:.*$/s, '')
    .replace(/^No connection established\.\s*(Last error:\s*)?/, '')
    .replace(/^Error:\s*/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/, '')
    .replace(/\.$/, '')
    .trim();
  return cause === '' ? 'no connection' : cause.charAt(0).toLowerCase() + cause.slice(1);
}

/** A gRPC error as one line that says what to do. */
export function explainGrpcError(err: ServiceError, connection: ConnectionOptions): string {
  switch (err.code) {
    case status.UNAVAILABLE: return `cannot reach the controller at ${connection.server} (${unreachableCause(err.details)}); is it running? Set --server or RIGWARDEN_SERVER`;
    case status.DEADLINE_EXCEEDED: return `the controller at ${connection.server} did not answer in time`;
    case status.NOT_FOUND:
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION: return err.details;
    case status.UNAUTHENTICATED: return connection.apiKey === ''
      ? `the controller wants an API key and rigctl found ${connection.apiKeySource}; pass --api-key-file FILE or set RIGWARDEN_API_KEY_FILE (the first admin key is <data-dir>/admin.token)`
      : `the controller refused the API key from ${connection.apiKeySource} (${err.details}); pass another with --api-key-file FILE or RIGWARDEN_API_KEY_FILE (the first admin key is <data-dir>/admin.token)`;
    case status.PERMISSION_DENIED: return `permission denied: ${err.details}`;
    default: return `${status[err.code] ?? err.code}: ${err.details}`;
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err !== null && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number';
}
