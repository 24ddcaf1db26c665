export interface StoredFleetSpec {
  id: number;
  version: string;
  yaml: string;
  applied_at: number;
  applied_by: string;
}

/** Every fleet spec put in force, oldest first: the one in force is the newest. */
export interface FleetSpecStore {
  record(spec: Omit<StoredFleetSpec, 'id'>): Promise<void>;
  latest(): Promise<StoredFleetSpec | undefined>;
  /** Newest first. */
  history(limit?: number): Promise<StoredFleetSpec[]>;
}

export const FLEET_SPEC_STORE = Symbol('FleetSpecStore');
