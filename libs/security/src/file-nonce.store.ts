import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_NONCE_CAPACITY, MemoryNonceStore } from './memory-nonce.store';
import { MAX_NONCE_KEY_LENGTH, type NonceStore, type NonceVerdict } from './nonce-store';
import { SecurityError } from './security-error';

export interface FileNonceStoreOptions {
  /** The journal file. Its directory must exist; `<path>.tmp` is used during compaction. */
  readonly path: string;
  /** Most nonces remembered at once. Default 10,000. */
  readonly capacity?: number;
  /** Journal lines that trigger a compaction. Default 2 × capacity (at least 64). */
  readonly compactAfterLines?: number;
  /** fsync after every append and compaction, so a power cut (a rebootHost, a powerCycle) loses nothing. Default true. */
  readonly fsync?: boolean;
  /** The clock at open: entries already past their window are dropped. */
  readonly now: number;
}

/** Journal format version: the first line of every journal is `{"rwnonce":1,"floor":<ms|null>}`. */
export const NONCE_JOURNAL_VERSION = 1;

/**
 * A nonce store that survives restarts: the in-memory store, plus an append-only journal of what it remembered
 * (`{"k":key,"u":until}` per line, `{"f":floor}` when the floor rises). Opening replays the journal, dropping what has
 * expired, and compacts it; a compaction rewrites only the live entries (to `<path>.tmp`, fsync, rename), so the file
 * never exceeds `compactAfterLines` + 2 lines of at most ~1 KB (keys are bounded). A torn last line (a crash mid-append) is
 * ignored; any other unreadable line fails the open with `journal_corrupt`: the agent must not run with replay
 * protection it cannot trust. One process per journal.
 */
export class FileNonceStore implements NonceStore {
  readonly path: string;
  readonly #cache: MemoryNonceStore;
  readonly #compactAfter: number;
  readonly #fsync: boolean;
  #fd: number | undefined;
  #lines = 0;
  #compactions = 0;
  #compactionError: SecurityError | undefined;

  private constructor(options: FileNonceStoreOptions) {
    this.path = options.path;
    this.#cache = new MemoryNonceStore({ capacity: options.capacity ?? DEFAULT_NONCE_CAPACITY });
    this.#compactAfter = options.compactAfterLines ?? Math.max(64, 2 * this.#cache.capacity);
    this.#fsync = options.fsync ?? true;
    if (!Number.isSafeInteger(this.#compactAfter) || this.#compactAfter <= this.#cache.capacity) {
      throw new SecurityError('invalid_argument', `FileNonceStore: compactAfterLines must be an integer above capacity (${this.#cache.capacity})`, { path: this.path });
    }
  }

  /** Opens (or creates) the journal at `path`, replays it and compacts it. */
  static open(options: FileNonceStoreOptions): FileNonceStore {
    const store = new FileNonceStore(options);
    store.#load(options.now);
    store.#compact(options.now);
    return store;
  }

  get floor(): number {
    return this.#cache.floor;
  }

  /** Lines in the journal file right now (header included). */
  get journalLines(): number {
    return this.#lines;
  }

  /** Why the last compaction after an append failed, if it did (the journal then stays longer until one succeeds). */
  get compactionError(): SecurityError | undefined {
    return this.#compactionError;
  }

  /** Compactions since open (the one at open included). */
  get compactions(): number {
    return this.#compactions;
  }

  remember(key: string, until: number, now: number): NonceVerdict {
    if (this.#fd === undefined) throw new SecurityError('store_closed', `FileNonceStore.remember: ${this.path} is closed`, { path: this.path });
    const floor = this.#cache.floor;
    const verdict = this.#cache.remember(key, until, now);
    if (verdict !== 'fresh' || until <= now) return verdict;
    let text = `${JSON.stringify({ k: key, u: until })}\n`;
    if (this.#cache.floor !== floor) text += `${JSON.stringify({ f: this.#cache.floor })}\n`;
    this.#append(text); // throws (fail closed) if the nonce cannot be made durable
    if (this.#lines > this.#compactAfter) {
      try {
        this.#compact(now);
      } catch (err) {
        // The nonce is safely journaled; a failed compaction (disk full) is retried on the next append.
        this.#compactionError = err as SecurityError;
      }
    }
    return verdict;
  }

  size(): number {
    return this.#cache.size();
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  toJSON(): unknown {
    return { store: 'FileNonceStore', path: this.path, size: this.size(), journalLines: this.#lines };
  }

  #load(now: number): void {
    if (!existsSync(this.path)) return;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw this.#io('read', err);
    }
    const lines = text.split('\n');
    // '' when the file ends with a newline; otherwise the last append, cut short by a crash: kept if it still parses.
    const torn = lines.pop() ?? '';
    lines.forEach((line, index) => this.#replay(line, index, now, true));
    if (torn !== '' && lines.length > 0) this.#replay(torn, lines.length, now, false);
  }

  #replay(line: string, index: number, now: number, strict: boolean): void {
    const corrupt = (why: string): void => {
      if (strict) {
        throw new SecurityError('journal_corrupt', `FileNonceStore.open: ${this.path} line ${index + 1}: ${why}`, { path: this.path, line: index + 1 });
      }
    };
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return corrupt('not JSON');
    }
    if (typeof record !== 'object' || record === null) return corrupt('not a JSON object');
    const r = record as Record<string, unknown>;
    if (index === 0) {
      if (r['rwnonce'] !== NONCE_JOURNAL_VERSION) return corrupt(`not a nonce journal of version ${NONCE_JOURNAL_VERSION}`);
      if (typeof r['floor'] === 'number') this.#cache.raiseFloor(r['floor']);
      return;
    }
    if (typeof r['f'] === 'number' && Number.isSafeInteger(r['f'])) {
      this.#cache.raiseFloor(r['f']);
    } else if (isKey(r['k']) && typeof r['u'] === 'number' && Number.isSafeInteger(r['u'])) {
      if (r['u'] > now) this.#cache.remember(r['k'], r['u'], now);
    } else {
      corrupt('neither an entry nor a floor');
    }
  }

  #compact(now: number): void {
    this.#cache.sweep(now);
    const floor = this.#cache.floor;
    const lines = [JSON.stringify({ rwnonce: NONCE_JOURNAL_VERSION, floor: floor > now ? floor : null })];
    for (const { key, until } of this.#cache.entries()) lines.push(JSON.stringify({ k: key, u: until }));
    const tmp = `${this.path}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${lines.join('\n')}\n`);
        if (this.#fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path); // until here the old journal (and its open descriptor) stays valid
      if (this.#fsync) syncDirectory(dirname(this.path));
    } catch (err) {
      throw this.#io('compact', err);
    }
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    try {
      this.#fd = openSync(this.path, 'a', 0o600);
    } catch (err) {
      throw this.#io('reopen', err);
    }
    this.#lines = lines.length;
    this.#compactions += 1;
    this.#compactionError = undefined;
  }

  #append(text: string): void {
    try {
      writeSync(this.#fd as number, text);
      if (this.#fsync) fsyncSync(this.#fd as number);
    } catch (err) {
      throw this.#io('append to', err);
    }
    this.#lines += text.split('\n').length - 1;
  }

  #io(operation: string, err: unknown): SecurityError {
    return new SecurityError('journal_io', `FileNonceStore: cannot ${operation} ${this.path}: ${(err as Error).message}`, { path: this.path }, { cause: err });
  }
}

function isKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NONCE_KEY_LENGTH;
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
