import { MAX_NONCE_KEY_LENGTH, type NonceStore, type NonceVerdict } from './nonce-store';
import { SecurityError } from './security-error';

export interface MemoryNonceStoreOptions {
  /** Most nonces remembered at once. Default 10,000 (far above a farm's command rate within a 60 s window). */
  readonly capacity?: number;
}

export const DEFAULT_NONCE_CAPACITY = 10_000;

interface Entry {
  readonly key: string;
  readonly until: number;
}

/**
 * A bounded, time-ordered nonce cache. Keys are forgotten once their `until` has passed; when the cache is full the
 * key with the earliest `until` is evicted and the store's *floor* rises to that `until`: from then on any unknown key
 * whose `until` is at or below the floor is answered `saturated` (fail closed), so an evicted nonce can never be
 * replayed. Memory is O(capacity) whatever arrives.
 */
export class MemoryNonceStore implements NonceStore {
  readonly capacity: number;
  readonly #untilByKey = new Map<string, number>();
  readonly #heap: Entry[] = [];
  #floor = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_NONCE_CAPACITY;
    if (!Number.isSafeInteger(this.capacity) || this.capacity < 1) {
      throw new SecurityError('invalid_argument', `MemoryNonceStore: capacity must be a positive integer, got ${this.capacity}`);
    }
  }

  /** The highest `until` forgotten early because the store was full (-Infinity when none). */
  get floor(): number {
    return this.#floor;
  }

  remember(key: string, until: number, now: number): NonceVerdict {
    checkArguments(key, until, now);
    this.sweep(now);
    if (this.#untilByKey.has(key)) return 'seen';
    if (until <= this.#floor) return 'saturated';
    if (until <= now) return 'fresh'; // already past its window: nothing to remember
    if (this.#untilByKey.size >= this.capacity) {
      const earliest = this.#heap[0];
      if (earliest && earliest.until < until) {
        this.#pop();
        this.#untilByKey.delete(earliest.key);
        this.#floor = Math.max(this.#floor, earliest.until);
      } else {
        // The new key is the earliest of all: keep the others and cover this one by the floor instead.
        this.#floor = Math.max(this.#floor, until);
        return 'fresh';
      }
    }
    this.#untilByKey.set(key, until);
    this.#push({ key, until });
    return 'fresh';
  }

  size(): number {
    return this.#untilByKey.size;
  }

  /** Forgets every key whose window has passed. */
  sweep(now: number): void {
    while (this.#heap.length > 0 && (this.#heap[0] as Entry).until <= now) {
      const entry = this.#pop();
      if (this.#untilByKey.get(entry.key) === entry.until) this.#untilByKey.delete(entry.key);
    }
  }

  /** The live keys, earliest `until` first: what a compaction writes. */
  entries(): Array<{ key: string; until: number }> {
    return [...this.#untilByKey].map(([key, until]) => ({ key, until })).sort((a, b) => a.until - b.until);
  }

  /** Restores a floor read back from a journal. */
  raiseFloor(floor: number): void {
    this.#floor = Math.max(this.#floor, floor);
  }

  toJSON(): unknown {
    return { store: 'MemoryNonceStore', size: this.size(), capacity: this.capacity };
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry).until <= entry.until) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && (heap[right] as Entry).until < (heap[left] as Entry).until ? right : left;
        if ((heap[child] as Entry).until >= last.until) break;
        heap[i] = heap[child] as Entry;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function checkArguments(key: string, until: number, now: number): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_NONCE_KEY_LENGTH) {
    throw new SecurityError('invalid_argument', `NonceStore.remember: key must be 1..${MAX_NONCE_KEY_LENGTH} characters`);
  }
  if (!Number.isSafeInteger(until) || !Number.isSafeInteger(now)) {
    throw new SecurityError('invalid_argument', 'NonceStore.remember: until and now must be epoch milliseconds');
  }
}
