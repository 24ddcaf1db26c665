import type { MinerSnapshot } from '@rigwarden/protocol';
import { FleetError } from '../fleet/fleet-error';
import type { RigRecord } from '../persistence/rig-repository';
import type { CommandPayload } from './command-repository';

/**
 * The MinerSnapshot.capabilities name each miner command needs. Rig-level commands (reboot-host, power-cycle) and
 * profiles are left to the agent: a reboot command or a PDU outlet is in the agent's config, not in telemetry.
 */
export const REQUIRED_CAPABILITY: Partial<Record<CommandPayload['$case'], string>> = {
  switchPool: 'switch-pool',
  setPools: 'set-pools',
  restartMiner: 'restart',
  setPowerMode: 'power-mode',
  setFaultLight: 'fault-light',
  setPowerTarget: 'power-target',
};

/** How an operator opens a capability, by the driver that reported the miner. */
function howToEnable(snapshot: MinerSnapshot, capability: string): string {
  if (snapshot.driver === 'whatsminer-v3' && snapshot.capabilities.length === 1) {
    return "whatsminer-v3 without options.password reads only: give the admin password in the miner's options in the agent config";
  }
  if (snapshot.driver.startsWith('cgminer') || ['antminer', 'auto', 'braiins', 'whatsminer', 'avalon', 'luxos'].includes(snapshot.driver)) {
    return 'the cgminer API of this firmware does not accept it (a stock Antminer refuses every write): '
      + 'drive the miner with its own API (driver antminer-web, braiins-grpc or whatsminer-v3) in the agent config';
  }
  return `driver ${snapshot.driver || '(unknown)'} offers no ${capability}`;
}

/**
 * Refuses, before anything is stored or sent, a command whose miner's latest snapshot lists capabilities and lacks the
 * one the command needs. An empty list is "unknown" (an older agent, or a collect that read nothing): the agent decides.
 */
export function checkCapability(rig: Pick<RigRecord, 'rigId' | 'miners'>, minerId: string, payload: CommandPayload, field: string): void {
  const capability = REQUIRED_CAPABILITY[payload.$case];
  if (!capability) return;
  const snapshot = rig.miners.find((m) => m.minerId === minerId);
  if (!snapshot || snapshot.capabilities.length === 0 || snapshot.capabilities.includes(capability)) return;
  throw new FleetError('failed_precondition',
    `rig ${rig.rigId} miner ${minerId} cannot do ${capability}: its latest snapshot lists ${snapshot.capabilities.join(', ')} `
    + `(capability "${capability}" missing); ${howToEnable(snapshot, capability)}`, field);
}
