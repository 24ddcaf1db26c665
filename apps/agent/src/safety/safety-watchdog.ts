import { randomUUID } from 'node:crypto';
import { hasMinerControl, hasMiningSwitch, type MinerDriver } from '@rigwarden/drivers-core';
import { RigEvent } from '@rigwarden/protocol';
import type { Clock, Logger } from '@rigwarden/shared';
import type { CollectOutcome, ScheduledMiner } from '../runtime/collector-runtime';

export interface SafetyConfig {
  /** At or above this (hottest board or chip), the miner stops mining at once. */
  criticalTempC: number;
  /** Mining resumes once the hottest reading is below this. */
  resumeBelowC: number;
  /** stop: stop hashing (resumable); lowest-profile: drop to the firmware's lowest work mode. */
  action: 'stop' | 'lowest-profile';
  /** Work mode used as the lowest profile, and the one restored on resume (cgminer-family ascset workmode). */
  lowestWorkMode: number;
  normalWorkMode: number;
}

export const DEFAULT_SAFETY: SafetyConfig = { criticalTempC: 95, resumeBelowC: 80, action: 'stop', lowestWorkMode: 0, normalWorkMode: 1 };

type State = { tripped: false } | { tripped: true; since: number; action: SafetyConfig['action'] };

/**
 * The agent's own safety net, independent of the controller: reacts within the
 * poll that saw the temperature, and keeps acting while the broker is down. Every
 * action becomes a RigEvent, queued like telemetry until the controller gets it.
 */
export class SafetyWatchdog {
  private readonly states = new Map<string, State>();
  private readonly inFlight = new Set<Promise<void>>();
  readonly counters = { trips: 0, resumes: 0, actionFailures: 0 };

  constructor(
    private readonly config: SafetyConfig,
    private readonly emit: (event: RigEvent) => void,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly actionTimeoutMs = 15_000,
  ) {
    if (!(config.resumeBelowC < config.criticalTempC)) {
      throw new RangeError(`safety.resumeBelowC (${config.resumeBelowC}) must be below safety.criticalTempC (${config.criticalTempC})`);
    }
  }

  /** Called with every collect outcome; acts at most once per crossing of a threshold. */
  observe(miner: ScheduledMiner, outcome: CollectOutcome): void {
    const hottest = hottestC(outcome);
    if (hottest === undefined) return; // no reading: neither trip nor resume on missing data
    const key = `${miner.rigId}/${miner.minerId}`;
    const state = this.states.get(key) ?? { tripped: false };
    if (!state.tripped && hottest >= this.config.criticalTempC) {
      this.states.set(key, { tripped: true, since: this.clock.now(), action: this.config.action });
      this.counters.trips++;
      this.track(this.act(miner, 'trip', hottest));
    } else if (state.tripped && hottest < this.config.resumeBelowC) {
      this.states.set(key, { tripped: false });
      this.counters.resumes++;
      this.track(this.act(miner, 'resume', hottest));
    }
  }

  isTripped(rigId: string, minerId: string): boolean {
    return this.states.get(`${rigId}/${minerId}`)?.tripped ?? false;
  }

  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async act(miner: ScheduledMiner, what: 'trip' | 'resume', hottest: number): Promise<void> {
    const { criticalTempC, resumeBelowC, action } = this.config;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.actionTimeoutMs);
    const ctx = { signal: controller.signal, deadlineMs: this.actionTimeoutMs };
    let done: string;
    let failed = false;
    try {
      done = await this.perform(miner.driver, what, ctx);
    } catch (err) {
      failed = true;
      this.counters.actionFailures++;
      done = `could not ${what === 'trip' ? (action === 'stop' ? 'stop mining' : 'drop to the lowest profile') : 'resume'}: ${(err as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
    const message = what === 'trip'
      ? `rig ${miner.rigId} miner ${miner.minerId}: ${hottest.toFixed(1)} °C is at or above the critical ${criticalTempC} °C; ${done}`
      : `rig ${miner.rigId} miner ${miner.minerId}: ${hottest.toFixed(1)} °C is below ${resumeBelowC} °C; ${done}`;
    (failed ? this.logger.error : this.logger.warn)(message);
    this.emit(RigEvent.fromPartial({
      eventId: randomUUID(),
      rigId: miner.rigId,
      kind: what === 'trip' ? 'safety.critical_temperature' : 'safety.resumed',
      severity: what === 'trip' || failed ? 'critical' : 'info',
      reason: failed ? `local_watchdog_${what}_failed` : what === 'trip' ? `local_watchdog_${action.replace('-', '_')}` : 'local_watchdog_resume',
      message,
      at: new Date(this.clock.now()),
    }));
  }

  private async perform(driver: MinerDriver, what: 'trip' | 'resume', ctx: { signal: AbortSignal; deadlineMs: number }): Promise<string> {
    const { action, lowestWorkMode, normalWorkMode } = this.config;
    if (action === 'stop' && hasMiningSwitch(driver)) {
      if (what === 'trip') await driver.stopMining(ctx);
      else await driver.resumeMining(ctx);
      return what === 'trip' ? 'stopped mining' : 'resumed mining';
    }
    if (hasMinerControl(driver) && driver.controlCapabilities().workMode) {
      const mode = what === 'trip' ? lowestWorkMode : normalWorkMode;
      const result = await driver.control({ kind: 'workmode', mode }, ctx);
      if (!result.ok) throw result.error;
      return what === 'trip' ? `dropped to work mode ${mode} (lowest)` : `restored work mode ${mode}`;
    }
    throw new Error(`driver ${driver.name} can neither stop mining nor change its work mode`);
  }
}

export function hottestC(outcome: CollectOutcome): number | undefined {
  let max: number | undefined;
  for (const b of outcome.reading?.boards ?? []) {
    for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === undefined || t > max)) max = t;
  }
  return max;
}
