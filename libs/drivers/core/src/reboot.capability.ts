import type { CollectContext, MinerDriver } from './driver';

/**
 * Reboots the miner's controller through its own API (not the agent's rebootCommand, not a PDU). Resolves once
 * the miner has accepted the command; it is unreachable for a while after that.
 */
export interface Rebootable {
  rebootMiner(ctx: CollectContext): Promise<void>;
}

export function isRebootable(driver: MinerDriver): driver is MinerDriver & Rebootable {
  return typeof (driver as Partial<Rebootable>).rebootMiner === 'function';
}
