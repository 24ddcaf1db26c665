import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { firstSeqAt } from '@rigwarden/protocol';
import { ensurePrivateDir, ensurePrivateFile, writePrivateFileSync } from '@rigwarden/shared';

const BLOCK = 1000;

/**
 * Per-rig monotonic sequence numbers that survive a restart. Numbers are reserved
 * on disk in blocks (a hi/lo scheme): one write per 1,000 snapshots, and after a
 * crash the next number is past anything that may have been published.
 *
 * A rig this store has no number for starts at the clock in ms × 1000 (firstSeqAt), not at 1: after the data dir is
 * wiped, or when the rig moves to another agent, its seqs still rise above every seq the controller holds for it,
 * so new snapshots are neither "duplicates" of old rows nor older than the rig's stored status.
 */
export class SeqStore {
  private readonly file: string;
  private readonly reserved: Record<string, number>;
  private readonly next: Record<string, number> = {};

  constructor(dataDir: string, private readonly now: () => number = Date.now) {
    ensurePrivateDir(dataDir); // 0700, files 0600 (also fixed on an existing data dir)
    this.file = join(dataDir, 'seq.json');
    ensurePrivateFile(this.file);
    this.reserved = readReservations(this.file);
  }

  /** The next seq for a rig, starting at 1. */
  take(rigId: string): number {
    const reserved = this.reserved[rigId];
    const value = this.next[rigId] ?? (reserved === undefined ? firstSeqAt(this.now()) : reserved + 1);
    if (value > (this.reserved[rigId] ?? 0)) {
      this.reserved[rigId] = value + BLOCK - 1;
      this.persist();
    }
    this.next[rigId] = value + 1;
    return value;
  }

  private persist(): void {
    const tmp = `${this.file}.tmp`;
    writePrivateFileSync(tmp, JSON.stringify(this.reserved));
    renameSync(tmp, this.file);
  }
}

function readReservations(file: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file}: expected a JSON object of rig id -> reserved seq; delete the file only if no controller holds data from this agent`);
  }
  return parsed as Record<string, number>;
}
