import { MinerSnapshot } from '@rigwarden/protocol';
import { driverRegistry, DriverError, sanitizeReading, type MinerReading } from '@rigwarden/drivers-core';
import { CgminerFamilyDriver } from '../cgminer.driver';
import { scanCgminer, type ScanResult } from '../discovery/cgminer-discovery.scanner';
import { ScanTargetError } from '../discovery/scan-targets.parser';

/**
 * The agent's `scan` and `probe` subcommands, kept here next to what they drive so
 * the agent's main only dispatches:
 *
 *   rigwarden-agent scan 10.0.0.0/22 10.0.4.7:4029 [--json]
 *   rigwarden-agent probe 10.0.0.21[:4028] [--json]
 *
 * Both write to `out` and return the process exit code.
 */
export type Write = (line: string) => void;

const USAGE_SCAN = 'usage: rigwarden-agent scan CIDR|ADDRESS[:PORT]|A.B.C.D-E ... [--json] [--port N] [--timeout MS]';
const USAGE_PROBE = 'usage: rigwarden-agent probe HOST[:PORT] [--json] [--driver NAME] [--port N | --grpc-port N | --web-port N] [--api-port N] [--user U] [--password PW]';

interface Parsed {
  positional: string[];
  json: boolean;
  flags: Record<string, string>;
}

function parse(argv: readonly string[]): Parsed {
  const out: Parsed = { positional: [], json: false, flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') out.json = true;
    else if (arg.startsWith('--')) out.flags[arg.slice(2)] = argv[++i] ?? '';
    else out.positional.push(arg);
  }
  return out;
}

function formatHashrate(hs: number): string {
  const units: [number, string][] = [[1e15, 'PH/s'], [1e12, 'TH/s'], [1e9, 'GH/s'], [1e6, 'MH/s'], [1e3, 'kH/s']];
  const [factor, unit] = units.find(([f]) => hs >= f) ?? [1, 'H/s'];
  return `${(hs / factor).toFixed(2)} ${unit}`;
}

export function formatScanLine(r: ScanResult): string {
  const where = `${r.host}:${r.port}`.padEnd(21);
  const ms = `${Math.round(r.durationMs)} ms`.padStart(8);
  if (r.class === 'identified') {
    const id = r.identification!;
    const support = id.support === 'partial' ? ' (partially supported)' : '';
    const rate = r.hashrateHs === undefined ? '' : `  ${formatHashrate(r.hashrateHs)}`;
    return `${where} identified    ${id.dialect}${support}  ${r.model || id.model || '-'}  ${r.firmware || ''}${rate}${ms}`;
  }
  return `${where} ${r.class.padEnd(13)} ${r.reason ?? ''}${ms}`;
}

export async function runScanCommand(argv: readonly string[], out: Write, err: Write = out): Promise<number> {
  const args = parse(argv);
  if (args.positional.length === 0) {
    err(USAGE_SCAN);
    return 2;
  }
  const timeout = args.flags['timeout'] ? Number(args.flags['timeout']) : undefined;
  const counts = { identified: 0, responsive: 0, unresponsive: 0 };
  try {
    for await (const r of scanCgminer({
      targets: args.positional,
      port: args.flags['port'] ? Number(args.flags['port']) : undefined,
      ...(timeout ? { hostDeadlineMs: timeout, identifyTimeoutMs: timeout } : {}),
    })) {
      counts[r.class]++;
      if (args.json) out(JSON.stringify(r));
      else if (r.class !== 'unresponsive') out(formatScanLine(r));
    }
  } catch (e) {
    if (e instanceof ScanTargetError) {
      err(`scan: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (!args.json) out(`${counts.identified} identified, ${counts.responsive} responsive but unidentified, ${counts.unresponsive} unresponsive`);
  return 0;
}

/** proto3 JSON of one MinerSnapshot read from any cgminer-API miner. */
export async function runProbeCommand(argv: readonly string[], out: Write, err: Write = out, now: () => Date = () => new Date()): Promise<number> {
  const args = parse(argv);
  const target = args.positional[0];
  if (!target) {
    err(USAGE_PROBE);
    return 2;
  }
  const m = /^(.+?)(?::(\d+))?$/.exec(target)!;
  const driverName = args.flags['driver'] ?? 'auto';
  // HOST:PORT, else --port (--grpc-port for braiins-grpc, --web-port for antminer-web), else the driver's own default
  // (4433 for whatsminer-v3, 50051 for braiins-grpc, 80 for antminer-web), else the cgminer API's 4028. --api-port is
  // the port of a cgminer-API driver, and for a driver of another protocol the cgminer API it merges (options.apiPort).
  const defaultPort = driverRegistry.get(driverName)?.defaultPort ?? 4028;
  const apiPort = args.flags['api-port'];
  const port = m[2] ?? args.flags['port'] ?? args.flags['grpc-port'] ?? args.flags['web-port'] ?? (defaultPort === 4028 ? apiPort : undefined);
  const driverOptions = {
    ...(args.flags['user'] ? { user: args.flags['user'] } : {}), ...(args.flags['password'] ? { password: args.flags['password'] } : {}),
    ...(apiPort && defaultPort !== 4028 ? { apiPort: Number(apiPort) } : {}),
  };
  const endpoint = {
    host: m[1]!, port: port ? Number(port) : defaultPort,
    options: Object.keys(driverOptions).length > 0 ? driverOptions : undefined,
  };
  const driver = driverRegistry.create(driverName, endpoint);
  let reading: MinerReading;
  try {
    // Sanitised again whatever the driver: a value that cannot be true is left out with a warning, never thrown.
    reading = sanitizeReading(await driver.collect({ signal: AbortSignal.timeout(10_000), deadlineMs: 10_000 }));
  } catch (e) {
    // No reply, however garbled, ends the probe with a stack trace: a typed error and exit code 1.
    err(e instanceof DriverError ? `probe: ${e.message} (${e.kind})` : `probe: could not read the miner: ${e instanceof Error ? e.message : String(e)} (internal)`);
    return 1;
  }
  let json: Record<string, unknown>;
  try {
    json = MinerSnapshot.toJSON(MinerSnapshot.fromPartial({ ...reading, minerId: `${endpoint.host}:${endpoint.port}`, collectedAt: now() })) as Record<string, unknown>;
  } catch (e) {
    err(`probe: the reading could not be encoded: ${e instanceof Error ? e.message : String(e)} (internal)`);
    return 1;
  }
  if (args.json) {
    out(JSON.stringify(json));
  } else {
    const id = driver instanceof CgminerFamilyDriver ? driver.identification : undefined;
    if (id) out(`# ${id.dialect} (${id.support}): ${id.reason}`);
    out(JSON.stringify(json, null, 2));
  }
  return 0;
}
