import { hasMinerControl, hasPowerModeControl, type CapabilityName, type MinerDriver } from '@rigwarden/drivers-core';

/** The drivers that offer each write capability, for the "how to enable it" part of a refusal. */
const DRIVERS_WITH: Readonly<Record<CapabilityName, string>> = {
  'read': 'every driver',
  'switch-pool': 'cgminer (with API write access), antminer-web, braiins-grpc',
  'set-pools': 'cgminer (with API write access), antminer-web, braiins-grpc, whatsminer-v3',
  'restart': 'cgminer (with API write access), braiins-grpc, whatsminer-v3, or a miner process the agent supervises (miners[].process)',
  'reboot': 'antminer-web, braiins-grpc, whatsminer-v3',
  'power-mode': 'antminer-web, whatsminer-v3',
  'power-target': 'braiins-grpc, whatsminer-v3',
  'fault-light': 'antminer-web, braiins-grpc, whatsminer-v3',
  'overclock': 'cgminer dialects with ascset frequency, or gpu.tuning: true on a GPU rig',
};

interface OperationList {
  operations(): readonly string[];
}

/**
 * How to get `capability` on this miner, in words an operator can act on: the driver option that is missing, or the
 * drivers that have it.
 */
export function howToEnable(driver: MinerDriver, capability: CapabilityName): string {
  const operations = (driver as Partial<OperationList>).operations;
  if (typeof operations === 'function') {
    const open = operations.call(driver);
    if (open.length === 1 && open[0] === 'read') {
      return `${driver.name} without options.password: reads only; give the admin password in the miner's options (miners[].options.password)`;
    }
  }
  if (capability === 'power-mode' && hasPowerModeControl(driver)) {
    return `${driver.name} offers no power mode on this firmware (known once the miner has been read; check its web or API access)`;
  }
  if (hasMinerControl(driver) && capability !== 'power-mode' && capability !== 'power-target' && capability !== 'fault-light' && capability !== 'reboot') {
    return `the miner's firmware or API refuses it through ${driver.name} (a stock Antminer's cgminer API refuses every write, Code 45):`
      + ` use a driver that does it (${DRIVERS_WITH[capability]}) or give this agent write access`;
  }
  return `driver ${driver.name} has no ${capability}; drivers that do: ${DRIVERS_WITH[capability]}`;
}

/** The cause of a refused command: the command, the missing capability, and how to enable it. */
export function missingCapability(driver: MinerDriver, capability: CapabilityName, what: string): string {
  return `unsupported: driver ${driver.name} at ${driver.endpoint.host}:${driver.endpoint.port} cannot do ${what}`
    + ` (capability "${capability}" missing): ${howToEnable(driver, capability)}`;
}
