import type { MinerSnapshot } from '@rigwarden/protocol';

/**
 * What a driver reads from one miner: a snapshot without the agent's bookkeeping fields. `capabilities` is the
 * agent's to fill (from the driver's guards, see capabilityNames), so a driver's reading may leave it out.
 */
export type MinerReading = Omit<MinerSnapshot, 'rigId' | 'minerId' | 'seq' | 'agentId' | 'collectedAt' | 'capabilities'> & { capabilities?: string[] };

/** Where a miner is and how to talk to it. Credentials are optional and driver-specific. */
export interface MinerEndpoint {
  host: string;
  port: number;
  /** Driver-specific settings from the agent's config (credentials, dialect hints). */
  options?: Readonly<Record<string, unknown>>;
}

export interface CollectContext {
  /** Aborted by the runtime when the per-collect deadline passes. */
  signal: AbortSignal;
  /** Milliseconds left before the runtime gives up on this collect. */
  deadlineMs: number;
}

/**
 * The one thing every driver does. Optional abilities (pool control, restart,
 * overclock) are separate interfaces, detected at run time with the guards below.
 */
export interface MinerDriver {
  /** The driver's registered name, e.g. "cgminer". */
  readonly name: string;
  readonly endpoint: MinerEndpoint;
  collect(ctx: CollectContext): Promise<MinerReading>;
}

export interface PoolControl {
  switchPool(poolIndex: number, ctx: CollectContext): Promise<void>;
}

export interface Restartable {
  restartMiner(ctx: CollectContext): Promise<void>;
}

export function hasPoolControl(driver: MinerDriver): driver is MinerDriver & PoolControl {
  return typeof (driver as Partial<PoolControl>).switchPool === 'function';
}

export function isRestartable(driver: MinerDriver): driver is MinerDriver & Restartable {
  return typeof (driver as Partial<Restartable>).restartMiner === 'function';
}
