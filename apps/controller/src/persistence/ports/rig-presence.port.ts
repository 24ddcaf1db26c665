import type { RigPresence } from '../../alerts/alert-types';

export type { RigPresence } from '../../alerts/alert-types';

/**
 * Connectivity of rigs as stored by ingest (the `rigs_seen` view: agent state and newest snapshot time), without
 * their miner status: cheap enough to read for the whole fleet on every alert check.
 */
export interface RigPresenceStore {
  all(): Promise<RigPresence[]>;
  /** The rigs of these ids that have a row (any order). */
  some(rigIds: readonly string[]): Promise<RigPresence[]>;
}

export const RIG_PRESENCE_STORE = Symbol('RigPresenceStore');
