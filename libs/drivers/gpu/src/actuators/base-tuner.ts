import type {
  GpuTuner, GpuTuning, GpuTuningCapability, TuningOptions, TuningResult, TuningStep,
} from '@rigwarden/drivers-core';
import { GpuError, type GpuErrorContext } from '../gpu-error';
import type { TuningDefaultsStore, DefaultValues } from './tuning-defaults.store';

/** A step ready to run. */
export interface PlannedStep extends TuningStep {
  run(signal?: AbortSignal): Promise<void>;
}

export type TuningSetting = TuningStep['setting'];

const describe = (s: PlannedStep): TuningStep => ({ setting: s.setting, action: s.action, value: s.value });

/**
 * What every tuner does the same way: validate and plan everything before the
 * first change, record the value found for each setting before changing it, run
 * the steps in order, and on a failed step put every recorded default back and
 * throw apply_failed. Subclasses plan steps, capture a setting's current value
 * and build the steps that restore it.
 *
 * With a TuningDefaultsStore the recorded values survive an agent restart: a new
 * agent finds the values the first one recorded instead of taking the tuned
 * values for defaults.
 */
export abstract class BaseTuner implements GpuTuner {
  /** Values found per setting, in the order the settings were first changed. */
  private defaults = new Map<TuningSetting, DefaultValues>();
  private loaded = false;

  abstract readonly gpuIndex: number;
  abstract readonly pciBusId: string;
  abstract capabilities(signal?: AbortSignal): Promise<ReadonlySet<GpuTuningCapability>>;
  /** Validates the tuning against capabilities and device ranges; throws before any change. */
  protected abstract plan(tuning: GpuTuning, signal?: AbortSignal): Promise<PlannedStep[]>;
  /** Reads the current value of a setting (serialisable: it may be stored). */
  protected abstract captureDefault(setting: TuningSetting, signal?: AbortSignal): Promise<DefaultValues>;
  /** The steps that put a setting back to the recorded values. */
  protected abstract restoreSteps(setting: TuningSetting, values: DefaultValues): PlannedStep[];
  /** The key this GPU's defaults are stored under ("nvidia:0000:01:00.0"); may read the device. */
  protected abstract storeKey(signal?: AbortSignal): Promise<string>;

  protected constructor(private readonly store?: TuningDefaultsStore) {}

  protected context(command?: string): GpuErrorContext {
    return { gpuIndex: this.gpuIndex, pciBusId: this.pciBusId, command };
  }

  /** The recorded defaults, as the steps that would restore them (for logs and tests). */
  recordedDefaults(): TuningStep[] {
    return this.restorePlan().map(describe);
  }

  protected async requireCapability(capability: GpuTuningCapability, why: string, signal?: AbortSignal): Promise<void> {
    const caps = await this.capabilities(signal);
    if (!caps.has(capability)) throw new GpuError('unsupported', why, this.context(capability));
  }

  private async loadStored(signal?: AbortSignal): Promise<void> {
    if (this.loaded || !this.store) return;
    const stored = await this.store.load(await this.storeKey(signal));
    for (const [setting, values] of stored) if (!this.defaults.has(setting as TuningSetting)) this.defaults.set(setting as TuningSetting, values);
    this.loaded = true;
  }

  private async persist(signal?: AbortSignal): Promise<void> {
    if (!this.store) return;
    await this.store.save(await this.storeKey(signal), [...this.defaults.entries()]);
  }

  async apply(tuning: GpuTuning, options: TuningOptions = {}): Promise<TuningResult> {
    const steps = await this.plan(tuning, options.signal);
    if (options.dryRun) return { dryRun: true, steps: steps.map(describe) };
    await this.loadStored(options.signal);
    const recordedNow: TuningSetting[] = [];
    for (const setting of new Set(steps.map((s) => s.setting))) {
      if (this.defaults.has(setting)) continue;
      this.defaults.set(setting, await this.captureDefault(setting, options.signal));
      recordedNow.push(setting);
    }
    if (recordedNow.length > 0) await this.persist(options.signal);
    const changed = new Set<TuningSetting>();
    for (const step of steps) {
      try {
        await step.run(options.signal);
        changed.add(step.setting);
      } catch (err) {
        // The failed step may have half-applied (pwm1_enable written, pwm1 not): restore its
        // setting too. Settings this apply never reached were not changed: nothing to put back.
        changed.add(step.setting);
        for (const setting of recordedNow) if (!changed.has(setting)) this.defaults.delete(setting);
        let restoreFailure: unknown;
        try {
          await this.restoreDefaults();
        } catch (restoreErr) {
          restoreFailure = restoreErr;
        }
        const message = (err as Error).message;
        throw new GpuError('apply_failed', `"${step.action}" failed (${message}); ${restoreFailure
          ? `restoring the recorded defaults failed too: ${(restoreFailure as Error).message}`
          : 'the recorded defaults were restored'}`, this.context(step.action), { cause: err });
      }
    }
    return { dryRun: false, steps: steps.map(describe) };
  }

  private restorePlan(entries = [...this.defaults.entries()].reverse()): PlannedStep[] {
    return entries.flatMap(([setting, values]) => this.restoreSteps(setting, values));
  }

  async restoreDefaults(options: TuningOptions = {}): Promise<TuningResult> {
    await this.loadStored(options.signal);
    const entries = [...this.defaults.entries()].reverse();
    const steps = this.restorePlan(entries);
    if (options.dryRun) return { dryRun: true, steps: steps.map(describe) };
    const failures: string[] = [];
    for (const [setting, values] of entries) {
      try {
        for (const step of this.restoreSteps(setting, values)) await step.run(options.signal);
        this.defaults.delete(setting);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    if (entries.length > 0) await this.persist(options.signal);
    if (failures.length > 0) {
      throw new GpuError('command_failed', `restoring defaults failed (kept for a retry): ${failures.join('; ')}`, this.context('restore defaults'));
    }
    return { dryRun: false, steps: steps.map(describe) };
  }
}

/** Refuses a value outside [min, max], naming the range. */
export function checkRange(what: string, value: number, min: number, max: number, unit: string, context: GpuErrorContext): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new GpuError('out_of_range', `${what} ${value}${unit ? ` ${unit}` : ''} is outside this GPU's range ${min}..${max}${unit ? ` ${unit}` : ''}`, context);
  }
}

/** Restores every tuner's defaults (agent shutdown); returns the failures instead of stopping at the first. */
export async function restoreAllDefaults(tuners: readonly GpuTuner[]): Promise<Error[]> {
  const results = await Promise.allSettled(tuners.map((t) => t.restoreDefaults()));
  return results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
}
