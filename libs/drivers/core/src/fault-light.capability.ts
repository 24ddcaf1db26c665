import type { CollectContext, MinerDriver } from './driver';

/**
 * The miner's locate / fault light: on makes it blink so a technician finds the machine in its row; off gives
 * the light back to the firmware. Resolves once the miner has accepted (and, where it reports the light, shows)
 * the change; a refusal throws the driver's DriverError with the miner's code and message.
 */
export interface FaultLight {
  setFaultLight(on: boolean, ctx: CollectContext): Promise<void>;
}

export function hasFaultLight(driver: MinerDriver): driver is MinerDriver & FaultLight {
  return typeof (driver as Partial<FaultLight>).setFaultLight === 'function';
}
