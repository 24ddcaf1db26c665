import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { RigSelector, type FleetServiceClient } from '@rigwarden/protocol';

/** What every FleetService subcommand gets: a connected client, the API key metadata and the common options. */
export interface CommandContext {
  client: FleetServiceClient;
  metadata: Metadata;
  server: string;
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

export interface ParsedArgs {
  positional: string[];
  switches: Set<string>;
  values: Map<string, string[]>;
}

export interface FleetCommand {
  /** The first word(s): "rigs", "spec". */
  name: string;
  /** One or more usage lines, shown by --help and on a usage error. */
  usage: string;
  flags: Readonly<Record<string, FlagKind>>;
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}

/** Flags every subcommand takes. */
export const COMMON_FLAGS: Readonly<Record<string, FlagKind>> = { json: 'switch', timeout: 'value', help: 'switch' };

/** `--flag value`, `--flag=value`, repeated `multi` flags; anything else not starting with `-` is positional. */
export function parseCommandArgs(argv: readonly string[], flags: Readonly<Record<string, FlagKind>>): ParsedArgs {
  const all = { ...COMMON_FLAGS, ...flags };
  const parsed: ParsedArgs = { positional: [], switches: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') { parsed.switches.add('help'); continue; }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) throw new UsageError(`unknown option "${arg}"`);
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = all[name];
    if (!kind) throw new UsageError(`unknown option "--${name}"`);
    if (kind === 'switch') {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      parsed.switches.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    parsed.values.set(name, [...(kind === 'multi' ? parsed.values.get(name) ?? [] : []), value]);
  }
  return parsed;
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

/** The rig selector flags shared by rigs and watch. */
export const SELECTOR_FLAGS: Readonly<Record<string, FlagKind>> = { group: 'value', label: 'multi', status: 'value', model: 'value', rig: 'multi' };
export const SELECTOR_USAGE = '[--group G] [--label k=v]... [--status online|offline|stale|miner-unreachable] [--model SUBSTRING] [--rig ID]...';

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

/** A gRPC error as one line that says what to do. */
export function explainGrpcError(err: ServiceError, server: string): string {
  switch (err.code) {
    case status.UNAVAILABLE: return `cannot reach the controller at ${server} (${err.details}); is it running? Set --server or RIGWARDEN_SERVER`;
    case status.DEADLINE_EXCEEDED: return `the controller at ${server} did not answer in time`;
    case status.NOT_FOUND:
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION: return err.details;
    case status.UNAUTHENTICATED: return `the controller refused the API key (${err.details}); pass --api-key-file FILE or set RIGWARDEN_API_KEY_FILE (the first admin key is <data-dir>/admin.token)`;
    case status.PERMISSION_DENIED: return `permission denied: ${err.details}`;
    default: return `${status[err.code] ?? err.code}: ${err.details}`;
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err !== null && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number';
}
