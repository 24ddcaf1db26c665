import type { MinerDriver } from './driver';

/** The commands whose after-effects a policy must wait out. */
export type SettlingCommand = 'setpools' | 'switchpool' | 'powermode' | 'workmode' | 'restart' | 'reboot' | 'faultlight';

/**
 * How long a miner takes to be itself again after a command it accepted: a stock Antminer restarts mining for
 * minutes after a pool change, reboots for two to three minutes, changes its work mode in 10 to 20 s. A policy
 * reads this so that the hashrate gap, the silent pool or the unreachable API that follow are not taken for a new
 * fault. 0 means "no known after-effect".
 */
export interface CommandSettleTimes {
  settleTimeMs(command: SettlingCommand): number;
}

export function hasSettleTimes(driver: MinerDriver): driver is MinerDriver & CommandSettleTimes {
  return typeof (driver as Partial<CommandSettleTimes>).settleTimeMs === 'function';
}
