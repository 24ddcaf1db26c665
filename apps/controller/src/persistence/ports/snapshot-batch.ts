import type { MinerSnapshot } from '@rigwarden/protocol';
import type { SqlValue } from '../sqlite-database';

/**
 * A number bound as its decimal text: the column's INTEGER or REAL affinity stores it as a number again (also in an
 * upsert's `excluded` row). node-sqlite3 checks every parameter that is not a string against RegExp through a global
 * lookup before it looks at its type (about 0.4 µs each, on the event loop); a string skips that, and ingest binds
 * some ten numbers per snapshot. PostgreSQL's text parameters take the same strings.
 */
export function numeric(n: number): string;
export function numeric(n: number | null | undefined): string | null;
export function numeric(n: number | null | undefined): string | null {
  return n === null || n === undefined ? null : String(n);
}

/** Columns of one snapshot row in a SnapshotBatch's parameters: rig_id, seq, miner_id, collected_at, hashrate_hs, max_temp_c, snapshot. */
export const SNAPSHOT_COLUMNS = 7;

/** What a batch keeps of each miner's newest snapshot: enough to write the rig's row. */
export interface NewestKey {
  readonly rigId: string;
  readonly minerId: string;
  readonly seq: number;
  readonly agentId: string;
}

export function maxTemp(s: MinerSnapshot): number | null {
  let max: number | null = null;
  for (const b of s.boards) {
    for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === null || t > max)) max = t;
  }
  return max;
}

/**
 * Snapshots gathered for one batch write, held as they will be bound: the INSERT parameters of each row (its
 * payload as received) plus the keys of each miner's newest snapshot. Ingest keeps thousands of snapshots waiting
 * for the store under load, and whatever they hold outlives young-generation collections: a handful of values per row
 * instead of each decoded snapshot (some thirty objects) keeps what the garbage collector must copy and promote small.
 * The latest status in memory takes each snapshot when ingest accepts it (RigStatusStore.receive), not from here.
 */
export class SnapshotBatch {
  readonly params: SqlValue[] = [];
  /** Per rig, the newest snapshot of each of its miners (usually one: no key string built per message). */
  private readonly newestPerRig = new Map<string, NewestKey[]>();

  get size(): number {
    return this.params.length / SNAPSHOT_COLUMNS;
  }

  add(s: MinerSnapshot, json: string | Buffer): void {
    this.params.push(s.rigId, numeric(s.seq), s.minerId, numeric(s.collectedAt!.getTime()), numeric(s.hashrate5sHs ?? s.hashrateAvgHs), numeric(maxTemp(s)), json);
    this.keepNewest({ rigId: s.rigId, minerId: s.minerId, seq: s.seq, agentId: s.agentId });
  }

  private keepNewest(s: NewestKey): void {
    const miners = this.newestPerRig.get(s.rigId);
    if (miners === undefined) {
      this.newestPerRig.set(s.rigId, [s]);
      return;
    }
    const i = miners.findIndex((m) => m.minerId === s.minerId);
    // On a repeated seq the first one is kept: it is the row the INSERT stores.
    if (i < 0) miners.push(s);
    else if (miners[i]!.seq < s.seq) miners[i] = s;
  }

  /** This batch followed by `later` (a failed batch goes back in front of what arrived meanwhile). */
  concat(later: SnapshotBatch): SnapshotBatch {
    const both = new SnapshotBatch();
    for (const p of this.params) both.params.push(p);
    for (const p of later.params) both.params.push(p);
    for (const s of this.newest()) both.keepNewest(s);
    for (const s of later.newest()) both.keepNewest(s);
    return both;
  }

  /** The newest snapshot of each miner in the batch. */
  newest(): NewestKey[] {
    return [...this.newestPerRig.values()].flat();
  }

  /** Every rig with a snapshot in the batch. */
  rigIds(): Set<string> {
    return new Set(this.newestPerRig.keys());
  }
}
