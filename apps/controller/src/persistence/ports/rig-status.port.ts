import type { MinerSnapshot, RigState } from '@rigwarden/protocol';
import type { SnapshotBatch } from './snapshot-batch';

export interface RigRecord {
  rigId: string;
  online: boolean;
  lastSeen?: Date;
  lastSeq: number;
  miners: MinerSnapshot[];
  /** The agent's labels from the retained state. */
  labels?: Record<string, string>;
  /** The liveness verdict stored by the controller's sweep (LivenessService has the current one). */
  liveness?: string;
}

export interface WriteResult {
  inserted: number;
  duplicates: number;
}

/**
 * Rigs, their latest status and raw snapshots. Every implementation keeps the latest status of the rigs read in a
 * LatestStatusCache, with the same rules: `receive` applies an accepted snapshot at once, a batch stored after it
 * changes nothing it already shows, a retained state or `forget` makes the next read go to the store.
 */
export interface RigStatusStore {
  /** Stores decoded snapshots in one transaction (duplicates by rig and seq are skipped). */
  writeSnapshots(batch: MinerSnapshot[], json?: Array<string | Buffer>): Promise<WriteResult>;
  /** Ingest's path: a snapshot accepted and going to be stored (retried until it is); call once per snapshot, in order. */
  receive(snapshot: MinerSnapshot): void;
  /** Stores a batch gathered by ingest in one transaction; duplicates by (rig, seq) are skipped. */
  writeBatch(batch: SnapshotBatch): Promise<WriteResult>;
  /** Records a rig's retained state (birth or last will); an older state than the stored one is ignored. */
  writeState(state: RigState): Promise<void>;
  /** Another writer changed the rig's row: read it from the store next time. */
  forget(rigId: string): void;
  /** A page of rigs in id order. */
  listRigs(limit: number, afterRigId: string): Promise<RigRecord[]>;
  /** The rig's latest status. Do not change the record returned. */
  getRig(rigId: string): Promise<RigRecord | undefined>;
}

export const RIG_STATUS_STORE = Symbol('RigStatusStore');
