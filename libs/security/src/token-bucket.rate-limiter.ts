import { SecurityError } from './security-error';

export interface TokenBucketOptions {
  /** Events let through in a burst. */
  readonly burst: number;
  /** Tokens regained per minute, spread evenly. */
  readonly perMinute: number;
  /** Most keys tracked; the least recently used key is forgotten beyond this. Default 1,000. */
  readonly maxKeys?: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Events of this key refused since the last one allowed: report them as "and N more" with the next allowed one. */
  readonly suppressed: number;
}

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
}

/**
 * A token bucket per key (e.g. `rig-7:bad_signature`) with an injected clock, so a flood of rejected commands becomes
 * a handful of security events that still say how many were suppressed. Memory is bounded by maxKeys; forgetting a
 * key only ever lets one more event through, never fewer.
 */
export class TokenBucketRateLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    this.#burst = options.burst;
    this.#perMs = options.perMinute / 60_000;
    this.#maxKeys = options.maxKeys ?? 1_000;
    if (!(this.#burst >= 1) || !(this.#perMs > 0) || !Number.isFinite(this.#perMs) || !(this.#maxKeys >= 1)) {
      throw new SecurityError('invalid_argument', 'TokenBucketRateLimiter: burst and maxKeys must be at least 1 and perMinute positive');
    }
  }

  /** Takes one token for `key` at `now` (epoch ms) if there is one. */
  take(key: string, now: number): RateDecision {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: Map order is the LRU order
      bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs);
      bucket.at = Math.max(bucket.at, now);
    } else {
      bucket = { tokens: this.#burst, at: now, suppressed: 0 };
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      const suppressed = bucket.suppressed;
      bucket.suppressed = 0;
      return { allowed: true, suppressed };
    }
    bucket.suppressed += 1;
    return { allowed: false, suppressed: bucket.suppressed };
  }

  /** Keys tracked right now. */
  size(): number {
    return this.#buckets.size;
  }
}
