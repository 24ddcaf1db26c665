import { readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_TOPIC_ROOT } from '@rigwarden/protocol';
import type { LivenessParams } from '../liveness/rig-liveness';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../persistence/ports/rollup.port';
import type { OwnershipTiming } from '../ownership/shard-ownership.service';

export interface ControllerConfig {
  dataDir: string;
  dbPath: string;
  /**
   * PostgreSQL instead of the SQLite file (--database / RIGWARDEN_DATABASE_URL, postgres://user:password@host/db): the
   * whole controller's storage, migrated at start. Undefined: SQLite at dbPath.
   */
  databaseUrl?: string;
  /**
   * This controller's name among the controllers sharing the database (--replica-id / RIGWARDEN_REPLICA_ID): with it
   * the rigs are split between them through shard leases in PostgreSQL. Unique per controller; needs databaseUrl.
   */
  replicaId?: string;
  /** Lease timing (defaults in ownership/shard-ownership.service.ts: 10 s leases renewed every 3 s). */
  ownership?: Partial<OwnershipTiming>;
  /** External broker URL (MQTT_URL); when absent the controller runs an embedded broker. */
  mqttUrl?: string;
  embeddedBroker: {
    host: string; port: number; /** Take a free port when `port` is busy. */ fallbackToFreePort: boolean;
    /** The agents' logins and rigs (--broker-users, `rigctl broker-config --format rigwarden`); watched, re-read when it changes. */
    usersFile: string;
    /** Clients without a username get every right (--mqtt-allow-anonymous): for tests and trusted single-user hosts only. */
    allowAnonymous: boolean;
  };
  grpc: { host: string; port: number; fallbackToFreePort: boolean };
  /** The dashboard and its HTTP API (--http, RIGWARDEN_HTTP_LISTEN). */
  http: { host: string; port: number; fallbackToFreePort: boolean; /** Open /api/stream streams per API key (--max-streams-per-key, default 8). */ maxStreamsPerKey?: number };
  /** Optional file where the controller writes its endpoints as JSON once it is ready. */
  readyFile?: string;
  /** Largest batch written in one transaction; a failed write is retried after retryMs. */
  ingest: { batchSize: number; retryMs: number };
  mqttClientId: string;
  /** MQTT topic root shared with the agents (RIGWARDEN_TOPIC_ROOT). */
  topicRoot: string;
  /** The fleet spec (groups, pools, profiles, policy parameters); without it no policy acts. */
  fleetFile?: string;
  /** Per-rig command keys (same file format as the agent's); without it no command can be signed. */
  keysFile?: string;
  reconcile: { timeoutMs: number; concurrency: number };
  /**
   * How the controller judges liveness (defaults in liveness/rig-liveness.ts: cadence learned from the snapshots,
   * 5 s until known; stale after 3 missed intervals, offline after 6; a sweep every second).
   */
  liveness?: Partial<LivenessParams>;
  /** Alert rules and webhook channels (YAML with an `alerts:` section); without it alerts are listed, not sent. */
  alertsFile?: string;
  /** Command retries and deadlines (defaults in commands/command-dispatcher.service.ts: 60 s deadline, retry 2 s doubling to 15 s). */
  commands?: { defaultTimeoutMs?: number; retryInitialMs?: number; retryMaxMs?: number; retryJitter?: number; tickMs?: number; envelopeTtlMs?: number; publishTimeoutMs?: number };
  /** TLS for the gRPC API; with caFile, clients must also present a certificate that CA signed (mutual TLS). */
  grpcTls?: { certFile: string; keyFile: string; caFile?: string };
  /** TLS to an external broker (mqtts://): the CA to trust, and a client certificate for mutual TLS. */
  mqttTls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** The API key pepper and the audit key (docs/security.md): created on first start; keep it off the database's disk if you can. */
  secretsFile: string;
  /** The controller's broker login (see rigctl broker-config); the password is read from a file or the environment. */
  mqttAuth?: { username: string; password: string };
  /**
   * MQTT 5 shared subscription group (RIGWARDEN_MQTT_SHARED_GROUP): controllers in one group split telemetry, events
   * and results between them ($share/<group>/...). Needs a broker with MQTT 5, such as Mosquitto 2; not aedes.
   */
  mqttSharedGroup?: string;
  /**
   * How long each tier of telemetry history is kept (--retention-raw / -1m / -1h, RIGWARDEN_RETENTION_RAW / _1M / _1H;
   * default 2 d raw, 14 d of 1-minute rollups, 400 d of 1-hour rollups).
   */
  retention: RetentionPolicy;
}

export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');

export class ControllerConfigError extends Error {
  override readonly name = 'ControllerConfigError';
}

export const CONTROLLER_USAGE = `usage: rigwarden-controller [options]

  --data-dir <dir>        where the SQLite file lives (default ./data, env RIGWARDEN_DATA_DIR)
  --db <file>             SQLite file (default <data-dir>/rigwarden.db)
  --database <url>        store everything in PostgreSQL instead of SQLite: postgres://user:password@host:5432/db
                          (env RIGWARDEN_DATABASE_URL; migrated at start; prefer the env or PGPASSWORD for a password)
  --replica-id <name>     share the fleet with the other controllers on the same --database: each rig is
                          reconciled by one of them, through shard leases (env RIGWARDEN_REPLICA_ID; unique)
  --mqtt-url <url>        use this broker instead of the embedded one (env MQTT_URL)
  --mqtt-port <port>      embedded broker port (default 1883; a free port is taken if it is busy)
  --broker-users <file>   the embedded broker's agents: logins, password hashes and rigs, as written by
                          rigctl broker-config --format rigwarden (env RIGWARDEN_BROKER_USERS; default
                          <data-dir>/broker-users.yaml; re-read when it changes; missing: no agent may connect)
  --mqtt-allow-anonymous  the embedded broker lets clients without a username do anything (tests only)
  --grpc <host:port>      gRPC listen address (default 127.0.0.1:50051, env RIGWARDEN_GRPC_LISTEN)
  --http <host:port>      dashboard and HTTP API address (default 127.0.0.1:8080, env RIGWARDEN_HTTP_LISTEN)
  --max-streams-per-key <n>  dashboard streams one API key may hold open (default 8, env RIGWARDEN_HTTP_MAX_STREAMS_PER_KEY)
  --ready-file <file>     write {"grpc","mqtt","http","db","pid"} (JSON) here once ready
  --fleet <file>          fleet spec YAML (env RIGWARDEN_FLEET); see fleet.sample.yaml
  --keys-file <file>      per-rig command keys (env RIGWARDEN_RIG_KEYS_FILE; default <data-dir>/keys.json)
  --alerts <file>         alert rules and webhook channels YAML (env RIGWARDEN_ALERTS); see docs/observability.md
  --grpc-tls-cert <file>  serve gRPC over TLS with this certificate (PEM; env RIGWARDEN_GRPC_TLS_CERT) ...
  --grpc-tls-key <file>   ... and its private key (env RIGWARDEN_GRPC_TLS_KEY)
  --grpc-tls-ca <file>    require client certificates signed by this CA (mutual TLS; env RIGWARDEN_GRPC_TLS_CA)
  --mqtt-ca <file>        trust this CA for an mqtts:// broker (env RIGWARDEN_MQTT_CA)
  --mqtt-cert <file>      client certificate for the broker (mutual TLS; env RIGWARDEN_MQTT_CERT) ...
  --mqtt-key <file>       ... and its private key (env RIGWARDEN_MQTT_KEY)
  --secrets-file <file>   API key pepper and audit key, made on first start (env RIGWARDEN_SECRETS_FILE;
                          default <data-dir>/controller-secrets.json)
  --mqtt-username <name>  broker login (env RIGWARDEN_MQTT_USERNAME; rigctl broker-config makes one)
  --mqtt-password-file <file>
                          file holding its password (or env RIGWARDEN_MQTT_PASSWORD; never on the command line)
  --mqtt-shared-group <name>
                          split telemetry with the other controllers of this group through MQTT 5 shared
                          subscriptions (env RIGWARDEN_MQTT_SHARED_GROUP; needs Mosquitto 2 or another MQTT 5 broker)
  --retention-raw <dur>   keep raw snapshots this long (default 2d, env RIGWARDEN_RETENTION_RAW; 30m, 12h, 2d ...)
  --retention-1m <dur>    keep 1-minute rollups this long (default 14d, env RIGWARDEN_RETENTION_1M)
  --retention-1h <dur>    keep 1-hour rollups this long (default 400d, env RIGWARDEN_RETENTION_1H)
  --help`;

function parseHostPort(value: string, what: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new ControllerConfigError(`${what}: expected host:port (e.g. 127.0.0.1:50051), got ${JSON.stringify(value)}`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

const VALUE_FLAGS = [
  'data-dir', 'db', 'database', 'replica-id', 'secrets-file', 'mqtt-url', 'mqtt-port', 'grpc', 'http', 'max-streams-per-key', 'ready-file', 'fleet', 'keys-file', 'alerts',
  'grpc-tls-cert', 'grpc-tls-key', 'grpc-tls-ca', 'mqtt-ca', 'mqtt-cert', 'mqtt-key', 'mqtt-username', 'mqtt-password-file', 'mqtt-shared-group', 'broker-users',
  'retention-raw', 'retention-1m', 'retention-1h',
] as const;

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A retention like `2d`, `36h`, `90m`: a positive whole number and a unit (s, m, h, d, w). */
export function parseRetention(value: string, what: string): number {
  const match = /^(\d+)(s|m|h|d|w)$/.exec(value.trim());
  const ms = match ? Number(match[1]) * DURATION_UNIT_MS[match[2]!]! : NaN;
  if (!match || !(ms > 0) || !Number.isSafeInteger(ms)) {
    throw new ControllerConfigError(`${what}: expected a duration like 2d, 36h or 90m, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** The command line by flag name (node's util.parseArgs: `--flag value` or `--flag=value`; the last of a repeated flag wins). */
function parseControllerArgv(argv: readonly string[]): Map<string, string> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' }, 'mqtt-allow-anonymous': { type: 'boolean' } };
  for (const name of VALUE_FLAGS) options[name] = { type: 'string' };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return new Map(Object.entries(values).map(([key, value]) => [key, value === true ? 'true' : String(value)]));
  } catch (err) {
    const message = (err as Error).message;
    const code = (err as NodeJS.ErrnoException).code;
    const flag = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new ControllerConfigError(/does not take an argument/.test(message) ? `${flag} takes no value` : `${flag} needs a value`);
    }
    const arg = /^\S+ (?:option|argument) '([^']*)'/.exec(message)?.[1] ?? flag;
    throw new ControllerConfigError(`unknown argument "${arg}"\n\n${CONTROLLER_USAGE}`);
  }
}

export function loadControllerConfig(argv: string[], env: NodeJS.ProcessEnv): ControllerConfig {
  const flags = parseControllerArgv(argv);
  if (flags.has('help')) throw new ControllerConfigError(CONTROLLER_USAGE);

  const dataDir = resolve(flags.get('data-dir') ?? env['RIGWARDEN_DATA_DIR'] ?? './data');
  const mqttUrl = flags.get('mqtt-url') ?? (env['MQTT_URL'] || undefined);
  if (mqttUrl !== undefined && !/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqttUrl)) {
    throw new ControllerConfigError(`MQTT_URL / --mqtt-url: expected a URL like mqtt://127.0.0.1:1883, got ${JSON.stringify(mqttUrl)}`);
  }
  const mqttPortFlag = flags.get('mqtt-port');
  const mqttPort = mqttPortFlag === undefined ? 1883 : Number(mqttPortFlag);
  if (!Number.isInteger(mqttPort) || mqttPort < 0 || mqttPort > 65535) {
    throw new ControllerConfigError(`--mqtt-port: expected a port number 0-65535, got ${JSON.stringify(mqttPortFlag)}`);
  }
  const grpcFlag = flags.get('grpc') ?? env['RIGWARDEN_GRPC_LISTEN'];
  const grpc = grpcFlag ? parseHostPort(grpcFlag, '--grpc / RIGWARDEN_GRPC_LISTEN') : { host: '127.0.0.1', port: 50051 };
  const httpFlag = flags.get('http') ?? env['RIGWARDEN_HTTP_LISTEN'];
  const http = httpFlag ? parseHostPort(httpFlag, '--http / RIGWARDEN_HTTP_LISTEN') : { host: '127.0.0.1', port: 8080 };
  const streamsFlag = flags.get('max-streams-per-key') ?? (env['RIGWARDEN_HTTP_MAX_STREAMS_PER_KEY'] || undefined);
  const maxStreamsPerKey = streamsFlag === undefined ? undefined : Number(streamsFlag);
  if (maxStreamsPerKey !== undefined && !(Number.isInteger(maxStreamsPerKey) && maxStreamsPerKey >= 1 && maxStreamsPerKey <= 1000)) {
    throw new ControllerConfigError(`--max-streams-per-key / RIGWARDEN_HTTP_MAX_STREAMS_PER_KEY: an integer from 1 to 1000, got ${JSON.stringify(streamsFlag)}`);
  }
  const file = (flag: string, envName: string): string | undefined => {
    const value = flags.get(flag) ?? (env[envName] || undefined);
    return value === undefined ? undefined : resolve(value);
  };
  const [grpcCert, grpcKey, grpcCa] = [file('grpc-tls-cert', 'RIGWARDEN_GRPC_TLS_CERT'), file('grpc-tls-key', 'RIGWARDEN_GRPC_TLS_KEY'), file('grpc-tls-ca', 'RIGWARDEN_GRPC_TLS_CA')];
  if ((grpcCert === undefined) !== (grpcKey === undefined)) throw new ControllerConfigError('--grpc-tls-cert and --grpc-tls-key go together (the certificate and its private key)');
  if (grpcCa !== undefined && grpcCert === undefined) throw new ControllerConfigError('--grpc-tls-ca needs --grpc-tls-cert and --grpc-tls-key (mutual TLS is TLS plus client certificates)');
  const [mqttCa, mqttCert, mqttKey] = [file('mqtt-ca', 'RIGWARDEN_MQTT_CA'), file('mqtt-cert', 'RIGWARDEN_MQTT_CERT'), file('mqtt-key', 'RIGWARDEN_MQTT_KEY')];
  if ((mqttCert === undefined) !== (mqttKey === undefined)) throw new ControllerConfigError('--mqtt-cert and --mqtt-key go together (the client certificate and its private key)');
  const mqttUsername = flags.get('mqtt-username') ?? (env['RIGWARDEN_MQTT_USERNAME'] || undefined);
  const mqttPasswordFile = file('mqtt-password-file', 'RIGWARDEN_MQTT_PASSWORD_FILE');
  let mqttPassword = env['RIGWARDEN_MQTT_PASSWORD'] || undefined;
  if (mqttPasswordFile !== undefined) {
    try {
      mqttPassword = readFileSync(mqttPasswordFile, 'utf8').trim();
    } catch (err) {
      throw new ControllerConfigError(`--mqtt-password-file ${mqttPasswordFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if ((mqttUsername === undefined) !== (mqttPassword === undefined)) {
    throw new ControllerConfigError('--mqtt-username and its password (--mqtt-password-file or RIGWARDEN_MQTT_PASSWORD) go together');
  }

  const brokerUsers = file('broker-users', 'RIGWARDEN_BROKER_USERS');
  const allowAnonymous = flags.has('mqtt-allow-anonymous');
  if (mqttUrl !== undefined && (allowAnonymous || flags.has('broker-users'))) {
    throw new ControllerConfigError(`${allowAnonymous ? '--mqtt-allow-anonymous' : '--broker-users'} is for the embedded broker; with --mqtt-url / MQTT_URL the external broker's own configuration decides who may connect (rigctl broker-config --format mosquitto)`);
  }

  const databaseUrl = flags.get('database') ?? (env['RIGWARDEN_DATABASE_URL'] || undefined);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    throw new ControllerConfigError(`--database / RIGWARDEN_DATABASE_URL: expected a PostgreSQL URL like postgres://user@127.0.0.1:5432/rigwarden, got ${JSON.stringify(databaseUrl.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@'))}`);
  }
  if (databaseUrl !== undefined && flags.has('db')) {
    throw new ControllerConfigError('--db (a SQLite file) and --database (PostgreSQL) exclude each other: give one');
  }

  const replicaId = flags.get('replica-id') ?? (env['RIGWARDEN_REPLICA_ID'] || undefined);
  if (replicaId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(replicaId)) {
    throw new ControllerConfigError(`--replica-id / RIGWARDEN_REPLICA_ID: use 1-64 characters from A-Z a-z 0-9 . _ -, got ${JSON.stringify(replicaId)}`);
  }
  if (replicaId !== undefined && databaseUrl === undefined) {
    throw new ControllerConfigError('--replica-id needs --database (or RIGWARDEN_DATABASE_URL): the controllers share the fleet through leases held in PostgreSQL');
  }

  const mqttSharedGroup = flags.get('mqtt-shared-group') ?? (env['RIGWARDEN_MQTT_SHARED_GROUP'] || undefined);
  if (mqttSharedGroup !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(mqttSharedGroup)) {
    throw new ControllerConfigError(`--mqtt-shared-group / RIGWARDEN_MQTT_SHARED_GROUP: use 1-64 characters from A-Z a-z 0-9 . _ - (it becomes a topic level), got ${JSON.stringify(mqttSharedGroup)}`);
  }
  if (mqttSharedGroup !== undefined && mqttUrl === undefined) {
    throw new ControllerConfigError('--mqtt-shared-group needs an MQTT 5 broker with shared subscriptions, such as Mosquitto 2, given by --mqtt-url / MQTT_URL: the embedded broker (aedes) speaks MQTT 3.1.1 only');
  }

  const retentionOf = (flag: string, envName: string, fallback: number): number => {
    const value = flags.get(flag) ?? (env[envName] || undefined);
    return value === undefined ? fallback : parseRetention(value, `--${flag} / ${envName}`);
  };
  const retention: RetentionPolicy = {
    rawMs: retentionOf('retention-raw', 'RIGWARDEN_RETENTION_RAW', DEFAULT_RETENTION.rawMs),
    minuteMs: retentionOf('retention-1m', 'RIGWARDEN_RETENTION_1M', DEFAULT_RETENTION.minuteMs),
    hourMs: retentionOf('retention-1h', 'RIGWARDEN_RETENTION_1H', DEFAULT_RETENTION.hourMs),
  };

  return {
    dataDir,
    dbPath: resolve(flags.get('db') ?? join(dataDir, 'rigwarden.db')),
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    ...(replicaId !== undefined ? { replicaId } : {}),
    mqttUrl,
    embeddedBroker: {
      host: '127.0.0.1', port: mqttPort, fallbackToFreePort: mqttPortFlag === undefined,
      usersFile: brokerUsers ?? join(dataDir, 'broker-users.yaml'), allowAnonymous,
    },
    grpc: { ...grpc, fallbackToFreePort: grpcFlag === undefined },
    http: { ...http, fallbackToFreePort: httpFlag === undefined, ...(maxStreamsPerKey !== undefined ? { maxStreamsPerKey } : {}) },
    readyFile: flags.get('ready-file'),
    ingest: { batchSize: 2000, retryMs: 1000 },
    mqttClientId: env['RIGWARDEN_CONTROLLER_ID'] || 'rigwarden-controller',
    topicRoot: env['RIGWARDEN_TOPIC_ROOT'] || DEFAULT_TOPIC_ROOT,
    fleetFile: flags.get('fleet') ?? (env['RIGWARDEN_FLEET'] || undefined),
    keysFile: resolve(flags.get('keys-file') ?? (env['RIGWARDEN_RIG_KEYS_FILE'] || join(dataDir, 'keys.json'))),
    reconcile: { timeoutMs: 10_000, concurrency: 8 },
    alertsFile: flags.get('alerts') ?? (env['RIGWARDEN_ALERTS'] || undefined),
    ...(grpcCert && grpcKey ? { grpcTls: { certFile: grpcCert, keyFile: grpcKey, ...(grpcCa ? { caFile: grpcCa } : {}) } } : {}),
    secretsFile: file('secrets-file', 'RIGWARDEN_SECRETS_FILE') ?? join(dataDir, 'controller-secrets.json'),
    ...(mqttUsername !== undefined && mqttPassword !== undefined ? { mqttAuth: { username: mqttUsername, password: mqttPassword } } : {}),
    ...(mqttSharedGroup !== undefined ? { mqttSharedGroup } : {}),
    ...(mqttCa || mqttCert ? { mqttTls: { ...(mqttCa ? { caFile: mqttCa } : {}), ...(mqttCert && mqttKey ? { certFile: mqttCert, keyFile: mqttKey } : {}) } } : {}),
    retention,
  };
}
