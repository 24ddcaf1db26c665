import type { CollectContext, MinerDriver } from './driver';
import type { DriverError } from './driver-error';

/**
 * What a miner's firmware lets us do, so callers (policies, rigctl) know before
 * they try. Flags describe the firmware dialect; a flag that is true can still
 * fail at run time with `access_denied` when the API is read-only for us.
 */
export interface ControlCapabilities {
  switchPool: boolean;
  addPool: boolean;
  enablePool: boolean;
  disablePool: boolean;
  removePool: boolean;
  poolPriority: boolean;
  /** Replace the whole ordered pool list (read, modify, write, verify). */
  setPools: boolean;
  restart: boolean;
  quit: boolean;
  /** Chip frequency through ascset (or the vendor's equivalent). */
  frequency: boolean;
  /** Work mode / power mode (low, normal, high) through ascset or the vendor's API. */
  workMode: boolean;
}

export const NO_CONTROL: ControlCapabilities = Object.freeze({
  switchPool: false, addPool: false, enablePool: false, disablePool: false, removePool: false,
  poolPriority: false, setPools: false, restart: false, quit: false, frequency: false, workMode: false,
});

export interface PoolSpec {
  url: string;
  user: string;
  password?: string;
}

/** One operation on one miner. `pool` is the miner's own pool number as it reports it. */
export type ControlAction =
  | { kind: 'switchpool'; pool: number }
  | { kind: 'addpool'; spec: PoolSpec }
  | { kind: 'enablepool'; pool: number }
  | { kind: 'disablepool'; pool: number }
  | { kind: 'removepool'; pool: number }
  /** Pool numbers in the wanted order; the first is tried first. */
  | { kind: 'poolpriority'; order: number[] }
  /** waitForApiMs: after the miner accepts, poll until its API answers again (3 to 7 s on real cgminer), or fail. */
  | { kind: 'restart'; waitForApiMs?: number }
  | { kind: 'quit' }
  | { kind: 'frequency'; mhz: number }
  | { kind: 'workmode'; mode: number };

/**
 * The outcome of a control action. A failure never throws: a miner that dies in
 * the middle of a command, refuses it (Code 45) or breaks a firmware rule gives
 * `ok: false` with the typed cause.
 */
export type ControlResult =
  | { ok: true; action: ControlAction['kind'] | 'setpools'; message: string; steps?: ControlStep[] }
  | { ok: false; action: ControlAction['kind'] | 'setpools'; error: DriverError; steps?: ControlStep[] };

/** One request sent while carrying out a composite action such as setPools. */
export interface ControlStep {
  command: string;
  parameter?: string;
  ok: boolean;
  message: string;
  /** The miner refused this step with its STATUS letter (E, F): it changed nothing. */
  refused?: boolean;
}

export interface MinerControl {
  controlCapabilities(): ControlCapabilities;
  control(action: ControlAction, ctx: CollectContext): Promise<ControlResult>;
  /** Makes the miner's pool list exactly `pools`, in this order, then rereads pools to verify. */
  setPools(pools: PoolSpec[], ctx: CollectContext): Promise<ControlResult>;
}

export function hasMinerControl(driver: MinerDriver): driver is MinerDriver & MinerControl {
  const candidate = driver as Partial<MinerControl>;
  return typeof candidate.control === 'function' && typeof candidate.controlCapabilities === 'function';
}
