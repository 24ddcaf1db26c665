import {
  driverRegistry, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading,
} from '@rigwarden/drivers-core';
import { normalisePciBusId } from '../pci-bus-id';
import { count, num, obj, reading, records, str, unitFactor } from '../values';
import { activePool, baseReading, gpuBoard, normaliseAlgorithm, sumWhenComplete } from './gpu-reading';
import { decodeReply, timeoutOption } from './decode-error';
import { HttpJsonClient } from './http-json-client';
import { withConfiguredGpuSensors } from '../gpu-rig';

/**
 * gminer GET /stat. "speed" is in speedUnit (1.3x: "Sol/s") or speed_unit (later),
 * Sol/s when absent (the older Equihash builds); power_usage 0 means not read.
 */
export function decodeGminerStat(body: unknown): MinerReading {
  const s = obj(body);
  if (!s) throw new TypeError('gminer /stat is not a JSON object');
  const out = baseReading('gminer', 'gminer');
  const unit = str(s['speedUnit']) ?? str(s['speed_unit']);
  const factor = unitFactor(unit);
  if (factor === undefined) throw new TypeError(`gminer: unknown speed unit ${JSON.stringify(unit)}`);
  const miner = str(s['miner']);
  out.firmware = miner ?? 'GMiner';
  out.uptimeS = count(s['uptime']);
  out.algorithm = normaliseAlgorithm(str(s['algorithm']));
  out.pools = activePool(str(s['server']), str(s['user']));
  out.boards = records(s['devices']).map((d, i) => {
    const speed = num(d['speed']);
    return gpuBoard({
      index: count(d['gpu_id']) ?? i,
      pciBusId: normalisePciBusId(d['bus_id']),
      name: str(d['name']),
      hashrateHs: speed === undefined ? undefined : speed * factor,
      tempC: reading(d['temperature']),
      fanPercent: reading(d['fan']),
      powerW: reading(d['power_usage']),
      accepted: count(d['accepted_shares']),
      rejected: count(d['rejected_shares']),
      coreClockMhz: reading(d['core_clock']),
      memoryClockMhz: reading(d['memory_clock']),
    });
  });
  const hashrates = out.boards.map((b) => b.hashrateHs);
  out.hashrate5sHs = sumWhenComplete(hashrates);
  out.accepted = count(s['total_accepted_shares']) ?? sumWhenComplete(out.boards.map((b) => b.accepted));
  out.rejected = count(s['total_rejected_shares']) ?? sumWhenComplete(out.boards.map((b) => b.rejected));
  out.stale = count(s['total_stale_shares']);
  out.powerW = sumWhenComplete(out.boards.map((b) => b.powerW));
  return out;
}

export class GminerDriver implements MinerDriver {
  readonly name = 'gminer';
  private readonly client: HttpJsonClient;

  constructor(readonly endpoint: MinerEndpoint) {
    this.client = new HttpJsonClient({ timeoutMs: timeoutOption(endpoint) });
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const reply = await this.client.get(this.endpoint, '/stat', { signal: ctx.signal });
    return decodeReply(this.endpoint, 'GET /stat', () => decodeGminerStat(reply.body));
  }
}

driverRegistry.register({
  name: 'gminer',
  description: 'GMiner HTTP API (/stat)',
  defaultPort: 10050,
  create: (endpoint) => withConfiguredGpuSensors(new GminerDriver(endpoint)),
});
