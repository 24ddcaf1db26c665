import type { LeaseRound, LeaseRoundRequest, LeaseStore } from '../persistence/ports/lease.port';

/**
 * For tests: a lease store whose rounds can be held back, which is what a paused process, one cut off from the
 * database, or one killed looks like to the other controllers (its leases stop being renewed).
 */
export class GatedLeases implements LeaseStore {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(private readonly inner: LeaseStore) {}

  block(): void {
    if (!this.gate) this.gate = new Promise((resolve) => { this.open = resolve; });
  }

  unblock(): void {
    this.open?.();
    this.gate = undefined;
  }

  async round(request: LeaseRoundRequest): Promise<LeaseRound> {
    await this.gate;
    return this.inner.round(request);
  }

  epochOf(shard: number): Promise<number> {
    return this.inner.epochOf(shard);
  }

  async leave(replicaId: string): Promise<void> {
    await this.gate;
    return this.inner.leave(replicaId);
  }
}
