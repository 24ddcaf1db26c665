import { CgminerSimulator } from '../cgminer-simulator';
import type { SimDialect } from './personality';

export interface CgminerFleetOptions {
  /** One miner per address, all on the same port (127.x addresses on Linux need no setup). */
  hosts: readonly string[];
  /** 0: the first miner picks a free port and the others share it. */
  port?: number;
  /** Personalities, assigned round-robin. */
  dialects?: readonly SimDialect[];
  /** How many miners accept connections and never answer (spread evenly through the fleet). */
  hanging?: number;
  lifetimeMs?: number;
}

/** A farm of simulated miners on loopback addresses, for scans, demos and benchmarks. */
export class CgminerFleet {
  constructor(readonly miners: readonly CgminerSimulator[], readonly port: number) {}

  async stop(): Promise<void> {
    await Promise.all(this.miners.map((m) => m.stop()));
  }
}

export async function startCgminerFleet(options: CgminerFleetOptions): Promise<CgminerFleet> {
  const dialects = options.dialects?.length ? options.dialects : (['cgminer'] as const);
  const hanging = Math.min(options.hanging ?? 0, options.hosts.length);
  const every = hanging > 0 ? options.hosts.length / hanging : Infinity;
  const miners: CgminerSimulator[] = [];
  let port = options.port ?? 0;
  try {
    for (const [i, host] of options.hosts.entries()) {
      const sim = new CgminerSimulator({ host, port, dialect: dialects[i % dialects.length], lifetimeMs: options.lifetimeMs });
      port = (await sim.start()).port;
      if (Math.floor(i / every) !== Math.floor((i - 1) / every) || (i === 0 && hanging > 0)) sim.fault = 'hang';
      miners.push(sim);
    }
  } catch (err) {
    await Promise.all(miners.map((m) => m.stop()));
    throw err;
  }
  return new CgminerFleet(miners, port);
}
