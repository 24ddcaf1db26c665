import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { driverRegistry } from '@rigwarden/drivers-core';
import { expandTargets } from '@rigwarden/drivers-cgminer';
import { DEFAULT_TOPIC_ROOT, RigTopics, isValidRigId } from '@rigwarden/protocol';
import { ConfigError } from './config-error';

const CGMINER_API_PORT = 4028;

export interface MinerConfig {
  /** The rig this miner belongs to: its telemetry goes to rigwarden/v1/rigs/{rig}/... */
  rig: string;
  /** Registered driver name, e.g. "cgminer". */
  driver: string;
  host: string;
  port: number;
  /** Miner id in telemetry; defaults to host:port. */
  id: string;
  /** Expected hashrate in H/s, for the watchdog (optional). */
  expectedHashrateHs?: number;
  /** GPU rigs: the miner command line the agent runs and supervises (argv, no shell). */
  process?: { command: string[]; cwd?: string; env: Record<string, string> };
  options: Record<string, unknown>;
}

export interface AgentConfig {
  file: string;
  /** labels: defaults for every rig of this agent (a rig's own rigs.<id>.labels win key by key). */
  agent: { id: string; dataDir: string; labels: Record<string, string> };
  mqtt: {
    url: string; clientId: string; username?: string; password?: string; topicRoot: string;
    /**
     * When a queued message may leave the outbox: 'controller' (default) once the controller's ingest receipt says it
     * is stored; 'broker' once the broker acknowledges it (no Rigwarden controller behind the broker to confirm).
     */
    confirm: 'controller' | 'broker';
    /** PEM file contents for mqtts://: the CA that signed the broker's certificate, and a client certificate and key. */
    tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  };
  poll: { intervalMs: number; timeoutMs: number; jitterMs: number };
  /** Store-and-forward while the broker is unreachable. */
  outbox: { maxBytes: number; maxAgeMs: number };
  /** How often the agent publishes its own status. */
  status: { intervalMs: number };
  /** Command verification: where the per-rig HMAC keys are, and the freshness window. */
  security: { keysFile: string; commandWindowMs: number };
  /** The local safety watchdog: acts on temperature without the controller. */
  safety: { criticalTempC: number; resumeBelowC: number; action: 'stop' | 'lowest-profile'; lowestWorkMode: number; normalWorkMode: number };
  /** Rig-level settings: how to reboot the host, which PDU outlet feeds it. */
  rigs: Record<string, RigSettings>;
  /** Named overclock / power profiles that ApplyProfile commands refer to. */
  profiles: Record<string, ProfileSettings>;
  miners: MinerConfig[];
  /** Address ranges scanned for cgminer-API miners, added as rigs named rigPrefix + address. */
  scan: ScanConfig[];
  /** GPU rigs: tune this machine's GPUs (power limit, clocks, fans) for ApplyProfile; off by default. */
  gpu: { tuning: boolean; nvidiaSmiPath?: string; nvidiaSettingsPath?: string; xDisplay?: string; amdgpuDrmRoot?: string; timeoutMs: number };
}

export interface ScanConfig {
  /** CIDRs, ranges (10.0.2.10-10.0.2.50) or single addresses. */
  ranges: string[];
  port: number;
  driver: string;
  rigPrefix: string;
  /** Scan again this often to pick up new miners (0: only at start). */
  intervalMinutes: number;
  options: Record<string, unknown>;
  /** The web UI's port for the HTTP fingerprint (0: none); a found miner's driver, under `auto`, is the one that controls it. */
  webPort: number;
  /** Ports of the vendors' own APIs by driver name (braiins-grpc, whatsminer-v3) when they are not the default. */
  ports: Record<string, number>;
}

export interface ProfileSettings {
  /** ASIC work mode (cgminer-family ascset workmode; 0 is usually the lowest). */
  workMode?: number;
  /** ASIC chip frequency in MHz. */
  frequencyMhz?: number;
  /** GPU settings (power limit, locked clocks, offsets, fan), as @rigwarden/drivers-core GpuTuning. */
  gpu?: Record<string, unknown>;
}

export interface RigSettings {
  /** Operator labels (model, row, site, ...) published in the rig's retained state; fleet groups select rigs by them. */
  labels: Record<string, string>;
  rebootCommand?: string[];
  /** Passed to @rigwarden/drivers-pdu createPduOutlet (driver, host, community, outlet, ...). */
  pdu?: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new ConfigError(this.file, path, problem);
  }

  object(value: unknown, path: string, allowed: string[]): Obj {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(path, `must be a mapping, got ${describe(value)}`);
    for (const key of Object.keys(value as Obj)) {
      if (!allowed.includes(key)) this.fail(path ? `${path}.${key}` : key, `unknown key; allowed here: ${allowed.join(', ')}`);
    }
    return value as Obj;
  }

  string(obj: Obj, key: string, path: string, fallback?: string): string {
    const value = obj[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      this.fail(`${path}${key}`, 'is required (a string)');
    }
    if (typeof value !== 'string' || value.trim() === '') this.fail(`${path}${key}`, `must be a non-empty string, got ${describe(value)}`);
    return value;
  }

  optionalString(obj: Obj, key: string, path: string): string | undefined {
    return obj[key] === undefined || obj[key] === null ? undefined : this.string(obj, key, path);
  }

  integer(obj: Obj, key: string, path: string, fallback: number, min: number, max: number): number {
    const value = obj[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`${path}${key}`, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
    }
    return value;
  }
}

/** scan[].ports: the vendors' own API ports by driver name, { braiins-grpc: 50051, whatsminer-v3: 4433 }. */
function scanPorts(r: Reader, value: unknown, path: string): Record<string, number> {
  const known = ['braiins-grpc', 'whatsminer-v3'];
  const obj = r.object(value, path, known);
  const out: Record<string, number> = {};
  for (const key of Object.keys(obj)) out[key] = r.integer(obj, key, `${path}.`, 0, 1, 65535);
  return out;
}

/** A mapping of non-empty string keys to non-empty string values (numbers are taken as their text: row: 1). */
function readLabels(r: Reader, value: unknown, path: string): Record<string, string> {
  const obj = r.object(value, path, Object.keys((value ?? {}) as Obj));
  const labels: Record<string, string> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (key.trim() === '') r.fail(path, 'label names must be non-empty');
    const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
    if (typeof text !== 'string' || text.trim() === '') r.fail(`${path}.${key}`, `must be a non-empty string, got ${describe(v)}`);
    labels[key] = text;
  }
  return labels;
}

/** A rig's labels: the agent-wide ones, overridden key by key by the rig's own. */
export function labelsForRig(config: Pick<AgentConfig, 'agent' | 'rigs'>, rigId: string): Record<string, string> {
  return { ...config.agent.labels, ...(config.rigs[rigId]?.labels ?? {}) };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Reads and validates the agent's YAML config. Environment variables override secrets and the broker URL. */
export function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, '', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new ConfigError(path, '', `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  return parseAgentConfig(doc.toJS(), path, env);
}

export function parseAgentConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const r: Reader = new Reader(file);
  const root = r.object(raw, '', ['agent', 'mqtt', 'poll', 'outbox', 'status', 'security', 'safety', 'profiles', 'rigs', 'miners', 'scan', 'gpu']);

  const agentRaw = r.object(root['agent'], 'agent', ['id', 'dataDir', 'labels']);
  const agentId = r.string(agentRaw, 'id', 'agent.', hostname());
  if (!isValidRigId(agentId)) r.fail('agent.id', `"${agentId}" is not a valid agent id: use 1-128 characters from A-Z a-z 0-9 . _ : - (first one alphanumeric)`);
  const dataDir = resolve(dirname(file), r.string(agentRaw, 'dataDir', 'agent.', './data/agent'));
  const agentLabels = readLabels(r, agentRaw['labels'], 'agent.labels');

  const mqttRaw = r.object(root['mqtt'], 'mqtt', ['url', 'clientId', 'username', 'password', 'passwordFile', 'topicRoot', 'tls', 'confirm']);
  const url = env['MQTT_URL'] || r.string(mqttRaw, 'url', 'mqtt.', 'mqtt://127.0.0.1:1883');
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) {
    r.fail(env['MQTT_URL'] ? 'MQTT_URL (environment)' : 'mqtt.url', `must be a URL like mqtt://host:1883 or mqtts://host:8883, got ${JSON.stringify(url)}`);
  }
  const mqtt: AgentConfig['mqtt'] = {
    url,
    clientId: r.string(mqttRaw, 'clientId', 'mqtt.', `rigwarden-agent-${agentId}`),
    username: env['RIGWARDEN_MQTT_USERNAME'] || r.optionalString(mqttRaw, 'username', 'mqtt.'),
    password: env['RIGWARDEN_MQTT_PASSWORD'] || r.optionalString(mqttRaw, 'password', 'mqtt.') || (() => {
      // A file of its own (0600, as `rigctl broker-config` and systemd credentials give it) keeps the password out of agent.yaml.
      const rel = r.optionalString(mqttRaw, 'passwordFile', 'mqtt.');
      if (rel === undefined) return undefined;
      const path = resolve(dirname(file), rel);
      try {
        const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
        return text === '' ? r.fail('mqtt.passwordFile', `${path} is empty`) : text;
      } catch (err) {
        return r.fail('mqtt.passwordFile', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    })(),
    topicRoot: env['RIGWARDEN_TOPIC_ROOT'] || r.string(mqttRaw, 'topicRoot', 'mqtt.', DEFAULT_TOPIC_ROOT),
    confirm: (() => {
      const value = mqttRaw['confirm'] ?? 'controller';
      return value === 'controller' || value === 'broker' ? value : r.fail('mqtt.confirm', `must be "controller" or "broker", got ${describe(value)}`);
    })(),
  };
  if (mqttRaw['tls'] !== undefined) {
    const tlsRaw = r.object(mqttRaw['tls'], 'mqtt.tls', ['caFile', 'certFile', 'keyFile', 'rejectUnauthorized']);
    const readPem = (key: string): Buffer | undefined => {
      const rel = r.optionalString(tlsRaw, key, 'mqtt.tls.');
      if (rel === undefined) return undefined;
      try {
        return readFileSync(resolve(dirname(file), rel));
      } catch (err) {
        return r.fail(`mqtt.tls.${key}`, `cannot read ${resolve(dirname(file), rel)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    };
    const reject = tlsRaw['rejectUnauthorized'] ?? true;
    if (typeof reject !== 'boolean') r.fail('mqtt.tls.rejectUnauthorized', `must be true or false, got ${describe(reject)}`);
    const tls = { ca: readPem('caFile'), cert: readPem('certFile'), key: readPem('keyFile'), rejectUnauthorized: reject as boolean };
    if ((tls.cert === undefined) !== (tls.key === undefined)) r.fail('mqtt.tls', 'certFile and keyFile go together: give both or neither');
    Object.assign(mqtt, { tls });
  }
  try {
    new RigTopics(mqtt.topicRoot);
  } catch (err) {
    r.fail(env['RIGWARDEN_TOPIC_ROOT'] ? 'RIGWARDEN_TOPIC_ROOT (environment)' : 'mqtt.topicRoot', (err as Error).message);
  }

  const pollRaw = r.object(root['poll'], 'poll', ['intervalMs', 'timeoutMs', 'jitterMs']);
  const intervalMs = r.integer(pollRaw, 'intervalMs', 'poll.', 5000, 200, 3_600_000);
  const poll = {
    intervalMs,
    timeoutMs: r.integer(pollRaw, 'timeoutMs', 'poll.', Math.min(10_000, intervalMs), 100, 600_000),
    jitterMs: r.integer(pollRaw, 'jitterMs', 'poll.', Math.floor(intervalMs / 10), 0, 600_000),
  };
  if (poll.timeoutMs > intervalMs) r.fail('poll.timeoutMs', `must not exceed poll.intervalMs (${intervalMs}), got ${poll.timeoutMs}`);

  const outboxRaw = r.object(root['outbox'], 'outbox', ['maxMegabytes', 'maxAgeMinutes']);
  const outbox = {
    maxBytes: r.integer(outboxRaw, 'maxMegabytes', 'outbox.', 64, 1, 100_000) * 1024 * 1024,
    maxAgeMs: r.integer(outboxRaw, 'maxAgeMinutes', 'outbox.', 24 * 60, 1, 60 * 24 * 365) * 60_000,
  };
  const statusRaw = r.object(root['status'], 'status', ['intervalMs']);
  const status = { intervalMs: r.integer(statusRaw, 'intervalMs', 'status.', 30_000, 1000, 3_600_000) };

  const securityRaw = r.object(root['security'], 'security', ['keysFile', 'commandWindowSeconds']);
  const security = {
    keysFile: resolve(dirname(file), env['RIGWARDEN_RIG_KEYS_FILE'] || r.string(securityRaw, 'keysFile', 'security.', join(dataDir, 'keys.json'))),
    commandWindowMs: r.integer(securityRaw, 'commandWindowSeconds', 'security.', 30, 1, 3600) * 1000,
  };

  const safetyRaw = r.object(root['safety'], 'safety', ['criticalTempC', 'resumeBelowC', 'action', 'lowestWorkMode', 'normalWorkMode']);
  const criticalTempC = r.integer(safetyRaw, 'criticalTempC', 'safety.', 95, 40, 150);
  const resumeBelowC = r.integer(safetyRaw, 'resumeBelowC', 'safety.', criticalTempC - 15, 0, 149);
  if (resumeBelowC >= criticalTempC) r.fail('safety.resumeBelowC', `must be below safety.criticalTempC (${criticalTempC}), got ${resumeBelowC}`);
  const action = r.string(safetyRaw, 'action', 'safety.', 'stop');
  if (action !== 'stop' && action !== 'lowest-profile') r.fail('safety.action', `must be "stop" or "lowest-profile", got ${JSON.stringify(action)}`);
  const safety = {
    criticalTempC, resumeBelowC, action: action as 'stop' | 'lowest-profile',
    lowestWorkMode: r.integer(safetyRaw, 'lowestWorkMode', 'safety.', 0, 0, 10),
    normalWorkMode: r.integer(safetyRaw, 'normalWorkMode', 'safety.', 1, 0, 10),
  };

  const profilesRaw = r.object(root['profiles'], 'profiles', Object.keys((root['profiles'] ?? {}) as Obj));
  const profiles: Record<string, ProfileSettings> = {};
  for (const [name, value] of Object.entries(profilesRaw)) {
    const p = `profiles.${name}.`;
    const obj = r.object(value, `profiles.${name}`, ['workMode', 'frequencyMhz', 'gpu']);
    if (Object.keys(obj).length === 0) r.fail(`profiles.${name}`, 'must set workMode, frequencyMhz or gpu');
    profiles[name] = {
      workMode: obj['workMode'] === undefined ? undefined : r.integer(obj, 'workMode', p, 0, 0, 10),
      frequencyMhz: obj['frequencyMhz'] === undefined ? undefined : r.integer(obj, 'frequencyMhz', p, 0, 50, 2000),
      gpu: obj['gpu'] === undefined ? undefined : r.object(obj['gpu'], `${p}gpu`, ['powerLimitW', 'coreClockLock', 'memoryClockLock', 'coreClockOffsetMhz', 'memoryClockOffsetMhz', 'fanPercent', 'clockVoltageStates']),
    };
  }

  const rigsRaw = r.object(root['rigs'], 'rigs', Object.keys((root['rigs'] ?? {}) as Obj));
  const rigs: Record<string, RigSettings> = {};
  for (const [rigId, value] of Object.entries(rigsRaw)) {
    const p = `rigs.${rigId}`;
    const obj = r.object(value, p, ['labels', 'rebootCommand', 'pdu']);
    const reboot = obj['rebootCommand'];
    if (reboot !== undefined && (!Array.isArray(reboot) || reboot.length === 0 || !reboot.every((a) => typeof a === 'string' && a !== ''))) {
      r.fail(`${p}.rebootCommand`, 'must be a non-empty list of strings (argv, no shell), e.g. ["ssh", "root@{host}", "reboot"]');
    }
    const pdu = obj['pdu'] === undefined ? undefined : r.object(obj['pdu'], `${p}.pdu`, Object.keys(obj['pdu'] as Obj));
    rigs[rigId] = { labels: readLabels(r, obj['labels'], `${p}.labels`), rebootCommand: reboot as string[] | undefined, pdu };
  }

  const gpuRaw = r.object(root['gpu'], 'gpu', ['tuning', 'nvidiaSmiPath', 'nvidiaSettingsPath', 'xDisplay', 'amdgpuDrmRoot', 'timeoutMs']);
  const tuning = gpuRaw['tuning'] ?? false;
  if (typeof tuning !== 'boolean') r.fail('gpu.tuning', `must be true or false, got ${describe(tuning)}`);
  const gpu = {
    tuning: tuning as boolean,
    nvidiaSmiPath: r.optionalString(gpuRaw, 'nvidiaSmiPath', 'gpu.'),
    nvidiaSettingsPath: r.optionalString(gpuRaw, 'nvidiaSettingsPath', 'gpu.'),
    xDisplay: r.optionalString(gpuRaw, 'xDisplay', 'gpu.'),
    amdgpuDrmRoot: r.optionalString(gpuRaw, 'amdgpuDrmRoot', 'gpu.'),
    timeoutMs: r.integer(gpuRaw, 'timeoutMs', 'gpu.', 10_000, 100, 120_000),
  };

  const scanRaw = root['scan'] ?? [];
  if (!Array.isArray(scanRaw)) r.fail('scan', 'must be a list of { ranges, port, driver, rigPrefix, intervalMinutes }');
  const scan = scanRaw.map((entry, i): ScanConfig => {
    const p = `scan[${i}].`;
    const obj = r.object(entry, `scan[${i}]`, ['ranges', 'port', 'driver', 'rigPrefix', 'intervalMinutes', 'options', 'webPort', 'ports']);
    const ranges = obj['ranges'];
    if (!Array.isArray(ranges) || ranges.length === 0 || !ranges.every((x) => typeof x === 'string' && x.trim() !== '')) {
      r.fail(`${p}ranges`, 'must be a non-empty list of CIDRs, ranges or addresses, e.g. ["10.0.1.0/24", "10.0.2.10-10.0.2.50"]');
    }
    try {
      expandTargets(ranges as string[]);
    } catch (err) {
      r.fail(`${p}ranges`, (err as Error).message);
    }
    const rigPrefix = r.string(obj, 'rigPrefix', p, 'scan-');
    if (!isValidRigId(`${rigPrefix}10-0-0-1`)) r.fail(`${p}rigPrefix`, `"${rigPrefix}" would make invalid rig ids: use A-Z a-z 0-9 . _ : -`);
    return {
      ranges: ranges as string[], port: r.integer(obj, 'port', p, 4028, 1, 65535), driver: r.string(obj, 'driver', p, 'auto'), rigPrefix,
      intervalMinutes: r.integer(obj, 'intervalMinutes', p, 60, 0, 10_080),
      options: obj['options'] === undefined ? {} : r.object(obj['options'], `${p}options`, Object.keys(obj['options'] as Obj)),
      webPort: r.integer(obj, 'webPort', p, 80, 0, 65535),
      ports: scanPorts(r, obj['ports'], `${p}ports`),
    };
  });

  const minersRaw = root['miners'] ?? [];
  if (!Array.isArray(minersRaw) || (minersRaw.length === 0 && scan.length === 0)) {
    r.fail('miners', 'must be a list of miners (rig, driver, host, port); it may be empty only when scan: finds them');
  }
  const seen = new Set<string>();
  const miners = minersRaw.map((m, i): MinerConfig => {
    const p = `miners[${i}].`;
    const obj = r.object(m, `miners[${i}]`, ['rig', 'driver', 'host', 'port', 'id', 'expectedHashrateHs', 'options', 'process']);
    const rig = r.string(obj, 'rig', p);
    if (!isValidRigId(rig)) r.fail(`${p}rig`, `"${rig}" is not a valid rig id: use 1-128 characters from A-Z a-z 0-9 . _ : - (first one alphanumeric)`);
    const host = r.string(obj, 'host', p);
    const driver = r.string(obj, 'driver', p, 'cgminer');
    // The driver's own port (4433 whatsminer-v3, 80 antminer-web, 50051 braiins-grpc, 4067 t-rex, ...) once its module has
    // registered it; the cgminer API's 4028 for a driver not loaded here.
    const port = r.integer(obj, 'port', p, driverRegistry.get(driver)?.defaultPort ?? CGMINER_API_PORT, 1, 65535);
    const id = r.string(obj, 'id', p, `${host}:${port}`);
    if (seen.has(`${rig}/${id}`)) r.fail(`${p}id`, `miner "${id}" is listed twice for rig "${rig}"`);
    seen.add(`${rig}/${id}`);
    const expected = obj['expectedHashrateHs'];
    if (expected !== undefined && (typeof expected !== 'number' || !(expected > 0))) r.fail(`${p}expectedHashrateHs`, `must be a positive number of H/s, got ${describe(expected)}`);
    const options = obj['options'] === undefined ? {} : r.object(obj['options'], `${p}options`, Object.keys((obj['options'] ?? {}) as Obj));
    let process: MinerConfig['process'];
    if (obj['process'] !== undefined) {
      const proc = r.object(obj['process'], `${p}process`, ['command', 'cwd', 'env']);
      const command = proc['command'];
      if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string' && a !== '')) {
        r.fail(`${p}process.command`, 'must be a non-empty list of strings (argv, no shell), e.g. ["/opt/t-rex/t-rex", "-c", "/opt/t-rex/config.json"]');
      }
      const env = r.object(proc['env'], `${p}process.env`, Object.keys((proc['env'] ?? {}) as Obj));
      for (const [k, v] of Object.entries(env)) if (typeof v !== 'string') r.fail(`${p}process.env.${k}`, `must be a string, got ${describe(v)}`);
      process = { command: command as string[], cwd: r.optionalString(proc, 'cwd', `${p}process.`), env: env as Record<string, string> };
    }
    return { rig, driver, host, port, id, expectedHashrateHs: expected as number | undefined, options, process };
  });

  for (const rigId of Object.keys(rigs)) {
    if (!miners.some((m) => m.rig === rigId)) r.fail(`rigs.${rigId}`, `no miner in miners[] belongs to rig "${rigId}"`);
  }
  return { file, agent: { id: agentId, dataDir, labels: agentLabels }, mqtt, poll, outbox, status, security, safety, profiles, rigs, miners, scan, gpu };
}
