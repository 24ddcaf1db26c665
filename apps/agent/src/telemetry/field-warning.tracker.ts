import type { FieldWarning, FieldWarningCount } from '@rigwarden/protocol';
import type { Logger } from '@rigwarden/shared';

/** Bound on distinct rig+field+reason keys, so junk field names from a garbled miner cannot grow the status forever. */
const MAX_KEYS = 2048;

/**
 * Counts the values the drivers refused, per rig, field and reason, for the agent status; logs each rig+field once
 * (the first time it is refused), not on every poll.
 */
export class FieldWarningTracker {
  private readonly counts = new Map<string, FieldWarningCount>();
  private readonly logged = new Set<string>();
  /** Refusals not counted because MAX_KEYS was reached. */
  overflow = 0;

  constructor(private readonly logger: Logger) {}

  observe(rigId: string, minerId: string, warnings: readonly FieldWarning[] | undefined): void {
    for (const w of warnings ?? []) {
      const key = `${rigId}\u0000${w.field}\u0000${w.reason}`;
      const entry = this.counts.get(key);
      if (entry) entry.count++;
      else if (this.counts.size < MAX_KEYS) this.counts.set(key, { rigId, field: w.field, reason: w.reason, count: 1 });
      else this.overflow++;
      const once = `${rigId}\u0000${w.field}`;
      if (!this.logged.has(once) && this.logged.size < MAX_KEYS) {
        this.logged.add(once);
        this.logger.warn('miner sent a value that cannot be true; it is left out of the snapshot (logged once per rig and field)', {
          rig: rigId, miner: minerId, field: w.field, value: w.value, reason: w.reason,
        });
      }
    }
  }

  snapshot(): FieldWarningCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}
