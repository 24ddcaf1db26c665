import { DriverError, capabilityNames, sanitizeReading, type MinerDriver, type MinerReading } from '@rigwarden/drivers-core';
import type { CollectError } from '@rigwarden/protocol';
import type { Clock, Logger } from '@rigwarden/shared';

export interface ScheduledMiner {
  rigId: string;
  minerId: string;
  driver: MinerDriver;
}

/** What one collect produced: a reading, or the errors that stopped it. */
export interface CollectOutcome {
  rigId: string;
  minerId: string;
  driver: string;
  host: string;
  port: number;
  collectedAt: number;
  reading?: MinerReading;
  errors: CollectError[];
}

export interface DriverCounters {
  successes: number;
  errors: number;
  timeouts: number;
  skipped: number;
  lastDurationMs: number;
  totalDurationMs: number;
}

export interface RuntimeOptions {
  intervalMs: number;
  timeoutMs: number;
  jitterMs: number;
  clock: Clock;
  logger: Logger;
  /** Random in [0, 1); injected so tests are deterministic. */
  random?: () => number;
  onOutcome: (outcome: CollectOutcome) => void;
}

interface Slot {
  miner: ScheduledMiner;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

/**
 * Runs every miner's collect on its own schedule. Isolation lives here, not in
 * drivers: a per-collect deadline, skip-if-still-running, a catch-all so one
 * miner can never stop the others, and counters per driver.
 */
export class CollectorRuntime {
  private readonly slots: Slot[];
  private readonly counters = new Map<string, DriverCounters>();
  private stopped = true;

  constructor(miners: ScheduledMiner[], private readonly options: RuntimeOptions) {
    this.slots = miners.map((miner) => ({ miner }));
  }

  /** Adds a miner (found by a scan) and starts polling it if the runtime is running. */
  add(miner: ScheduledMiner): void {
    const slot: Slot = { miner };
    this.slots.push(slot);
    if (!this.stopped) this.schedule(slot, Math.floor((this.options.random ?? Math.random)() * (this.options.jitterMs + 1)));
  }

  has(rigId: string, minerId: string): boolean {
    return this.slots.some((s) => s.miner.rigId === rigId && s.miner.minerId === minerId);
  }

  start(): void {
    this.stopped = false;
    const random = this.options.random ?? Math.random;
    for (const slot of this.slots) {
      // Spread the first polls over the jitter window so a farm is not polled in one burst.
      this.schedule(slot, Math.floor(random() * (this.options.jitterMs + 1)));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots) clearTimeout(slot.timer);
    await Promise.allSettled(this.slots.map((s) => s.running));
  }

  counterSnapshot(): Record<string, DriverCounters> {
    return Object.fromEntries([...this.counters].map(([k, v]) => [k, { ...v }]));
  }

  /** Collects every miner once, now (used at start-up checks and by tests). */
  async collectAll(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.tick(slot)));
  }

  private schedule(slot: Slot, delayMs: number): void {
    if (this.stopped) return;
    slot.timer = setTimeout(() => {
      void this.tick(slot).finally(() => {
        const random = this.options.random ?? Math.random;
        const jitter = Math.floor((random() * 2 - 1) * this.options.jitterMs * 0.1);
        this.schedule(slot, Math.max(50, this.options.intervalMs + jitter));
      });
    }, delayMs);
    slot.timer.unref?.();
  }

  private counter(name: string): DriverCounters {
    let c = this.counters.get(name);
    if (!c) {
      c = { successes: 0, errors: 0, timeouts: 0, skipped: 0, lastDurationMs: 0, totalDurationMs: 0 };
      this.counters.set(name, c);
    }
    return c;
  }

  private tick(slot: Slot): Promise<void> {
    const counter = this.counter(slot.miner.driver.name);
    if (slot.running) {
      counter.skipped++;
      this.options.logger.warn('previous collect still running, skipped this one', { rig: slot.miner.rigId, miner: slot.miner.minerId });
      return slot.running;
    }
    slot.running = this.collectOnce(slot.miner, counter).finally(() => {
      slot.running = undefined;
    });
    return slot.running;
  }

  private async collectOnce(miner: ScheduledMiner, counter: DriverCounters): Promise<void> {
    const { clock, timeoutMs, logger } = this.options;
    const started = clock.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DriverError('timeout', `collect took longer than ${timeoutMs} ms`, { host: miner.driver.endpoint.host, port: miner.driver.endpoint.port }));
      }, timeoutMs);
    });
    const base = {
      rigId: miner.rigId, minerId: miner.minerId, driver: miner.driver.name,
      host: miner.driver.endpoint.host, port: miner.driver.endpoint.port,
    };
    let outcome: CollectOutcome;
    try {
      // Every driver's reading passes the per-field check here (again, for drivers that already ran it): an impossible
      // value becomes absent with a field warning, so the snapshot always encodes and the rest of it is kept.
      const sanitized = sanitizeReading(await Promise.race([miner.driver.collect({ signal: controller.signal, deadlineMs: timeoutMs }), deadline]));
      // What the miner accepts, asked after the collect: some drivers know it only once the miner has been read.
      const reading = { ...sanitized, capabilities: capabilityNames(miner.driver) };
      counter.successes++;
      outcome = { ...base, collectedAt: clock.now(), reading, errors: reading.errors };
    } catch (err) {
      const collectError = toCollectError(err);
      if (collectError.kind === 'timeout') counter.timeouts++;
      else counter.errors++;
      logger.warn('collect failed', { rig: miner.rigId, miner: miner.minerId, kind: collectError.kind, error: collectError.message });
      outcome = { ...base, collectedAt: clock.now(), errors: [collectError] };
    } finally {
      clearTimeout(timer);
      const duration = clock.now() - started;
      counter.lastDurationMs = duration;
      counter.totalDurationMs += duration;
    }
    try {
      this.options.onOutcome(outcome);
    } catch (err) {
      logger.error('telemetry sink failed', { rig: miner.rigId, error: err as Error });
    }
  }
}

export function toCollectError(err: unknown): CollectError {
  if (err instanceof DriverError) {
    return {
      kind: err.kind,
      message: err.message,
      statusLetter: err.context.statusLetter ?? '',
      statusCode: err.context.statusCode,
      command: err.context.command ?? '',
    };
  }
  return { kind: 'internal', message: err instanceof Error ? err.message : String(err), statusLetter: '', statusCode: undefined, command: '' };
}
