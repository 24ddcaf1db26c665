import {
  DriverError, driverRegistry, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading,
} from '@rigwarden/drivers-core';
import { pciBusIdFromParts } from '../pci-bus-id';
import { arr, count, num, obj, reading, records, str, type Json } from '../values';
import { activePool, baseReading, gpuBoard, normaliseAlgorithm, sumWhenComplete } from './gpu-reading';
import { decodeReply } from './decode-error';
import { HttpJsonClient, type HttpJsonReply } from './http-json-client';
import { withConfiguredGpuSensors } from '../gpu-rig';

/**
 * T-Rex (NVIDIA) HTTP API, GET /summary on port 4067. Hashrates are in H/s.
 * API 1.0 (0.5.x) reports only hashrate per GPU; 1.1+ adds temperature, fan, power
 * and name; newer builds add per-GPU shares and pci_domain/pci_bus/pci_id.
 */
export function decodeTrexSummary(body: unknown): MinerReading {
  const s = obj(body);
  if (!s) throw new TypeError('T-Rex summary is not a JSON object');
  const out = baseReading('t-rex', 't-rex');
  const version = str(s['version']);
  out.firmware = version ? `t-rex ${version}` : '';
  out.model = str(s['description']) ?? '';
  out.uptimeS = count(s['uptime']);
  out.hashrate5sHs = num(s['hashrate']);
  const hour = num(s['hashrate_hour']);
  out.hashrateAvgHs = hour !== undefined && hour > 0 ? hour : undefined;
  out.accepted = count(s['accepted_count']);
  out.rejected = count(s['rejected_count']);
  out.algorithm = normaliseAlgorithm(str(s['algorithm']));
  const pool = obj(s['active_pool']);
  out.pools = activePool(str(pool?.['url']), str(pool?.['user']));
  out.boards = records(s['gpus']).map((g, i) => gpuBoard({
    index: count(g['gpu_id']) ?? count(g['device_id']) ?? i,
    pciBusId: trexPciBusId(g),
    name: trexName(g),
    hashrateHs: num(g['hashrate']),
    tempC: reading(g['temperature']),
    fanPercent: reading(g['fan_speed']),
    powerW: reading(g['power']),
    accepted: count(obj(g['shares'])?.['accepted_count']),
    rejected: count(obj(g['shares'])?.['rejected_count']),
    coreClockMhz: reading(g['cclock']),
    memoryClockMhz: reading(g['mclock']),
    disabled: g['disabled'] === true,
  }));
  out.powerW = sumWhenComplete(out.boards.map((b) => b.powerW));
  return out;
}

function trexPciBusId(g: Json): string | undefined {
  const bus = count(g['pci_bus']);
  if (bus === undefined) return undefined;
  return pciBusIdFromParts(count(g['pci_domain']) ?? 0, bus, count(g['pci_id']) ?? 0, 0);
}

function trexName(g: Json): string | undefined {
  const name = str(g['name']);
  const vendor = str(g['vendor']);
  if (!name) return undefined;
  return vendor && vendor !== 'NVIDIA' && !name.startsWith(vendor) ? `${vendor} ${name}` : name;
}

export interface TrexOptions {
  /** T-Rex --api-key / API password; when set the driver logs in for a session id. */
  password?: string;
  timeoutMs?: number;
}

/**
 * Reads /summary. With an API password T-Rex wants `GET /login?password=...` first,
 * which answers {"success":1,"sid":"..."}; the sid then goes on every request
 * (`/summary?sid=...`). An expired sid (401/403 or success:0) triggers one new login.
 */
export class TrexDriver implements MinerDriver {
  readonly name = 't-rex';
  private sid: string | undefined;
  private readonly client: HttpJsonClient;
  private readonly password: string | undefined;

  constructor(readonly endpoint: MinerEndpoint, options: TrexOptions = optionsFrom(endpoint)) {
    this.password = options.password;
    this.client = new HttpJsonClient({ timeoutMs: options.timeoutMs ?? 5_000 });
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const reply = await this.summary(ctx, false);
    return decodeReply(this.endpoint, 'GET /summary', () => decodeTrexSummary(reply.body));
  }

  private async summary(ctx: CollectContext, retried: boolean): Promise<HttpJsonReply> {
    if (this.password !== undefined && this.sid === undefined) await this.login(ctx);
    const path = this.sid ? `/summary?sid=${encodeURIComponent(this.sid)}` : '/summary';
    const reply = await this.client.get(this.endpoint, path, { signal: ctx.signal, acceptStatuses: [401, 403] });
    const body = obj(reply.body);
    const refused = reply.status === 401 || reply.status === 403 || (body?.['success'] === 0 && body['gpus'] === undefined);
    if (!refused) return reply;
    this.sid = undefined;
    if (this.password === undefined || retried) {
      throw new DriverError('access_denied', this.password === undefined
        ? 'T-Rex wants an API password: set options.password'
        : `T-Rex refused the session after a fresh login (${describeError(body)})`,
      { host: this.endpoint.host, port: this.endpoint.port, command: 'GET /summary' });
    }
    return this.summary(ctx, true);
  }

  private async login(ctx: CollectContext): Promise<void> {
    const path = `/login?password=${encodeURIComponent(this.password ?? '')}`;
    const reply = await this.client.get(this.endpoint, path, { signal: ctx.signal, acceptStatuses: [401, 403] });
    const body = obj(reply.body);
    const sid = str(body?.['sid']);
    if (reply.status !== 200 || body?.['success'] !== 1 || !sid) {
      throw new DriverError('access_denied', `T-Rex login failed: wrong API password? (${describeError(body)})`,
        { host: this.endpoint.host, port: this.endpoint.port, command: 'GET /login' });
    }
    this.sid = sid;
  }
}

function describeError(body: Json | undefined): string {
  const error = obj(body?.['error']);
  return str(error?.['message']) ?? (arr(body?.['error']).length ? JSON.stringify(body?.['error']) : 'no reason given');
}

function optionsFrom(endpoint: MinerEndpoint): TrexOptions {
  const o = endpoint.options ?? {};
  return {
    password: typeof o['password'] === 'string' ? o['password'] : undefined,
    timeoutMs: typeof o['timeoutMs'] === 'number' ? o['timeoutMs'] : undefined,
  };
}

driverRegistry.register({
  name: 't-rex',
  description: 'T-Rex NVIDIA miner HTTP API (/summary, sid login when an API password is set)',
  defaultPort: 4067,
  create: (endpoint) => withConfiguredGpuSensors(new TrexDriver(endpoint)),
});
