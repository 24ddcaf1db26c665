import type { AuditRecord } from './audit.repository';

/** One refused request at an edge (gRPC or HTTP): who, from where, what it tried and why it was refused. */
export interface Refusal {
  /** What the refusals are counted by: `key:<id>` for a key that exists, `addr:<address>` otherwise. */
  source: string;
  principal: string;
  keyId: string;
  action: string;
  /** "unauthenticated" or "denied". */
  outcome: string;
  reason: string;
  required: string;
}

export interface RefusalAuditOptions {
  /** The counting window per source. Default 60 s. */
  windowMs?: number;
  /** Refusals per source and window answered as usual (401/403); past it, 429 / RESOURCE_EXHAUSTED. Default 120. */
  limitPerWindow?: number;
  /** Sources tracked at once; past it, new sources share one `overflow` entry. Default 1,000. */
  maxSources?: number;
}

export interface RefusalDecision {
  /** Set when the source is past its limit: answer "too many" with a Retry-After of this many ms. */
  retryAfterMs?: number;
}

interface Window {
  started: number;
  last: number;
  /** Refusals in this window after the first one (the first is written at once). */
  more: number;
  actions: Map<string, number>;
  reasons: Map<string, number>;
  principal: string;
  keyId: string;
}

const MAX_DISTINCT = 20;
const MAX_ACTION_CHARS = 200;
export const DEFAULT_REFUSAL_WINDOW_MS = 60_000;
export const DEFAULT_REFUSALS_PER_WINDOW = 120;
const OVERFLOW = 'overflow';

/**
 * Refused requests in the audit log, aggregated: per source (a key, or an address when no known key was sent) and
 * window, the first refusal is one row at once; the rest of the window is one `refusals` row with their count, the
 * actions tried and the reasons, written when the window ends (found at the next refusal, at `sweep()` or at
 * `flush()`). So a flood of refusals costs at most two rows per source and window, and memory is bounded by
 * maxSources. Past limitPerWindow a source's refusals are answered "too many" (429 / RESOURCE_EXHAUSTED) until its
 * window ends; an accepted key is never limited, whoever else shares its address.
 */
export class RefusalAudit {
  private readonly windows = new Map<string, Window>();
  readonly windowMs: number;
  private readonly limit: number;
  private readonly maxSources: number;

  constructor(
    private readonly audit: { append(record: AuditRecord): Promise<unknown> },
    options: RefusalAuditOptions = {},
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_REFUSAL_WINDOW_MS;
    this.limit = options.limitPerWindow ?? DEFAULT_REFUSALS_PER_WINDOW;
    this.maxSources = options.maxSources ?? 1000;
  }

  /** Counts a refusal at `now`; writes a row when it opens a window (and the summary of the window it closes). */
  async record(refusal: Refusal, now: number): Promise<RefusalDecision> {
    let source = refusal.source;
    let window = this.windows.get(source);
    let ended: Promise<void> = Promise.resolve();
    if (window && now - window.started >= this.windowMs) {
      ended = this.close(source, window); // detaches the window at once; its summary is written below
      window = undefined;
    }
    if (!window && this.windows.size >= this.maxSources) {
      source = OVERFLOW;
      window = this.windows.get(OVERFLOW);
    }
    if (!window) {
      this.windows.set(source, { started: now, last: now, more: 0, actions: new Map(), reasons: new Map(), principal: refusal.principal, keyId: refusal.keyId });
      await ended;
      await this.audit.append({
        principal: refusal.principal, keyId: refusal.keyId, action: cut(refusal.action), target: '', outcome: refusal.outcome,
        detail: { reason: refusal.reason, required: refusal.required, source: source === OVERFLOW ? OVERFLOW : refusal.source },
      });
      return {};
    }
    window.more += 1;
    window.last = now;
    bump(window.actions, cut(refusal.action));
    bump(window.reasons, `${refusal.outcome}:${refusal.reason}`);
    return window.more + 1 > this.limit ? { retryAfterMs: Math.max(1, window.started + this.windowMs - now) } : {};
  }

  /** Writes the summary of every window that has ended by `now` (run on a timer). */
  async sweep(now: number): Promise<void> {
    for (const [source, window] of [...this.windows]) {
      if (now - window.started >= this.windowMs) await this.close(source, window);
    }
  }

  /** Writes the summary of every open window (at shutdown). */
  async flush(): Promise<void> {
    for (const [source, window] of [...this.windows]) await this.close(source, window);
  }

  /** Sources with an open window. */
  get size(): number {
    return this.windows.size;
  }

  /** Detaches the window synchronously, then writes its summary. */
  private close(source: string, window: Window): Promise<void> {
    if (this.windows.get(source) === window) this.windows.delete(source);
    if (window.more === 0) return Promise.resolve();
    return this.write(source, window);
  }

  private async write(source: string, window: Window): Promise<void> {
    await this.audit.append({
      principal: source === OVERFLOW ? 'anonymous' : window.principal, keyId: source === OVERFLOW ? '' : window.keyId, action: 'refusals', target: '',
      outcome: 'refused',
      detail: {
        source, count: window.more, from: window.started, to: window.last, windowMs: this.windowMs,
        actions: Object.fromEntries(window.actions), reasons: Object.fromEntries(window.reasons),
      },
    });
  }
}

function bump(counts: Map<string, number>, key: string): void {
  const k = counts.has(key) || counts.size < MAX_DISTINCT ? key : 'other';
  counts.set(k, (counts.get(k) ?? 0) + 1);
}

function cut(action: string): string {
  return action.length <= MAX_ACTION_CHARS ? action : `${action.slice(0, MAX_ACTION_CHARS)}...`;
}

/** "127.0.0.1" from a gRPC peer ("ipv4:127.0.0.1:5123", "[::1]:5123", "127.0.0.1:5123") or a socket address. */
export function peerAddress(peer: string | undefined): string {
  if (!peer) return 'unknown';
  const bare = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(bare);
  if (v4) return v4[1]!;
  return bare.replace(/^::ffff:/, '').slice(0, 64);
}
