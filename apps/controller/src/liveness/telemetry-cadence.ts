/** Gaps kept per miner: the median of the last few is the cadence (one late poll or a replay burst does not move it). */
const GAPS = 9;
/** Gaps shorter than this are not a poll interval (several miners polled together, a replayed backlog). */
const MIN_GAP_MS = 200;

interface MinerCadence {
  readonly minerId: string;
  lastCollectedAt: number;
  readonly gaps: number[];
  next: number;
}

/**
 * Learns a rig's poll interval from its snapshots' collection times (the agent's clock, so batching and transport
 * delays do not show): per miner, the median of the last gaps. A rig's cadence is its fastest miner's.
 * O(1) per snapshot; the median is only computed when asked (the liveness sweep).
 */
export class TelemetryCadence {
  private readonly miners: MinerCadence[] = [];
  /** intervalMs() as of the last gap (null: to compute). */
  private cached: number | undefined | null = null;

  observe(minerId: string, collectedAt: number): void {
    const m = this.miners.find((x) => x.minerId === minerId);
    if (!m) {
      this.miners.push({ minerId, lastCollectedAt: collectedAt, gaps: [], next: 0 });
      return;
    }
    const gap = collectedAt - m.lastCollectedAt;
    if (gap <= 0) return; // a replayed or reordered snapshot
    m.lastCollectedAt = collectedAt;
    if (gap < MIN_GAP_MS) return;
    if (m.gaps.length < GAPS) m.gaps.push(gap);
    else m.gaps[m.next] = gap;
    m.next = (m.next + 1) % GAPS;
    this.cached = null;
  }

  /** The median gap of the miner with the shortest one; undefined until a miner has two gaps. */
  intervalMs(): number | undefined {
    if (this.cached !== null) return this.cached;
    let best: number | undefined;
    for (const m of this.miners) {
      if (m.gaps.length < 2) continue;
      const sorted = [...m.gaps].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      if (best === undefined || median < best) best = median;
    }
    this.cached = best;
    return best;
  }
}
