import type { CollectContext, MinerDriver } from './driver';

/**
 * Stop hashing and resume it later, keeping the miner reachable: what the agent's
 * local safety watchdog does at a critical temperature. cgminer-family firmware
 * disables and re-enables its devices; a supervised GPU miner is stopped and started.
 */
export interface MiningSwitch {
  stopMining(ctx: CollectContext): Promise<void>;
  resumeMining(ctx: CollectContext): Promise<void>;
}

export function hasMiningSwitch(driver: MinerDriver): driver is MinerDriver & MiningSwitch {
  const candidate = driver as Partial<MiningSwitch>;
  return typeof candidate.stopMining === 'function' && typeof candidate.resumeMining === 'function';
}
