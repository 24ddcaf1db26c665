import { hasPoolControl, isRestartable, type MinerDriver } from './driver';
import { hasFaultLight } from './fault-light.capability';
import { hasMinerControl } from './miner-control.capability';
import { isGpuTunable } from './overclock.capability';
import { hasPowerModeControl } from './power-mode.capability';
import { hasPowerTarget } from './power-target.capability';
import { isRebootable } from './reboot.capability';

/**
 * The names telemetry, the controller and rigctl use for what a miner accepts (MinerSnapshot.capabilities).
 * "read" is always there for a driver that collects, so a non-empty list with only "read" means "reads only".
 */
export type CapabilityName =
  | 'read' | 'switch-pool' | 'set-pools' | 'restart' | 'reboot' | 'power-mode' | 'power-target' | 'fault-light' | 'overclock';

export const CAPABILITY_NAMES: readonly CapabilityName[] = Object.freeze([
  'read', 'switch-pool', 'set-pools', 'restart', 'reboot', 'power-mode', 'power-target', 'fault-light', 'overclock',
]);

/**
 * A driver that knows, per miner, which of its operations are open (whatsminer-v3 without a password: reads only).
 * Its names are its own ("power-limit" for a power target, "stop-resume", ...); the guards decide which method
 * exists and this list which of them may be used.
 */
interface OperationList {
  operations(): readonly string[];
}

function hasOperationList(driver: MinerDriver): driver is MinerDriver & OperationList {
  return typeof (driver as Partial<OperationList>).operations === 'function';
}

/** A driver's operation names that open each capability. */
const OPERATION_ALIASES: Readonly<Record<CapabilityName, readonly string[]>> = {
  'read': ['read'],
  'switch-pool': ['switch-pool', 'pools'],
  'set-pools': ['set-pools', 'pools'],
  'restart': ['restart'],
  'reboot': ['reboot'],
  'power-mode': ['power-mode'],
  'power-target': ['power-target', 'power-limit'],
  'fault-light': ['fault-light', 'led'],
  'overclock': ['overclock', 'frequency'],
};

/**
 * What this miner accepts through this driver, from the capability guards: the firmware flags of MinerControl
 * (which decide pool and restart control for the drivers that have them), the power-mode list the miner offers,
 * and the optional interfaces; narrowed by the driver's own operations() when it has one.
 */
export function capabilityNames(driver: MinerDriver): CapabilityName[] {
  const names = new Set<CapabilityName>(['read']);
  if (hasMinerControl(driver)) {
    const caps = driver.controlCapabilities();
    if (caps.switchPool) names.add('switch-pool');
    if (caps.setPools) names.add('set-pools');
    if (caps.restart) names.add('restart');
    if (caps.frequency) names.add('overclock');
  } else {
    if (hasPoolControl(driver)) names.add('switch-pool');
    if (isRestartable(driver)) names.add('restart');
  }
  if (isRebootable(driver)) names.add('reboot');
  if (hasPowerModeControl(driver) && driver.powerModes().length > 0) names.add('power-mode');
  if (hasPowerTarget(driver)) names.add('power-target');
  if (hasFaultLight(driver)) names.add('fault-light');
  if (isGpuTunable(driver) && driver.gpuTuners().length > 0) names.add('overclock');
  if (hasOperationList(driver)) {
    const open = new Set(driver.operations());
    for (const name of [...names]) {
      if (!OPERATION_ALIASES[name].some((op) => open.has(op))) names.delete(name);
    }
    names.add('read');
  }
  return CAPABILITY_NAMES.filter((n) => names.has(n));
}
