import { readFileSync, renameSync } from 'node:fs';
import { writePrivateFileSync, ensurePrivateFile } from '@rigwarden/shared';

/**
 * The fence against a controller that lost its lease (docs/scale-out.md): the highest lease epoch this agent has
 * accepted a command under, per rig, kept on disk across restarts. A command signed under an older epoch comes from a
 * controller that was paused or partitioned while another took the rig over: it is refused, never run.
 *
 * Epoch 0 means "no leases" (a single controller, or one without --replica-id): always accepted, and it never lowers
 * what is kept.
 */
export class LeaseEpochs {
  private readonly highest: Record<string, number>;

  constructor(private readonly path: string) {
    ensurePrivateFile(path);
    this.highest = read(path);
  }

  /** The highest epoch accepted for the rig (0 when none). */
  of(rigId: string): number {
    return this.highest[rigId] ?? 0;
  }

  /**
   * Checks a command's epoch for a rig: undefined when it may run (and a higher epoch is kept first, durably), else
   * why it is refused.
   */
  admit(rigId: string, epoch: number): string | undefined {
    if (epoch === 0) return undefined;
    const seen = this.of(rigId);
    if (epoch < seen) {
      return `stale lease epoch ${epoch}: this agent has accepted commands for ${rigId} under epoch ${seen}, so the controller that sent it no longer owns the rig (it was paused or cut off while another took over); not run`;
    }
    if (epoch > seen) {
      this.highest[rigId] = epoch;
      const tmp = `${this.path}.tmp`;
      writePrivateFileSync(tmp, JSON.stringify(this.highest));
      renameSync(tmp, this.path);
    }
    return undefined;
  }
}

function read(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${path}: expected a JSON object of rig id -> highest lease epoch; it fences off controllers that lost their lease, so fix it rather than delete it`);
  }
  const out: Record<string, number> = {};
  for (const [rig, epoch] of Object.entries(parsed)) if (Number.isSafeInteger(epoch) && (epoch as number) > 0) out[rig] = epoch as number;
  return out;
}
