import {
  DriverError, driverRegistry, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading,
} from '@rigwarden/drivers-core';
import type { Board } from '@rigwarden/protocol';
import { normalisePciBusId } from '../pci-bus-id';
import { arr, count, num, obj, reading, records, str } from '../values';
import { activePool, baseReading, gpuBoard, normaliseAlgorithm, sumWhenComplete, type GpuFields } from './gpu-reading';
import { decodeReply, timeoutOption } from './decode-error';
import { HttpJsonClient } from './http-json-client';
import { withConfiguredGpuSensors } from '../gpu-rig';

/** xmrig hashrate windows: [10 s, 60 s, 15 min], null while a window is not filled yet. */
function windowHs(value: unknown, i: number): number | undefined {
  return num(arr(value)[i]);
}

/**
 * xmrig summary: /2/summary and /1/summary (5.x and later) or GET / (2.x). The
 * 2.x GPU builds (xmrig-nvidia, xmrig-amd) put one "health" entry per GPU in the
 * summary; 5.x and later report GPUs in /2/backends (see decodeXmrigBackends).
 */
export function decodeXmrigSummary(body: unknown): MinerReading {
  const s = obj(body);
  if (!s) throw new TypeError('xmrig summary is not a JSON object');
  const out = baseReading('xmrig', 'xmrig');
  const version = str(s['version']);
  out.firmware = version ? `xmrig ${version}` : '';
  out.model = str(s['kind']) ?? '';
  out.uptimeS = count(s['uptime']);
  const hashrate = obj(s['hashrate']) ?? {};
  out.hashrate5sHs = windowHs(hashrate['total'], 0);
  const fifteen = windowHs(hashrate['total'], 2);
  // A 0 in the 15-minute window while hashing means "not filled yet" (xmrig 2.x).
  out.hashrateAvgHs = fifteen !== undefined && (fifteen > 0 || out.hashrate5sHs === 0) ? fifteen : undefined;
  const results = obj(s['results']) ?? {};
  out.accepted = count(results['shares_good']);
  const total = count(results['shares_total']);
  out.rejected = out.accepted !== undefined && total !== undefined ? Math.max(0, total - out.accepted) : undefined;
  out.algorithm = normaliseAlgorithm(str(s['algo']));
  const connection = obj(s['connection']) ?? {};
  out.pools = activePool(str(connection['pool']), str(connection['user']));
  const health = records(s['health']);
  if (health.length > 0) {
    const threads = arr(hashrate['threads']);
    const perGpu = threads.length === health.length;
    out.boards = health.map((h, i) => gpuBoard({
      index: i,
      name: str(h['name']),
      hashrateHs: perGpu ? windowHs(threads[i], 0) : undefined,
      tempC: reading(h['temp']),
      fanPercent: reading(h['fan']),
      powerW: reading(h['power']),
      coreClockMhz: reading(h['clock']),
      memoryClockMhz: reading(h['mem_clock']),
    }));
    out.powerW = sumWhenComplete(out.boards.map((b) => b.powerW));
  }
  return out;
}

/**
 * /2/backends: one entry per backend (cpu, opencl, cuda). Each enabled GPU backend
 * lists threads; a GPU can run several threads, so threads are grouped by device
 * index and their hashrates added. The CPU backend is not a board.
 */
export function decodeXmrigBackends(body: unknown): Board[] {
  if (!Array.isArray(body)) throw new TypeError('xmrig /2/backends is not a JSON array');
  const gpus = new Map<string, GpuFields>();
  for (const backend of records(body)) {
    const type = str(backend['type']);
    if ((type !== 'cuda' && type !== 'opencl') || backend['enabled'] !== true) continue;
    for (const [i, t] of records(backend['threads']).entries()) {
      const index = count(t['index']) ?? i;
      const key = `${type}:${index}`;
      const health = obj(t['health']) ?? {};
      const hs = windowHs(t['hashrate'], 0) ?? windowHs(t['hashrate'], 1);
      const existing = gpus.get(key);
      if (existing) {
        existing.hashrateHs = existing.hashrateHs === undefined || hs === undefined ? undefined : existing.hashrateHs + hs;
        continue;
      }
      const fans = arr(health['fan_speed']).map(num).filter((v): v is number => v !== undefined && v > 0);
      gpus.set(key, {
        index,
        pciBusId: normalisePciBusId(t['bus_id']),
        name: str(t['name']) ?? str(t['board']),
        hashrateHs: hs,
        tempC: reading(health['temperature']),
        fanPercent: fans.length > 0 ? Math.max(...fans) : undefined,
        powerW: reading(health['power']),
        coreClockMhz: reading(health['clock']),
        memoryClockMhz: reading(health['mem_clock']),
      });
    }
  }
  return [...gpus.values()].map(gpuBoard);
}

export function decodeXmrig(summary: unknown, backends?: unknown): MinerReading {
  const out = decodeXmrigSummary(summary);
  if (backends !== undefined) {
    out.boards = decodeXmrigBackends(backends);
    out.powerW = sumWhenComplete(out.boards.map((b) => b.powerW));
  }
  return out;
}

/**
 * xmrig HTTP API: GET /2/summary and /2/backends with "Authorization: Bearer <token>"
 * when http.access-token is set (options.accessToken). xmrig 2.x answers 404 there
 * and serves its summary at GET /, which the driver then uses.
 */
export class XmrigDriver implements MinerDriver {
  readonly name = 'xmrig';
  private readonly client: HttpJsonClient;
  private readonly headers: Record<string, string>;
  private legacy = false;

  constructor(readonly endpoint: MinerEndpoint) {
    this.client = new HttpJsonClient({ timeoutMs: timeoutOption(endpoint) });
    const token = endpoint.options?.['accessToken'];
    this.headers = typeof token === 'string' && token !== '' ? { authorization: `Bearer ${token}` } : {};
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const opts = { signal: ctx.signal, headers: this.headers };
    if (this.legacy) {
      const root = await this.client.get(this.endpoint, '/', opts);
      return decodeReply(this.endpoint, 'GET /', () => decodeXmrig(root.body));
    }
    const summary = await this.client.get(this.endpoint, '/2/summary', { ...opts, acceptStatuses: [404] });
    if (summary.status === 404) {
      this.legacy = true;
      return this.collect(ctx);
    }
    let backends: unknown;
    try {
      backends = (await this.client.get(this.endpoint, '/2/backends', opts)).body;
    } catch (err) {
      // A summary without GPUs is still a reading; only a dead API fails the collect.
      if (!(err instanceof DriverError) || err.kind === 'timeout' || err.kind === 'unreachable' || err.kind === 'aborted') throw err;
      const reading = decodeReply(this.endpoint, 'GET /2/summary', () => decodeXmrig(summary.body));
      reading.errors.push({ kind: err.kind, message: err.message, statusLetter: '', statusCode: undefined, command: 'GET /2/backends' });
      return reading;
    }
    return decodeReply(this.endpoint, 'GET /2/summary + /2/backends', () => decodeXmrig(summary.body, backends));
  }
}

driverRegistry.register({
  name: 'xmrig',
  description: 'XMRig HTTP API (/2/summary + /2/backends, bearer token; GET / for 2.x)',
  defaultPort: 8080,
  create: (endpoint) => withConfiguredGpuSensors(new XmrigDriver(endpoint)),
});

