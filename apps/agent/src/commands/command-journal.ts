import { readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { appendPrivateFileSync, ensurePrivateDir, ensurePrivateFile, writePrivateFileSync } from '@rigwarden/shared';

export type JournalState = 'started' | 'finished';

/** What a finished command answered, kept so a repeated delivery of its id gets the same answer. */
export interface JournalResult { outcome: number; cause: string; durationMs: number }

interface Entry { id: string; state: JournalState; at: number; result?: JournalResult }

/**
 * At-most-once execution across crashes: a command id is journalled as "started"
 * (and flushed to disk) before its side effect, and "finished" after. A command
 * found "started" but never "finished" after a restart is NOT run again: its
 * outcome is unknown, and repeating a power-cycle or a pool change is worse than
 * reporting it. The result of a finished command is journalled with it, so the controller's retries (same id, fresh
 * envelope) are answered with the original result. Bounded: compacted to the newest `capacity` ids.
 */
export class CommandJournal {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly path: string, private readonly capacity = 10_000) {
    ensurePrivateDir(dirname(path)); // 0700, the journal 0600 (also fixed on an existing one)
    ensurePrivateFile(path);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as Entry;
        if (typeof e.id === 'string' && (e.state === 'started' || e.state === 'finished')) {
          this.entries.delete(e.id);
          this.entries.set(e.id, e);
        }
      } catch {
        // a line torn by a crash: the id on it was at most "started", which the previous line recorded
      }
    }
    if (this.entries.size > this.capacity) this.compact();
  }

  state(id: string): JournalState | undefined {
    return this.entries.get(id)?.state;
  }

  /** When the id's latest state was recorded. */
  at(id: string): number | undefined {
    return this.entries.get(id)?.at;
  }

  /** The result journalled when the command finished (undefined for a command that never finished). */
  result(id: string): JournalResult | undefined {
    return this.entries.get(id)?.result;
  }

  /** Records a state durably (appendFileSync returns after the write reaches the OS). */
  record(id: string, state: JournalState, at: number, result?: JournalResult): void {
    const entry: Entry = result ? { id, state, at, result } : { id, state, at };
    appendPrivateFileSync(this.path, JSON.stringify(entry) + '\n');
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity * 1.5) this.compact();
  }

  private compact(): void {
    const keep = [...this.entries.values()].slice(-this.capacity);
    this.entries.clear();
    for (const e of keep) this.entries.set(e.id, e);
    const tmp = `${this.path}.tmp`;
    writePrivateFileSync(tmp, keep.map((e) => JSON.stringify(e)).join('\n') + (keep.length ? '\n' : ''));
    renameSync(tmp, this.path);
  }
}
