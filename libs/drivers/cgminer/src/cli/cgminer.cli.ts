import { writeFileSync } from 'node:fs';
import { MinerSnapshot } from '@rigwarden/protocol';
import { driverRegistry, DriverError, sanitizeReading, type MinerReading } from '@rigwarden/drivers-core';
import { CgminerFamilyDriver } from '../cgminer.driver';
import { scanCgminer, type ScanResult } from '../discovery/cgminer-discovery.scanner';
import { ScanTargetError } from '../discovery/scan-targets.parser';

/**
 * The agent's `scan` and `probe` subcommands, kept here next to what they drive so
 * the agent's main only dispatches:
 *
 *   rigwarden-agent scan 10.0.0.0/22 10.0.4.7:4029 [--json] [--write-config FILE]
 *   rigwarden-agent probe 10.0.0.21[:4028] [--json]
 *
 * Both write to `out` and return the process exit code.
 */
export type Write = (line: string) => void;

const USAGE_SCAN = 'usage: rigwarden-agent scan CIDR|ADDRESS[:PORT]|A.B.C.D-E ... [--json] [--port N] [--timeout MS]'
  + ' [--web-port N (0: no web fingerprint)] [--grpc-port N] [--v3-port N] [--user U --password PW] [--write-config FILE [--rig-prefix P]]';
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

function formatPaths(r: ScanResult): string {
  const paths = r.label?.controlPaths ?? [];
  if (paths.length === 0) return '';
  return `  via ${paths.map((p) => `${p.driver}:${p.port} (${p.access === 'control' ? 'control' : 'read only'})`).join(', ')}`;
}

export function formatScanLine(r: ScanResult): string {
  const where = `${r.host}:${r.port}`.padEnd(21);
  const ms = `${Math.round(r.durationMs)} ms`.padStart(8);
  if (r.class === 'identified') {
    const id = r.identification;
    const support = id?.support === 'partial' ? ' (partially supported)' : '';
    const rate = r.hashrateHs === undefined ? '' : `  ${formatHashrate(r.hashrateHs)}`;
    const vendor = r.label?.vendor || id?.dialect || '-';
    return `${where} identified    ${vendor}${support}  ${r.model || id?.model || '-'}  ${r.firmware || '-'}${rate}${formatPaths(r)}${ms}`;
  }
  return `${where} ${r.class.padEnd(13)} ${r.reason ?? ''}${ms}`;
}

/** The rig id a scan gives a miner: the prefix and its address with dashes (scan-10-0-1-11), as the agent's scan: does. */
export function scanRigId(prefix: string, host: string, port: number, defaultPort: number): string {
  return `${prefix}${host.replaceAll('.', '-').replaceAll(':', '-')}${port === defaultPort ? '' : `-${port}`}`;
}

/**
 * An agent config's `miners:` for the identified miners, each with the driver that controls it (its label's pick);
 * strings are JSON-quoted, which YAML reads as they are.
 */
export function scanConfigYaml(results: readonly ScanResult[], opts: { rigPrefix: string; defaultPort: number; command: string }): string {
  const lines = [
    `# Written by \`${opts.command}\`: one entry per identified miner, with the driver that can control it`,
    '# (docs/drivers.md#identify-a-miner). Put these under an agent config\'s miners:, with credentials in options.',
    'miners:',
  ];
  for (const r of results) {
    const pick = r.class === 'identified' ? r.label?.driver : undefined;
    if (!pick) continue;
    const label = r.label!;
    lines.push(`  # ${[label.vendor, label.model, label.firmware].filter(Boolean).join(' / ') || 'unnamed'}: ${label.controlPaths.map((p) => `${p.driver}:${p.port} ${p.access}`).join(', ')}`);
    lines.push(`  - rig: ${JSON.stringify(scanRigId(opts.rigPrefix, r.host, r.port, opts.defaultPort))}`);
    lines.push(`    driver: ${JSON.stringify(pick.name)}`);
    lines.push(`    host: ${JSON.stringify(r.host)}`);
    lines.push(`    port: ${pick.port}`);
    if (pick.options) lines.push(`    options: ${JSON.stringify(pick.options)}`);
  }
  if (lines.length === 3) lines[2] = 'miners: []';
  return `${lines.join('\n')}\n`;
}

const portFlag = (flags: Record<string, string>, name: string): number | undefined => (flags[name] !== undefined ? Number(flags[name]) : undefined);

export async function runScanCommand(argv: readonly string[], out: Write, err: Write = out): Promise<number> {
  const args = parse(argv);
  if (args.positional.length === 0) {
    err(USAGE_SCAN);
    return 2;
  }
  const timeout = args.flags['timeout'] ? Number(args.flags['timeout']) : undefined;
  for (const name of ['port', 'web-port', 'grpc-port', 'v3-port']) {
    const v = portFlag(args.flags, name);
    if (v !== undefined && (!Number.isInteger(v) || v < (name === 'web-port' ? 0 : 1) || v > 65535)) {
      err(`scan: --${name} must be a port number${name === 'web-port' ? ' (0: no web fingerprint)' : ''}`);
      return 2;
    }
  }
  const port = portFlag(args.flags, 'port');
  const apiPorts: Record<string, number> = {};
  if (portFlag(args.flags, 'grpc-port') !== undefined) apiPorts['braiins-grpc'] = portFlag(args.flags, 'grpc-port')!;
  if (portFlag(args.flags, 'v3-port') !== undefined) apiPorts['whatsminer-v3'] = portFlag(args.flags, 'v3-port')!;
  const credentials = args.flags['user'] !== undefined || args.flags['password'] !== undefined
    ? { ...(args.flags['user'] !== undefined ? { user: args.flags['user'] } : {}), ...(args.flags['password'] !== undefined ? { password: args.flags['password'] } : {}) }
    : undefined;
  const counts = { identified: 0, responsive: 0, unresponsive: 0 };
  const found: ScanResult[] = [];
  try {
    for await (const r of scanCgminer({
      targets: args.positional,
      port,
      ...(portFlag(args.flags, 'web-port') !== undefined ? { webPort: portFlag(args.flags, 'web-port') } : {}),
      apiPorts,
      ...(credentials ? { credentials } : {}),
      ...(timeout ? { hostDeadlineMs: timeout, identifyTimeoutMs: timeout } : {}),
    })) {
      counts[r.class]++;
      if (r.class === 'identified') found.push(r);
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
  const file = args.flags['write-config'];
  if (file) {
    found.sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }) || a.port - b.port);
    const yaml = scanConfigYaml(found, { rigPrefix: args.flags['rig-prefix'] ?? 'scan-', defaultPort: port ?? 4028, command: `rigwarden-agent scan ${args.positional.join(' ')}` });
    writeFileSync(file, yaml, { mode: 0o600 });
    if (!args.json) out(`wrote ${found.filter((r) => r.label?.driver).length} miners to ${file}`);
  }
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
  // Under auto, --web-port is where the web UI's fingerprint is looked for (options.webPort), not the port read.
  const auto = driverName === 'auto';
  const port = m[2] ?? args.flags['port'] ?? args.flags['grpc-port'] ?? (auto ? undefined : args.flags['web-port']) ?? (defaultPort === 4028 ? apiPort : undefined);
  const driverOptions = {
    ...(auto && args.flags['web-port'] !== undefined ? { webPort: Number(args.flags['web-port']) } : {}),
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
    const label = driver instanceof CgminerFamilyDriver ? driver.label : undefined;
    if (label) {
      const paths = label.controlPaths.map((p) => `${p.driver}:${p.port} (${p.access === 'control' ? 'control' : 'read only'})`).join(', ');
      out(`# ${[label.vendor, label.model, label.firmware].filter(Boolean).join(' / ') || 'unnamed'}; control paths: ${paths || 'none'}`
        + `${label.driver && label.driver.name !== id?.dialect ? `; configure driver ${label.driver.name} on port ${label.driver.port} to control it` : ''}`);
    }
    out(JSON.stringify(json, null, 2));
  }
  return 0;
}
