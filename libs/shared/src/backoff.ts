/**
 * Exponential backoff with jitter, for every retry and reconnect in Rigwarden (agents reconnecting to the broker,
 * the controller's ingest and PostgreSQL feed, command retries, alert deliveries).
 *
 * Why jitter: when a broker restarts, every agent of a farm loses it at the same instant; with a plain doubling
 * backoff they all come back at the same instants too (1 s, 2 s, 4 s ...), each wave a spike of CONNECTs and outbox
 * resends. Spreading each wait over [base x (1 - jitter), base] breaks the waves up while keeping the mean close to
 * the doubling schedule. The randomness is injected so the schedule is testable (and the policy engine, which must
 * stay deterministic, never uses this).
 */
export interface BackoffOptions {
  /** The first wait (before jitter). */
  initialMs: number;
  /** The longest wait (before jitter). */
  maxMs: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /**
   * Fraction of each wait drawn at random (default 0.5): the wait is uniform in [base x (1 - jitter), base].
   * 0 is the plain doubling schedule; 1 is "full jitter" (uniform in [0, base]).
   */
  jitter?: number;
  /** Uniform in [0, 1) (default Math.random). */
  random?: () => number;
}

function checked(options: BackoffOptions): Required<BackoffOptions> {
  const o = { ...options, factor: options.factor ?? 2, jitter: options.jitter ?? 0.5, random: options.random ?? Math.random };
  if (!(o.initialMs > 0) || !(o.maxMs >= o.initialMs)) throw new RangeError(`backoff: needs 0 < initialMs <= maxMs, got ${o.initialMs} and ${o.maxMs}`);
  if (!(o.factor >= 1)) throw new RangeError(`backoff: factor must be at least 1, got ${o.factor}`);
  if (!(o.jitter >= 0 && o.jitter <= 1)) throw new RangeError(`backoff: jitter must be from 0 to 1, got ${o.jitter}`);
  return o;
}

/** The un-jittered wait before retry number `attempt` (0 for the first retry): initial x factor^attempt, capped. */
export function backoffBaseMs(attempt: number, options: Pick<BackoffOptions, 'initialMs' | 'maxMs' | 'factor'>): number {
  const factor = options.factor ?? 2;
  // Capped before the power overflows: past about 60 doublings the product is Infinity anyway.
  const grown = options.initialMs * factor ** Math.min(Math.max(0, attempt), 64);
  return Math.min(options.maxMs, grown);
}

/** The jittered wait before retry number `attempt` (0 for the first retry), in whole milliseconds. */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const o = checked(options);
  const base = backoffBaseMs(attempt, o);
  return Math.round(base * (1 - o.jitter * o.random()));
}

/**
 * A retry schedule with its state: `next()` for each failure gives the wait before the next try and moves on;
 * `reset()` after a success starts over from `initialMs`.
 */
export class Backoff {
  private readonly options: Required<BackoffOptions>;
  private failures = 0;

  constructor(options: BackoffOptions) {
    this.options = checked(options);
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The wait before the next try, after one more failure. */
  next(): number {
    return backoffDelayMs(this.failures++, this.options);
  }

  /** After a success: the next failure waits about `initialMs` again. */
  reset(): void {
    this.failures = 0;
  }
}

/** What reconnectWithBackoff needs of an MQTT.js client (structural: libs/shared imports no MQTT library). */
export interface ReconnectingClient {
  options: { reconnectPeriod?: number };
  on(event: 'connect' | 'close', listener: () => void): unknown;
}

/**
 * Gives an MQTT.js client a jittered reconnect schedule. MQTT.js waits `options.reconnectPeriod` after each close, read
 * when the close happens (its own close listener runs before this one): so the wait of the first reconnect is drawn
 * when the connection comes up, and each later one when a close happens.
 */
export function reconnectWithBackoff(client: ReconnectingClient, backoff: Backoff): void {
  client.options.reconnectPeriod = backoff.next();
  client.on('connect', () => {
    backoff.reset();
    client.options.reconnectPeriod = backoff.next();
  });
  client.on('close', () => { client.options.reconnectPeriod = backoff.next(); });
}
