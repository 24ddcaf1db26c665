import type { DiskQueue } from './disk-queue';

/**
 * One outbox drained under ingest receipts: which of its head messages were sent on this connection and are not
 * confirmed yet, which receipts arrived ahead of their message's turn, and when the lane last made progress (the
 * resend timer). The publisher keeps two: results and events first, telemetry behind them, so a command's result is
 * never stuck behind a backlog of snapshots.
 */
export class OutboxLane {
  /**
   * The keys of the messages at the outbox's head that were sent on this connection and are not confirmed yet, in
   * outbox order (the next send skips them). Kept in memory so that a receipt is matched without reading the outbox.
   */
  private inFlightKeys: string[] = [];
  private readonly inFlightSet = new Set<string>();
  /** Of those, how many a receipt has confirmed already, behind an unconfirmed head: they do not count against maxUnconfirmed. */
  private confirmedInFlight = 0;
  /** The outbox's headDrops when inFlightKeys was last aligned with its head. */
  private seenHeadDrops: number;
  /** Keys confirmed by a receipt that are not at the head yet (receipts may come out of order). */
  private readonly confirmedKeys = new Set<string>();
  /** When the controller last confirmed something here, or the unconfirmed head was (re)sent. */
  lastProgressAt = 0;
  /** The current wait before unconfirmed messages are sent again (doubles while nothing is confirmed). */
  resendAfterMs: number;
  /** The resend timer fired: the sending loop starts again from the head at its next round. */
  resendPending = false;

  constructor(
    readonly name: string,
    readonly outbox: DiskQueue,
    readonly maxUnconfirmed: number,
    private readonly baseResendAfterMs: number,
  ) {
    this.resendAfterMs = baseResendAfterMs;
    this.seenHeadDrops = outbox.headDrops;
  }

  /** Messages in flight and not confirmed. */
  get unconfirmed(): number {
    return this.inFlightKeys.length - this.confirmedInFlight;
  }

  /** Messages at the head already sent on this connection (the next peek skips them). */
  get inFlight(): number {
    return this.inFlightKeys.length;
  }

  /** How many more may be sent before a receipt must come. */
  get room(): number {
    return this.maxUnconfirmed - this.unconfirmed;
  }

  /** Records a message as sent; true when a receipt already confirmed it (no need to send it again). */
  sent(key: string): boolean {
    this.inFlightKeys.push(key);
    this.inFlightSet.add(key);
    if (this.confirmedKeys.has(key)) {
      this.confirmedInFlight++;
      return true;
    }
    return false;
  }

  confirm(key: string): void {
    if (this.confirmedKeys.has(key)) return;
    this.confirmedKeys.add(key);
    if (this.inFlightSet.has(key)) this.confirmedInFlight++;
  }

  /** Everything is to be sent again from the head (a new connection, an interrupted send, a resend). */
  reset(): void {
    this.inFlightKeys = [];
    this.inFlightSet.clear();
    this.confirmedInFlight = 0;
  }

  /** Messages the outbox dropped at its head (expired, full) are no longer in flight either. */
  alignWithHead(): void {
    const drops = this.outbox.headDrops - this.seenHeadDrops;
    this.seenHeadDrops = this.outbox.headDrops;
    if (drops <= 0) return;
    for (const key of this.inFlightKeys.splice(0, drops)) {
      this.inFlightSet.delete(key);
      if (this.confirmedKeys.delete(key)) this.confirmedInFlight--;
    }
  }

  /** Removes the confirmed messages at the head of the outbox (one ack for the run of them); returns how many. */
  advance(now: number): number {
    this.alignWithHead();
    let n = 0;
    while (n < this.inFlightKeys.length && this.confirmedKeys.delete(this.inFlightKeys[n]!)) n++;
    if (n > 0) {
      this.outbox.ack(n, true);
      for (const key of this.inFlightKeys.splice(0, n)) this.inFlightSet.delete(key);
      this.confirmedInFlight -= n;
      this.lastProgressAt = now;
      this.resendAfterMs = this.baseResendAfterMs;
    }
    // Keys for messages no longer in flight (confirmed twice, dropped as expired, not resent yet) must not pile up.
    if (this.confirmedKeys.size > this.confirmedInFlight + 4 * this.maxUnconfirmed + 1000) {
      for (const key of this.confirmedKeys) if (!this.inFlightSet.has(key)) this.confirmedKeys.delete(key);
    }
    return n;
  }
}
