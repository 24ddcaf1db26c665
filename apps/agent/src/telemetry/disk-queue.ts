import { readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appendPrivateFileSync, ensurePrivateDir, ensurePrivateFile, writePrivateFileSync, type Clock } from '@rigwarden/shared';

export interface QueuedMessage {
  topic: string;
  /** The MQTT payload (UTF-8 JSON). */
  payload: string;
  /** When it was queued, epoch ms. */
  at: number;
  /**
   * What names it in the controller's ingest receipts (snapshotReceiptKey and friends in @rigwarden/protocol): a
   * message with a key stays queued until a receipt names it. Without one, the broker's acknowledgement is enough.
   */
  key?: string;
}

export interface DiskQueueOptions {
  /** Upper bound on the bytes kept on disk; the oldest messages are dropped beyond it. */
  maxBytes: number;
  /** Messages older than this are dropped instead of sent. */
  maxAgeMs: number;
  /** Size of one segment file; the unit in which space is reclaimed. */
  segmentBytes?: number;
  clock: Clock;
}

export interface DiskQueueStats {
  depth: number;
  /** The dropped counts are totals since the outbox was created: they survive restarts (kept with the cursor). */
  bytes: number;
  droppedFull: number;
  droppedExpired: number;
  droppedCorrupt: number;
}

interface Segment {
  id: number;
  path: string;
  bytes: number;
  count: number;
}

const SEGMENT_NAME = /^seg-(\d{12})\.jsonl$/;

/**
 * Store-and-forward for telemetry while the broker is unreachable: an append-only
 * queue of JSON lines in segment files, bounded in bytes and in age. A cursor file
 * remembers how far delivery got, so a restart resumes where it stopped; delivered
 * segments are deleted. When full, the oldest segment is dropped and counted.
 */
export class DiskQueue {
  private readonly segments: Segment[] = [];
  private readonly cursorFile: string;
  /** Position of the next message to deliver: segment id and line index within it. */
  private cursor = { segment: 0, line: 0 };
  private cache: { id: number; lines: string[] } | undefined;
  private readonly segmentBytes: number;
  private readonly counters = { droppedFull: 0, droppedExpired: 0, droppedCorrupt: 0 };
  private cursorDirty = false;
  /** Messages removed from the head without being delivered (expired, corrupt, dropped when full), ever. */
  headDrops = 0;

  constructor(private readonly dir: string, private readonly options: DiskQueueOptions) {
    this.segmentBytes = options.segmentBytes ?? Math.max(4096, Math.min(1 << 20, Math.floor(options.maxBytes / 8)));
    ensurePrivateDir(dir); // 0700, segments and cursor 0600 (also fixed on an existing outbox)
    this.cursorFile = join(dir, 'cursor.json');
    ensurePrivateFile(this.cursorFile);
    for (const name of readdirSync(dir).sort()) {
      const match = SEGMENT_NAME.exec(name);
      if (!match) continue;
      const path = join(dir, name);
      ensurePrivateFile(path);
      const text = readFileSync(path, 'utf8');
      this.segments.push({ id: Number(match[1]), path, bytes: statSync(path).size, count: countLines(text) });
    }
    try {
      const saved = JSON.parse(readFileSync(this.cursorFile, 'utf8')) as { segment: number; line: number; dropped?: Partial<DiskQueue['counters']> };
      if (Number.isInteger(saved.segment) && Number.isInteger(saved.line)) this.cursor = { segment: saved.segment, line: saved.line };
      // What was dropped survives a restart (a kill -9 included): the operator's count of lost messages stays true.
      for (const name of ['droppedFull', 'droppedExpired', 'droppedCorrupt'] as const) {
        const n = saved.dropped?.[name];
        if (Number.isSafeInteger(n) && n! >= 0) this.counters[name] = n!;
      }
    } catch {
      // no cursor yet: start at the first segment
    }
    // Segments wholly before the cursor were delivered before a crash: remove them.
    while (this.segments.length > 0 && this.segments[0]!.id < this.cursor.segment) this.removeOldest();
    if (this.segments.length > 0 && this.cursor.segment < this.segments[0]!.id) this.cursor = { segment: this.segments[0]!.id, line: 0 };
  }

  push(message: QueuedMessage): void {
    const line = JSON.stringify(message) + '\n';
    const size = Buffer.byteLength(line);
    let tail = this.segments[this.segments.length - 1];
    if (!tail || tail.bytes + size > this.segmentBytes) {
      const id = tail ? tail.id + 1 : Math.max(this.cursor.segment, 1);
      if (!tail) this.cursor = { segment: id, line: 0 }; // the queue was empty: delivery starts here
      tail = { id, path: join(this.dir, `seg-${String(id).padStart(12, '0')}.jsonl`), bytes: 0, count: 0 };
      this.segments.push(tail);
    }
    appendPrivateFileSync(tail.path, line);
    tail.bytes += size;
    tail.count++;
    if (this.cache?.id === tail.id) this.cache.lines.push(line.slice(0, -1));
    while (this.totalBytes() > this.options.maxBytes && this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const undelivered = oldest.id === this.cursor.segment ? oldest.count - this.cursor.line : oldest.count;
      this.counters.droppedFull += undelivered;
      this.headDrops += undelivered;
      this.removeOldest();
      this.cursor = { segment: this.segments[0]!.id, line: 0 };
      this.saveCursor();
    }
  }

  /** Drops expired and corrupt messages at the head (counted); returns how many. */
  dropStaleHead(): number {
    const oldestAllowed = this.options.clock.now() - this.options.maxAgeMs;
    let dropped = 0;
    for (;;) {
      const head = this.messageAt(this.cursor.segment, this.cursor.line);
      if (head === undefined) return dropped;
      if (head === null) this.counters.droppedCorrupt++;
      else if (head.at < oldestAllowed) this.counters.droppedExpired++;
      else return dropped;
      this.ack(1);
      this.headDrops++;
      dropped++;
    }
  }

  /**
   * Up to `max` of the oldest undelivered messages, in order, after skipping the first `skip` of them (those already
   * in flight). Expired and corrupt messages at the head are dropped first.
   */
  peek(max: number, skip = 0): QueuedMessage[] {
    this.dropStaleHead();
    const out: QueuedMessage[] = [];
    let toSkip = skip;
    for (const segment of this.segments) {
      if (segment.id < this.cursor.segment) continue;
      const start = segment.id === this.cursor.segment ? this.cursor.line : 0;
      if (toSkip >= segment.count - start) {
        toSkip -= segment.count - start;
        continue;
      }
      const lines = this.linesOf(segment);
      for (let i = start + toSkip; i < lines.length && out.length < max; i++) {
        const message = parse(lines[i]!);
        if (message) out.push(message);
        else out.push({ topic: '', payload: '', at: 0 }); // keeps positions aligned with ack(); the caller skips it
      }
      toSkip = 0;
      if (out.length >= max) break;
    }
    return out;
  }

  /** The message at a position: undefined past the end, null when the line is corrupt. */
  private messageAt(segmentId: number, line: number): QueuedMessage | null | undefined {
    const segment = this.segments.find((s) => s.id === segmentId);
    if (!segment || line >= segment.count) return undefined;
    return parse(this.linesOf(segment)[line] ?? '') ?? null;
  }

  /**
   * Marks the `n` oldest undelivered messages as delivered. `lazy`: the cursor file is written by the next syncCursor()
   * or eager ack instead of now (a crash before that only sends those messages again; the controller drops duplicates).
   */
  ack(n: number, lazy = false): void {
    let remaining = n;
    while (remaining > 0 && this.segments.length > 0) {
      const head = this.segments.find((s) => s.id === this.cursor.segment) ?? this.segments[0]!;
      const left = head.count - this.cursor.line;
      const step = Math.min(left, remaining);
      this.cursor.line += step;
      remaining -= step;
      if (this.cursor.line >= head.count) {
        const isTail = head === this.segments[this.segments.length - 1];
        if (isTail) {
          // Everything is delivered: start afresh in a new segment.
          this.removeOldest();
          this.cursor = { segment: head.id + 1, line: 0 };
        } else {
          this.removeOldest();
          this.cursor = { segment: this.segments[0]!.id, line: 0 };
        }
      }
    }
    if (lazy) this.cursorDirty = true;
    else this.saveCursor();
  }

  /** Writes the cursor if a lazy ack moved it. */
  syncCursor(): void {
    if (this.cursorDirty) this.saveCursor();
  }

  get depth(): number {
    let depth = 0;
    for (const s of this.segments) depth += s.id === this.cursor.segment ? s.count - this.cursor.line : s.id > this.cursor.segment ? s.count : 0;
    return depth;
  }

  stats(): DiskQueueStats {
    return { depth: this.depth, bytes: this.totalBytes(), ...this.counters };
  }

  private linesOf(segment: Segment): string[] {
    if (this.cache?.id !== segment.id) {
      const text = readFileSync(segment.path, 'utf8');
      this.cache = { id: segment.id, lines: text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1) };
    }
    return this.cache.lines;
  }

  private removeOldest(): void {
    const oldest = this.segments.shift();
    if (!oldest) return;
    rmSync(oldest.path, { force: true });
    if (this.cache?.id === oldest.id) this.cache = undefined;
  }

  private totalBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  private saveCursor(): void {
    this.cursorDirty = false;
    const tmp = `${this.cursorFile}.tmp`;
    writePrivateFileSync(tmp, JSON.stringify({ ...this.cursor, dropped: this.counters }));
    renameSync(tmp, this.cursorFile);
  }
}

function countLines(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

function parse(line: string): QueuedMessage | undefined {
  try {
    const value = JSON.parse(line) as QueuedMessage;
    return typeof value.topic === 'string' && typeof value.payload === 'string' && typeof value.at === 'number' && (value.key === undefined || typeof value.key === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}
