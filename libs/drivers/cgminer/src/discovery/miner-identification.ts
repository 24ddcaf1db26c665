import { driverRegistry, type ApiIdentity, type CollectContext } from '@rigwarden/drivers-core';
import type { DialectName } from '../dialects/dialect';
import { DIALECTS, type Identification } from '../dialects/dialect-identification';
import type { WebFirmware, WebFirmwareGuess } from './web-firmware.fingerprint';

/**
 * A miner found by a scan, labelled from everything it answered: its cgminer API (dialect), its web UI (HTTP
 * fingerprint) and its vendor's own API (asked only where one of the two points at it). Pure but for `verify`.
 */
export interface ControlPath {
  /** The agent driver (registered name). */
  driver: string;
  port: number;
  /** control: the driver writes to this firmware (pools, power, restart...); read: it only reads it. */
  access: 'control' | 'read';
  /** What answered and what the driver still needs (credentials), in words. */
  note: string;
}

export interface MinerLabel {
  /** '' when nothing named it. */
  vendor: string;
  model: string;
  firmware: string;
  /** What the web UI's GET / told, when one answered. */
  web?: { port: number; firmware: WebFirmware; evidence: string };
  /** Every path that answered during the scan, the ones that control first. */
  controlPaths: ControlPath[];
  /** The driver an agent config should name for this miner: the first path that controls it, else the best reader. */
  driver?: { name: string; port: number; options?: Record<string, unknown> };
}

export interface ApiFinding {
  port: number;
  identification: Identification;
  model: string;
  firmware: string;
}

export interface LabelInputs {
  host: string;
  /** The cgminer API's identification, when it answered. */
  api?: ApiFinding;
  /** The web fingerprint, when the web port answered HTTP. */
  web?: WebFirmwareGuess & { port: number };
  /** Ports of the vendors' own APIs by driver name (default: the driver's registered port). */
  ports?: Readonly<Record<string, number>>;
  /** Sent to the vendors' own APIs only (never to the web UI's GET /); absent: none sent. */
  credentials?: { user?: string; password?: string };
  ctx: CollectContext;
}

/** The drivers that speak a vendor's own API (not the cgminer API), and the dialect of that vendor's cgminer API. */
const OWN_API_FOR_DIALECT: Partial<Record<DialectName, string>> = { braiins: 'braiins-grpc', whatsminer: 'whatsminer-v3' };
const DIALECT_VENDOR: Record<DialectName, string> = { cgminer: '', antminer: 'antminer', whatsminer: 'whatsminer', avalon: 'avalon', braiins: 'braiins', luxos: 'luxos' };
const WEB_DRIVER = 'antminer-web';

function apiPath(api: ApiFinding): ControlPath {
  const dialect = DIALECTS[api.identification.dialect];
  const writes = Object.values(dialect.capabilities).some(Boolean);
  const name = api.identification.dialect;
  if (name === 'whatsminer') return { driver: name, port: api.port, access: 'control', note: 'cgminer API, API v2 writes with options.password (the admin password)' };
  if (!writes) {
    return { driver: name, port: api.port, access: 'read', note: name === 'antminer' ? 'cgminer API read only (stock firmware refuses writes: Code 45)' : 'cgminer API read only' };
  }
  return { driver: name, port: api.port, access: 'control', note: `cgminer API (${api.identification.support === 'partial' ? 'an unknown fork, generic dialect' : `${name} dialect`})` };
}

function parsePath(text: string): { driver: string; port: number } {
  const [driver, port] = text.split(':');
  return { driver: driver!, port: Number(port) };
}

/** Labels one miner: asks each vendor API the web UI or the cgminer API points at, within ctx's deadline, in parallel. */
export async function labelMiner(input: LabelInputs): Promise<MinerLabel> {
  const { api, web } = input;
  const paths: ControlPath[] = [];
  let vendor = '';
  let model = api?.model ?? '';
  let firmware = api?.firmware ?? '';

  const own = new Set<string>();
  for (const text of web?.controlPaths ?? []) {
    const { driver } = parsePath(text);
    if (driver === WEB_DRIVER && web) {
      paths.push({ driver, port: web.port, access: 'control', note: `web UI (${web.evidence}); digest auth with options.user/password (firmware default root/root)` });
    } else if (driverRegistry.get(driver)?.identify) {
      own.add(driver);
    }
  }
  const ownForDialect = api ? OWN_API_FOR_DIALECT[api.identification.dialect] : undefined;
  if (ownForDialect) own.add(ownForDialect);

  const asked = await Promise.all([...own].map(async (driver): Promise<[string, number, ApiIdentity | undefined]> => {
    const registration = driverRegistry.get(driver);
    const port = input.ports?.[driver] ?? registration?.defaultPort ?? 0;
    if (!registration?.identify || port <= 0) return [driver, port, undefined];
    const options: Record<string, unknown> = {};
    if (input.credentials?.user !== undefined) options['user'] = input.credentials.user;
    if (input.credentials?.password !== undefined) options['password'] = input.credentials.password;
    try {
      return [driver, port, await registration.identify({ host: input.host, port, options }, input.ctx)];
    } catch {
      return [driver, port, undefined];
    }
  }));
  for (const [driver, port, id] of asked) {
    if (!id) continue;
    paths.push({ driver, port, access: id.access, note: id.note });
    vendor ||= id.vendor;
    if (id.model) model = id.model;
    if (id.firmware && (!firmware || !api)) firmware = id.firmware;
  }
  if (api) paths.push(apiPath(api));

  const knownWeb = web && web.firmware !== 'unknown' ? web : undefined;
  vendor ||= knownWeb?.vendor ?? (api ? DIALECT_VENDOR[api.identification.dialect] : '');
  if (!firmware && knownWeb) firmware = knownWeb.firmware;

  // Own APIs first (they control what the cgminer API cannot), then the web UI, then the cgminer API; control before read.
  const rank = (p: ControlPath): number => (p.access === 'control' ? 0 : 10) + (own.has(p.driver) ? 0 : p.driver === WEB_DRIVER ? 1 : 2);
  paths.sort((a, b) => rank(a) - rank(b));
  const best = paths[0];
  const label: MinerLabel = { vendor, model, firmware, controlPaths: paths };
  if (web) label.web = { port: web.port, firmware: web.firmware, evidence: web.evidence };
  if (best) {
    // A stock Antminer's web driver also reads its cgminer API (one machine, one reading: options.apiPort).
    const options = best.driver === WEB_DRIVER && api ? { apiPort: api.port } : undefined;
    label.driver = { name: best.driver, port: best.port, ...(options ? { options } : {}) };
  }
  return label;
}
