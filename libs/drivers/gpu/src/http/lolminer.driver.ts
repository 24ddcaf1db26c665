import {
  driverRegistry, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading,
} from '@rigwarden/drivers-core';
import { pciBusIdFromLolminer } from '../pci-bus-id';
import { arr, count, num, obj, reading, records, str, unitFactor, type Json } from '../values';
import { activePool, baseReading, gpuBoard, normaliseAlgorithm, sumWhenComplete } from './gpu-reading';
import { decodeReply, timeoutOption } from './decode-error';
import { HttpJsonClient } from './http-json-client';
import { withConfiguredGpuSensors } from '../gpu-rig';

/**
 * lolMiner GET /summary, both shapes:
 * - legacy (0.x to 1.1): "GPUs" with "Performance" in Session.Performance_Unit
 *   (sol/s when absent), "Temps (deg C)", "Fan Speed (%)", "Consumption (W)";
 * - multi-algorithm (1.2x and later): "Workers" (the GPUs: Power, CCLK, MCLK, Core_Temp,
 *   Fan_Speed, PCIE_Address) and "Algorithms", each with per-worker arrays aligned
 *   with Workers and a Performance_Factor that turns Performance_Unit into H/s.
 *   The first algorithm is the primary one; a dual-mining second algorithm is not a board.
 */
export function decodeLolminerSummary(body: unknown): MinerReading {
  const s = obj(body);
  if (!s) throw new TypeError('lolMiner summary is not a JSON object');
  return Array.isArray(s['Algorithms']) ? decodeMultiAlgo(s) : decodeLegacy(s);
}

function common(s: Json): MinerReading {
  const out = baseReading('lolminer', 'lolminer');
  out.firmware = str(s['Software']) ?? '';
  const session = obj(s['Session']) ?? {};
  out.uptimeS = count(session['Uptime']);
  return out;
}

function decodeLegacy(s: Json): MinerReading {
  const out = common(s);
  const session = obj(s['Session']) ?? {};
  const mining = obj(s['Mining']) ?? {};
  const stratum = obj(s['Stratum']) ?? {};
  const unit = str(session['Performance_Unit']);
  const factor = unitFactor(unit);
  if (factor === undefined) throw new TypeError(`lolMiner: unknown Performance_Unit ${JSON.stringify(unit)}`);
  const perf = num(session['Performance_Summary']);
  out.hashrate5sHs = perf === undefined ? undefined : perf * factor;
  out.accepted = count(session['Accepted']);
  const submitted = count(session['Submitted']);
  // Legacy lolMiner reports submitted and accepted shares only: the rest were refused.
  out.rejected = out.accepted !== undefined && submitted !== undefined ? Math.max(0, submitted - out.accepted) : undefined;
  out.algorithm = normaliseAlgorithm(str(mining['Algorithm']));
  out.pools = activePool(str(stratum['Current_Pool']), str(stratum['Current_User']));
  out.boards = records(s['GPUs']).map((g, i) => {
    const gpuPerf = num(g['Performance']);
    const acc = count(g['Session_Accepted']);
    const sub = count(g['Session_Submitted']);
    return gpuBoard({
      index: count(g['Index']) ?? i,
      pciBusId: pciBusIdFromLolminer(g['PCIE_Address']),
      name: str(g['Name']),
      hashrateHs: gpuPerf === undefined ? undefined : gpuPerf * factor,
      tempC: reading(g['Temps (deg C)']),
      fanPercent: reading(g['Fan Speed (%)']),
      powerW: reading(g['Consumption (W)']),
      accepted: acc,
      rejected: acc !== undefined && sub !== undefined ? Math.max(0, sub - acc) : undefined,
    });
  });
  out.powerW = reading(session['TotalPower']) ?? sumWhenComplete(out.boards.map((b) => b.powerW));
  return out;
}

function decodeMultiAlgo(s: Json): MinerReading {
  const out = common(s);
  const session = obj(s['Session']) ?? {};
  const algorithms = records(s['Algorithms']);
  const primary = algorithms[0] ?? {};
  const factor = num(primary['Performance_Factor']) ?? unitFactor(str(primary['Performance_Unit']));
  if (factor === undefined) throw new TypeError(`lolMiner: unknown Performance_Unit ${JSON.stringify(primary['Performance_Unit'])}`);
  const total = num(primary['Total_Performance']);
  out.hashrate5sHs = total === undefined ? undefined : total * factor;
  out.accepted = count(primary['Total_Accepted']);
  out.rejected = count(primary['Total_Rejected']);
  out.stale = count(primary['Total_Stales']);
  out.hwErrors = count(primary['Total_Errors']);
  out.algorithm = normaliseAlgorithm(str(primary['Algorithm']));
  out.pools = activePool(str(primary['Pool']), str(primary['User']));
  const perf = arr(primary['Worker_Performance']);
  const acc = arr(primary['Worker_Accepted']);
  const rej = arr(primary['Worker_Rejected']);
  out.boards = records(s['Workers']).map((w, i) => {
    const p = num(perf[i]);
    return gpuBoard({
      index: count(w['Index']) ?? i,
      pciBusId: pciBusIdFromLolminer(w['PCIE_Address']),
      name: str(w['Name']),
      hashrateHs: p === undefined ? undefined : p * factor,
      tempC: reading(w['Core_Temp']),
      fanPercent: reading(w['Fan_Speed']),
      powerW: reading(w['Power']),
      accepted: count(acc[i]),
      rejected: count(rej[i]),
      coreClockMhz: reading(w['CCLK']),
      memoryClockMhz: reading(w['MCLK']),
    });
  });
  out.powerW = reading(session['Total_Power']) ?? sumWhenComplete(out.boards.map((b) => b.powerW));
  return out;
}

/** lolMiner --apiport (no default; 4444 here as in most rig images). */
export class LolminerDriver implements MinerDriver {
  readonly name = 'lolminer';
  private readonly client: HttpJsonClient;

  constructor(readonly endpoint: MinerEndpoint) {
    this.client = new HttpJsonClient({ timeoutMs: timeoutOption(endpoint) });
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const reply = await this.client.get(this.endpoint, '/summary', { signal: ctx.signal });
    return decodeReply(this.endpoint, 'GET /summary', () => decodeLolminerSummary(reply.body));
  }
}

driverRegistry.register({
  name: 'lolminer',
  description: 'lolMiner HTTP API (/summary, legacy and multi-algorithm shapes)',
  defaultPort: 4444,
  create: (endpoint) => withConfiguredGpuSensors(new LolminerDriver(endpoint)),
});
