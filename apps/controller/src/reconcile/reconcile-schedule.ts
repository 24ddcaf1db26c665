import type { Clock } from '@rigwarden/shared';

/**
 * When each rig wants its next reconcile: one time per rig (a later request replaces it), one timer for the whole
 * fleet, set to the earliest time. A min-heap with lazy deletion: a replaced or cancelled entry stays in the heap
 * until it comes up and is skipped. What is due goes to `run` (the reconciler's enqueue).
 */
export class ReconcileSchedule {
  private readonly due = new Map<string, number>();
  private readonly heap: Array<{ at: number; rigId: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly clock: () => Clock, private readonly run: (rigId: string) => void) {}

  get size(): number {
    return this.due.size;
  }

  /** The time the rig is scheduled for, if any. */
  at(rigId: string): number | undefined {
    return this.due.get(rigId);
  }

  /** Reconcile the rig at `at` (epoch ms); undefined cancels what was scheduled. */
  set(rigId: string, at: number | undefined): void {
    if (this.stopped) return;
    if (at === undefined) {
      this.due.delete(rigId);
      return;
    }
    if (this.due.get(rigId) === at) return;
    this.due.set(rigId, at);
    this.push({ at, rigId });
    // Replaced entries wait in the heap until they come up: past twice the live ones, drop them all at once.
    if (this.heap.length > 2 * this.due.size + 1024) this.compact();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.due.clear();
    this.heap.length = 0;
  }

  /** Runs what is due now and sets the timer for the rest (the timer calls it; tests may too). */
  fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock().now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const { at, rigId } = this.pop()!;
      if (this.due.get(rigId) !== at) continue; // replaced or cancelled
      this.due.delete(rigId);
      this.run(rigId);
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    while (this.heap.length > 0 && this.due.get(this.heap[0]!.rigId) !== this.heap[0]!.at) this.pop();
    const next = this.heap[0]?.at;
    if (next === undefined || next >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - this.clock().now()));
    this.timer.unref();
  }

  private compact(): void {
    const live = this.heap.filter((e) => this.due.get(e.rigId) === e.at);
    this.heap.length = 0;
    for (const e of live) this.push(e);
  }

  private push(e: { at: number; rigId: string }): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): { at: number; rigId: string } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
