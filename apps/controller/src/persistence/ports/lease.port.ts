/** A shard lease held: the shard and the epoch it was acquired under (the fencing token of its rigs' commands). */
export interface HeldLease {
  shard: number;
  epoch: number;
}

export interface LeaseRound {
  /** Every lease this replica holds after the round, renewed until the database's now + leaseMs. */
  held: HeldLease[];
  /** Replicas that showed up within leaseMs, this one included, in id order. */
  live: string[];
  /** This replica's fair share of the shards for those replicas. */
  target: number;
  shards: number;
}

export interface LeaseRoundRequest {
  replicaId: string;
  leaseMs: number;
  /** Shards to give up first (already out of use here). */
  release: readonly number[];
  /** Take the replica's own unexpired leases again under a new epoch (the first round after a start). */
  reclaim: boolean;
}

/**
 * Shard leases in the shared database: one row per shard with its owner, epoch and expiry, judged on the database's
 * clock. A round renews what the replica holds, gives up what it was asked to, and takes free or expired shards
 * (each under epoch + 1) up to its fair share, in one transaction.
 */
export interface LeaseStore {
  round(request: LeaseRoundRequest): Promise<LeaseRound>;
  /** The epoch of the shard's current lease (its owner's fencing token), 0 when it was never held. */
  epochOf(shard: number): Promise<number>;
  /** Gives up every lease of the replica and leaves the live list (a clean shutdown: no wait for expiry). */
  leave(replicaId: string): Promise<void>;
}

export const LEASE_STORE = Symbol('LeaseStore');
