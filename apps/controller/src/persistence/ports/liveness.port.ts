/** What the liveness sweep needs of a rig after a restart, before fresh telemetry arrives. */
export interface LivenessSeed {
  rigId: string;
  agentId?: string;
  /** Collection time of the newest stored snapshot. */
  lastSeen?: number;
  /** The retained state as stored, with its time. */
  stateOnline: boolean;
  stateAt?: number;
  /** The verdict last written (empty before schema v9's first sweep). */
  liveness: string;
}

export interface StoredVerdict {
  state: string;
  reason: string;
  message: string;
  since: number;
  /** Whether the rig is reporting (online or miner-unreachable): rigs.online, which selectors and alerts read. */
  online: boolean;
}

/** The controller's liveness verdicts, kept with each rig's row. */
export interface LivenessStore {
  seeds(): Promise<LivenessSeed[]>;
  /** Writes verdicts in one transaction; answers the rigs that have a row. */
  write(verdicts: ReadonlyArray<{ rigId: string; verdict: StoredVerdict }>): Promise<Set<string>>;
}

export const LIVENESS_STORE = Symbol('LivenessStore');
