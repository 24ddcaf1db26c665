import type { MinerSnapshot } from '@rigwarden/protocol';
import type { RigRecord } from './ports/rig-status.port';
import type { SnapshotBatch } from './ports/snapshot-batch';

/** Rigs whose latest status is kept in memory (about 3 kB each with one miner). */
const MAX_CACHED_RIGS = 50_000;
/** Rigs with snapshots accepted and not yet stored that are tracked (past it the oldest entry is forgotten). */
const MAX_UNSTORED_RIGS = 200_000;

/**
 * The latest status of the rigs that were read, in memory, for any RigStatusStore (the reconciler reads each rig after
 * every batch). A record enters when a store's load of it is admitted (load); a snapshot ingest accepts updates it at
 * once (receive), with the same rules as the stores' upserts (a newer seq per miner wins), and one stored outside
 * ingest after its write (applyStored); a retained state or another writer drops it (drop: read again next time).
 * Records are never changed in place: a newer one replaces them.
 *
 * Ingest's snapshots reach the cache when they arrive rather than when their batch commits: a decoded snapshot held
 * until then, thousands of messages later, outlived two young-generation collections and was promoted, and at 15,000
 * messages/s that copying was the largest cost of ingest over the bare MQTT-to-SQLite floor. Ingest retries a batch
 * that fails until it is stored, so a status it accepted is not taken back; a load that reads the store while a rig
 * has snapshots accepted and not yet stored returns what is stored without caching it.
 */
export class LatestStatusCache {
  private readonly latest = new Map<string, RigRecord>();
  /** The newest seq receive accepted per rig, until a batch stores it (a load older than that is not cached). */
  private readonly unstoredSeq = new Map<string, number>();
  /** Rigs being loaded, and whether a write touched them meanwhile (then the load is not cached). */
  private readonly loading = new Map<string, { loads: number; stale: boolean }>();

  get(rigId: string): RigRecord | undefined {
    return this.latest.get(rigId);
  }

  get size(): number {
    return this.latest.size;
  }

  /**
   * A validated snapshot that ingest has accepted and will write (retrying until it is stored): a cached rig's latest
   * status takes it now. Call it once per snapshot, in arrival order.
   */
  receive(s: MinerSnapshot): void {
    this.touch(s.rigId);
    this.applyMiner(s);
    // Also for a cached rig: it may leave the cache (MAX_CACHED_RIGS) before its batch is stored.
    const unstored = this.unstoredSeq.get(s.rigId);
    if (unstored === undefined && this.unstoredSeq.size >= MAX_UNSTORED_RIGS) this.unstoredSeq.delete(this.unstoredSeq.keys().next().value!);
    if (unstored === undefined || unstored < s.seq) this.unstoredSeq.set(s.rigId, s.seq);
  }

  /** A snapshot a store has just written outside ingest's path (older or repeated seqs change nothing). */
  applyStored(s: MinerSnapshot): void {
    this.applyMiner(s);
  }

  /** A batch was stored (or failed): loads running now read older status; what receive accepted of it is stored. */
  batchDone(batch: SnapshotBatch, stored: boolean): void {
    for (const rigId of batch.rigIds()) this.touch(rigId);
    if (!stored) return;
    // Unless a newer snapshot arrived meanwhile.
    for (const s of batch.newest()) if ((this.unstoredSeq.get(s.rigId) ?? Infinity) <= s.seq) this.unstoredSeq.delete(s.rigId);
  }

  /** A write is about to change this rig: a load running now must not be cached. */
  touch(rigId: string): void {
    const load = this.loading.get(rigId);
    if (load) load.stale = true;
  }

  /** The rig's row changed in the store: read it again next time. */
  drop(rigId: string): void {
    this.touch(rigId);
    this.latest.delete(rigId);
  }

  /**
   * The cached record, else `read()`'s, which is cached unless a write touched the rig while it ran or ingest holds
   * newer snapshots of it not yet stored.
   */
  async load(rigId: string, read: () => Promise<RigRecord | undefined>): Promise<RigRecord | undefined> {
    const cached = this.latest.get(rigId);
    if (cached) return cached;
    const load = this.loading.get(rigId) ?? { loads: 0, stale: false };
    load.loads++;
    this.loading.set(rigId, load);
    try {
      const record = await read();
      if (!record) return undefined;
      if (!load.stale && !this.latest.has(rigId) && (this.unstoredSeq.get(rigId) ?? 0) <= record.lastSeq) {
        this.unstoredSeq.delete(rigId);
        // Bounded: past MAX_CACHED_RIGS the rig cached longest ago is read from the store again next time.
        if (this.latest.size >= MAX_CACHED_RIGS) this.latest.delete(this.latest.keys().next().value!);
        this.latest.set(rigId, record);
      }
      return this.latest.get(rigId) ?? record;
    } finally {
      if (--load.loads === 0) this.loading.delete(rigId);
    }
  }

  /**
   * A miner's snapshot, applied to a cached record as the stores' miner status upsert applies it (a newer seq wins);
   * the rig's last seen time and seq follow from its miners.
   */
  private applyMiner(s: MinerSnapshot): void {
    const record = this.latest.get(s.rigId);
    if (!record) return;
    const i = record.miners.findIndex((m) => m.minerId === s.minerId);
    if (i >= 0 && record.miners[i]!.seq >= s.seq) return;
    const miners = i >= 0 ? record.miners.map((m, k) => (k === i ? s : m)) : [...record.miners, s].sort((a, b) => (a.minerId < b.minerId ? -1 : a.minerId > b.minerId ? 1 : 0));
    let lastSeen = -Infinity;
    let lastSeq = 0;
    for (const m of miners) {
      lastSeen = Math.max(lastSeen, m.collectedAt!.getTime());
      lastSeq = Math.max(lastSeq, m.seq);
    }
    this.latest.set(s.rigId, { ...record, miners, lastSeen: record.lastSeen?.getTime() === lastSeen ? record.lastSeen : new Date(lastSeen), lastSeq });
  }
}
