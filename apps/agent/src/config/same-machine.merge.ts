import type { MinerConfig } from './agent-config';

/** Drivers that read a stock Antminer's cgminer API (port 4028), which the antminer-web driver merges itself. */
const CGMINER_API_DRIVERS: ReadonlySet<string> = new Set(['antminer', 'cgminer', 'auto']);

export interface SameMachineMerge {
  /** The configured miners, each machine once. */
  miners: MinerConfig[];
  /** One line per entry folded into another, for the log and `--check`. */
  notes: string[];
}

/**
 * One machine, one reading. A rig listing a stock Antminer twice, its web UI (antminer-web) and its cgminer API
 * (antminer, cgminer or auto on the same host), would publish two readings of one machine under two miner ids:
 * the controller keeps one history per rig, so the policies saw the two alternate poll after poll (the web's fans
 * and hashrate, then the API's), evidence from two sources that need not agree. The API entry is folded into the web one as options.apiPort, so the driver
 * merges the two, each value from the better source (reading.merge.ts). Left as they are: an antminer-web entry that
 * already reads another API port, and entries on other hosts or of other rigs.
 */
export function mergeSameMachineEntries(miners: readonly MinerConfig[]): SameMachineMerge {
  const folded = new Set<MinerConfig>();
  const apiOf = new Map<MinerConfig, MinerConfig>();
  const notes: string[] = [];
  for (const web of miners) {
    if (web.driver !== 'antminer-web') continue;
    const configured = web.options['apiPort'];
    const api = miners.find((m) => !folded.has(m) && CGMINER_API_DRIVERS.has(m.driver) && m.rig === web.rig && m.host === web.host
      && !m.process && (configured === undefined || configured === m.port));
    if (!api) continue;
    folded.add(api);
    apiOf.set(web, api);
    notes.push(`rig ${web.rig}: miner ${api.id} (driver ${api.driver}) is the cgminer API of the stock Antminer ${web.id} (antminer-web): `
      + `read once, merged into ${web.id} as options.apiPort ${api.port}`);
  }
  if (folded.size === 0) return { miners: [...miners], notes };
  return {
    miners: miners.filter((m) => !folded.has(m)).map((m) => {
      const api = apiOf.get(m);
      if (!api) return m;
      const expected = m.expectedHashrateHs ?? api.expectedHashrateHs;
      return { ...m, options: { ...m.options, apiPort: api.port }, ...(expected !== undefined ? { expectedHashrateHs: expected } : {}) };
    }),
    notes,
  };
}
