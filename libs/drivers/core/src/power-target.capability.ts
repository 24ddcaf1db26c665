import type { CollectContext, MinerDriver } from './driver';

/**
 * A power limit in watts that the firmware tunes the chips to (Whatsminer power_limit, Braiins OS+ power target).
 * Resolves once the miner has accepted the value and, where it reports it, shows it on reading back; a refused or
 * not-applied write throws the driver's DriverError with the miner's code and message.
 */
export interface PowerTarget {
  setPowerTargetW(watts: number, ctx: CollectContext): Promise<void>;
}

export function hasPowerTarget(driver: MinerDriver): driver is MinerDriver & PowerTarget {
  return typeof (driver as Partial<PowerTarget>).setPowerTargetW === 'function';
}
