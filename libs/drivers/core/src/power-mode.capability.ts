import type { CollectContext, MinerDriver } from './driver';

/** The firmware's named power modes: full power, a reduced-power mode, and sleep (hashing stopped, API up). */
export type PowerMode = 'normal' | 'low' | 'sleep';

export const POWER_MODES: readonly PowerMode[] = Object.freeze(['normal', 'low', 'sleep']);

/**
 * A named power mode (stock Antminer's work mode, Whatsminer's low/normal/high). `powerModes()` lists what this
 * firmware offers, known once the miner has been read. Resolves once the miner shows the mode on reading back; a
 * refused write, or one the firmware acknowledged but did not apply, throws the driver's DriverError saying so.
 */
export interface PowerModeControl {
  powerModes(): readonly PowerMode[];
  setPowerMode(mode: PowerMode, ctx: CollectContext): Promise<void>;
}

export function hasPowerModeControl(driver: MinerDriver): driver is MinerDriver & PowerModeControl {
  const candidate = driver as Partial<PowerModeControl>;
  return typeof candidate.setPowerMode === 'function' && typeof candidate.powerModes === 'function';
}
