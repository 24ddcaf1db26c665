import { TokenBucketRateLimiter } from '@rigwarden/security';
import { backoffDelayMs, type Clock, type Logger } from '@rigwarden/shared';
import { messageFor } from './alert-payloads';
import type { AlertChannel, AlertsConfig } from './alerts-config';
import { severityRank, type AlertNotification, type DeliveryCount, type DeliveryOutcome } from './alert-types';

export interface DispatcherOptions {
  readonly channels: readonly AlertChannel[];
  readonly rateLimit: AlertsConfig['rateLimit'];
  readonly delivery: AlertsConfig['delivery'];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Waits between retries (tests pass a faster one). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Draws the retry jitter (each wait 75-100 % of backoffMs doubling per attempt); default Math.random. */
  readonly random?: () => number;
}

interface Job {
  readonly notification: AlertNotification;
  /** Notifications this channel missed (rate limit) before this one. */
  readonly suppressed: number;
}

interface ChannelState {
  readonly channel: AlertChannel;
  readonly queue: Job[];
  running: Promise<void> | undefined;
  /** Rate-limited since the last enqueued job: told in the next message. */
  missed: number;
  readonly counts: Record<DeliveryOutcome, number>;
}

class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(message: string, readonly retryable: boolean, readonly retryAfterMs?: number) {
    super(message);
  }
}

const MAX_RETRY_AFTER_MS = 60_000;

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  if (signal.aborted) { resolve(); return; }
  const timer = setTimeout(done, ms);
  function done(): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
  signal.addEventListener('abort', done);
});

/**
 * Sends notifications to webhooks without ever blocking the caller: `submit` only queues (bounded, per channel;
 * the oldest job is dropped when full). A global and a per-channel token bucket cap the rate; what they hold back
 * is counted and mentioned in the channel's next message. Each POST has a timeout; network errors, timeouts, 429
 * and 5xx are retried with exponential backoff; other 4xx are not. Logs name the channel, never its URL or token.
 */
export class AlertDispatcher {
  private readonly states: ChannelState[];
  private readonly global: TokenBucketRateLimiter;
  private readonly perChannel = new Map<string, TokenBucketRateLimiter>();
  private readonly abort = new AbortController();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Every channel's secrets: an error of one channel must not leak another's either. */
  private readonly secrets: readonly string[];
  private closed = false;

  constructor(private readonly options: DispatcherOptions) {
    this.global = new TokenBucketRateLimiter({ burst: options.rateLimit.burst, perMinute: options.rateLimit.perMinute, maxKeys: 1 });
    this.states = options.channels.map((channel) => {
      this.perChannel.set(channel.name, new TokenBucketRateLimiter({ burst: channel.rateLimit.burst, perMinute: channel.rateLimit.perMinute, maxKeys: 1 }));
      return { channel, queue: [], running: undefined, missed: 0, counts: { delivered: 0, failed: 0, rate_limited: 0, dropped: 0 } };
    });
    this.sleep = options.sleep ?? defaultSleep;
    this.secrets = options.channels.flatMap((c) => c.secrets);
  }

  /** Queues the notification for every channel that wants it. Synchronous, never throws. */
  submit(n: AlertNotification): void {
    if (this.closed) return;
    const targets = this.states.filter((s) => wants(s.channel, n));
    if (targets.length === 0) return;
    const now = this.options.clock.now();
    const globalOk = this.global.take('all', now).allowed;
    for (const s of targets) {
      if (!globalOk || !this.perChannel.get(s.channel.name)!.take('all', now).allowed) {
        s.missed++;
        s.counts.rate_limited++;
        continue;
      }
      if (s.queue.length >= this.options.delivery.maxQueue) {
        const dropped = s.queue.shift()!;
        s.counts.dropped++;
        this.options.logger.warn('alert queue full; dropped the oldest notification', { channel: s.channel.name, rule: dropped.notification.rule, rig: dropped.notification.rigId });
      }
      s.queue.push({ notification: n, suppressed: s.missed });
      s.missed = 0;
      this.pump(s);
    }
  }

  queueDepth(): number {
    return this.states.reduce((sum, s) => sum + s.queue.length + (s.running ? 1 : 0), 0);
  }

  deliveryCounts(): DeliveryCount[] {
    return this.states.flatMap((s) => (Object.keys(s.counts) as DeliveryOutcome[]).map((outcome) => ({ channel: s.channel.name, outcome, count: s.counts[outcome] })));
  }

  /** Resolves when every queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.states.some((s) => s.running)) await Promise.all(this.states.map((s) => s.running));
  }

  /** Stops taking notifications; waits up to `graceMs` for queued ones, then abandons the rest. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
    clearTimeout(timer);
    this.abort.abort();
    for (const s of this.states) s.queue.length = 0;
    await this.idle();
  }

  private pump(s: ChannelState): void {
    if (s.running) return;
    s.running = (async () => {
      while (s.queue.length > 0 && !this.abort.signal.aborted) {
        const job = s.queue.shift()!;
        s.counts[await this.deliver(s.channel, job)]++;
      }
    })().finally(() => { s.running = undefined; });
  }

  private async deliver(channel: AlertChannel, job: Job): Promise<DeliveryOutcome> {
    const { retries, backoffMs } = this.options.delivery;
    const message = messageFor(channel, job.notification, job.suppressed);
    const log = { channel: channel.name, type: channel.type, rule: job.notification.rule, rig: job.notification.rigId, status: job.notification.type };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(channel, message.body);
        this.options.logger.debug('alert delivered', { ...log, attempt });
        return 'delivered';
      } catch (err) {
        const e = err instanceof DeliveryError ? err : new DeliveryError(describe(err), true);
        const error = redact(e.message, this.secrets);
        if (!e.retryable || attempt > retries || this.abort.signal.aborted) {
          this.options.logger.warn('alert delivery failed', { ...log, attempts: attempt, error, retried: e.retryable && attempt > retries });
          return 'failed';
        }
        // Jittered, so that the alerts of a burst (a site's rigs going offline together) do not retry in step.
        const backoff = backoffMs > 0
          ? backoffDelayMs(attempt - 1, { initialMs: backoffMs, maxMs: backoffMs * 2 ** retries, jitter: 0.25, random: this.options.random })
          : 0;
        const wait = Math.max(e.retryAfterMs ?? 0, backoff);
        this.options.logger.info('alert delivery failed; will retry', { ...log, attempt, retryInMs: wait, error });
        await this.sleep(wait, this.abort.signal);
      }
    }
  }

  private async post(channel: AlertChannel, body: Record<string, unknown>): Promise<void> {
    const timeoutMs = this.options.delivery.timeoutMs;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]);
    let res: Response;
    try {
      res = await fetch(channel.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'rigwarden-controller' },
        body: JSON.stringify(body),
        signal,
        redirect: 'error',
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new DeliveryError(`no answer within ${timeoutMs} ms`, true);
      if ((err as Error).name === 'AbortError') throw new DeliveryError('the controller is stopping', false);
      throw new DeliveryError(describe(err), true);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const retryAfterS = Number(res.headers.get('retry-after'));
    const retryable = res.status === 429 || res.status >= 500;
    throw new DeliveryError(
      `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      retryable,
      Number.isFinite(retryAfterS) && retryAfterS > 0 ? Math.min(MAX_RETRY_AFTER_MS, retryAfterS * 1000) : undefined,
    );
  }
}

function wants(channel: AlertChannel, n: AlertNotification): boolean {
  if (severityRank(n.severity) < severityRank(channel.minSeverity)) return false;
  return !channel.rules || channel.rules.includes(n.rule);
}

/** Network errors carry their cause (ECONNREFUSED ...) one level down. */
function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message ?? String(err);
}

/** Removes every secret (URL, token, path) from a string before it is logged. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s) out = out.split(s).join('[redacted]');
  return out;
}
