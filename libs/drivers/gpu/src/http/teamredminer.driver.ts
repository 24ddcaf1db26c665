import { CgminerClient, hashrateHs, section, type CgminerReply } from '@rigwarden/drivers-cgminer';
import {
  DriverError, driverRegistry, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading,
} from '@rigwarden/drivers-core';
import { Pool, PoolStatus } from '@rigwarden/protocol';
import { normalisePciBusId } from '../pci-bus-id';
import { count, reading, str, type Json } from '../values';
import { baseReading, gpuBoard, normaliseAlgorithm, sumWhenComplete } from './gpu-reading';
import { withConfiguredGpuSensors } from '../gpu-rig';

export interface TeamRedMinerReplies {
  summary: CgminerReply;
  devs: CgminerReply;
  pools?: CgminerReply;
  devdetails?: CgminerReply;
  version?: CgminerReply;
}

/**
 * TeamRedMiner speaks the sgminer API (TCP 4028): summary, devs, pools, devdetails,
 * version. devs has one "GPU" entry per card with sgminer's GPU fields
 * (Temperature, Fan Percent, GPU Clock, Memory Clock, MHS/KHS 5s); the PCI bus id,
 * when the build reports one, is in devdetails "Device Path" or devs "PCI Bus".
 */
export function decodeTeamRedMiner(replies: TeamRedMinerReplies): MinerReading {
  const out = baseReading('teamredminer', 'teamredminer');
  const summary = section(replies.summary, 'SUMMARY')[0] ?? {};
  const version = replies.version ? section(replies.version, 'VERSION')[0] ?? {} : {};
  const software = str(version['TeamRedMiner']) ?? str(version['Miner']) ?? str(version['SGMiner']);
  out.firmware = software ? `teamredminer ${software}` : 'teamredminer';
  out.uptimeS = count(summary['Elapsed']);
  out.hashrate5sHs = hashrateHs(summary, '5s') ?? hashrateHs(summary, '30s');
  out.hashrateAvgHs = hashrateHs(summary, 'av');
  out.accepted = count(summary['Accepted']);
  out.rejected = count(summary['Rejected']);
  out.stale = count(summary['Stale']);
  out.hwErrors = count(summary['Hardware Errors']);
  const details = new Map<number, Json>();
  for (const d of replies.devdetails ? section(replies.devdetails, 'DEVDETAILS') : []) {
    const id = count(d['ID'] ?? d['DEVDETAILS']);
    if (id !== undefined) details.set(id, d);
  }
  out.boards = section(replies.devs, 'DEVS').map((dev, i) => {
    const index = count(dev['GPU'] ?? dev['ID']) ?? i;
    const detail = details.get(index) ?? {};
    const status = str(dev['Status']);
    const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, '30s') ?? hashrateHs(dev, 'av');
    return gpuBoard({
      index,
      pciBusId: normalisePciBusId(dev['PCI Bus'] ?? detail['Device Path'] ?? detail['PCI Bus']),
      name: str(detail['Model']) ?? str(dev['Name']),
      hashrateHs: status === 'Dead' || status === 'Sick' ? 0 : hashrate,
      tempC: reading(dev['Temperature']),
      fanPercent: reading(dev['Fan Percent']),
      powerW: reading(dev['GPU Power'] ?? dev['Power']),
      accepted: count(dev['Accepted']),
      rejected: count(dev['Rejected']),
      coreClockMhz: reading(dev['GPU Clock']),
      memoryClockMhz: reading(dev['Memory Clock']),
      disabled: str(dev['Enabled']) === 'N',
    });
  });
  out.powerW = sumWhenComplete(out.boards.map((b) => b.powerW));
  const pools = replies.pools ? section(replies.pools, 'POOLS') : [];
  out.pools = pools.map((p, i) => Pool.fromPartial({
    index: count(p['POOL']) ?? i,
    url: str(p['URL']) ?? '',
    user: str(p['User']) ?? '',
    status: p['Status'] === 'Alive' ? PoolStatus.POOL_STATUS_ALIVE : p['Status'] === 'Dead' ? PoolStatus.POOL_STATUS_DEAD
      : p['Status'] === 'Disabled' ? PoolStatus.POOL_STATUS_DISABLED : PoolStatus.POOL_STATUS_UNKNOWN,
    priority: count(p['Priority']),
    active: p['Stratum Active'] === true,
    accepted: count(p['Accepted']),
    rejected: count(p['Rejected']),
    stale: count(p['Stale']),
  }));
  const algo = pools.map((p) => str(p['Algorithm'])).find((a) => a !== undefined);
  out.algorithm = normaliseAlgorithm(algo);
  return out;
}

/** TeamRedMiner (AMD) through the cgminer client: TRM's API is sgminer-compatible. */
export class TeamRedMinerDriver implements MinerDriver {
  readonly name = 'teamredminer';

  constructor(readonly endpoint: MinerEndpoint, private readonly client = new CgminerClient()) {}

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const opts = { signal: ctx.signal };
    const summary = await this.client.command(this.endpoint, 'summary', undefined, opts);
    const devs = await this.client.command(this.endpoint, 'devs', undefined, opts);
    const optional = async (command: string): Promise<CgminerReply | undefined> => {
      try {
        return await this.client.command(this.endpoint, command, undefined, opts);
      } catch (err) {
        if (err instanceof DriverError && (err.kind === 'unsupported' || err.kind === 'miner_error' || err.kind === 'access_denied')) return undefined;
        throw err;
      }
    };
    const pools = await optional('pools');
    const devdetails = await optional('devdetails');
    const version = await optional('version');
    const decoded = decodeTeamRedMiner({ summary, devs, pools, devdetails, version });
    return { ...decoded, host: this.endpoint.host, port: this.endpoint.port, algorithm: decoded.algorithm || algorithmOption(this.endpoint) };
  }
}

function algorithmOption(endpoint: MinerEndpoint): string {
  const value = endpoint.options?.['algorithm'];
  return typeof value === 'string' ? normaliseAlgorithm(value) : '';
}

driverRegistry.register({
  name: 'teamredminer',
  description: 'TeamRedMiner (AMD) sgminer-compatible API (TCP 4028) through the cgminer client',
  defaultPort: 4028,
  create: (endpoint) => withConfiguredGpuSensors(new TeamRedMinerDriver(endpoint)),
});

