/**
 * What a nonce store says about a nonce it is asked to remember.
 * - `fresh`: never seen (or forgotten after its window): now remembered.
 * - `seen`: remembered from an earlier command: a replay.
 * - `saturated`: the store was full and had to forget live nonces that would be remembered at least this long, so it
 *   cannot prove this one fresh. Fail closed: treat as a replay. Only happens when more than `capacity` authentic
 *   commands arrive within one freshness window.
 */
export type NonceVerdict = 'fresh' | 'seen' | 'saturated';

/**
 * Replay protection state. `remember` is an atomic check-and-set, synchronous on purpose: commands are rare, the
 * agent has one verifier, and a synchronous store cannot let two copies of one command through concurrently.
 *
 * `key` is opaque (the verifier uses rig id + nonce); `until` is the epoch-ms instant after which a replay would be
 * refused for its age anyway, so the store may forget the key from then on; `now` is the caller's clock.
 */
export interface NonceStore {
  remember(key: string, until: number, now: number): NonceVerdict;
  /** Keys remembered right now (live or not yet swept). */
  size(): number;
}

/** Bounds every store enforces on keys so memory and journal lines stay bounded. */
export const MAX_NONCE_KEY_LENGTH = 512;
