import type { MinerDriver } from './driver';

/**
 * GPU tuning (power limit, clocks, fan) behind one interface. What a given GPU and
 * setup can do is in `capabilities`; asking for anything else is refused before
 * any change is made. Every value is checked against the device's own range.
 */
export type GpuTuningCapability =
  | 'powerLimit'       // NVIDIA nvidia-smi -pl, AMD power1_cap
  | 'lockedClocks'     // NVIDIA nvidia-smi -lgc / -lmc
  | 'clockOffsets'     // NVIDIA nvidia-settings (needs an X display)
  | 'fanSpeed'         // NVIDIA nvidia-settings (X display), AMD pwm1 + pwm1_enable
  | 'clockVoltageStates'; // AMD pp_od_clk_voltage

export interface ClockRangeMhz {
  minMhz: number;
  maxMhz: number;
}

/** AMD OverDrive state: "s 1 1300 900" is { domain: 'sclk', state: 1, mhz: 1300, mv: 900 }. */
export interface ClockVoltageState {
  domain: 'sclk' | 'mclk';
  state: number;
  mhz: number;
  mv?: number;
}

/** What to set. Omitted fields are left alone; null resets that setting to the driver default. */
export interface GpuTuning {
  powerLimitW?: number;
  coreClockLock?: ClockRangeMhz | null;
  memoryClockLock?: ClockRangeMhz | null;
  coreClockOffsetMhz?: number;
  memoryClockOffsetMhz?: number;
  /** A fixed fan duty in percent, or "auto" to give the fan back to the driver. */
  fanPercent?: number | 'auto';
  clockVoltageStates?: ClockVoltageState[];
}

/** One change, as it was (or, in a dry run, would be) made. */
export interface TuningStep {
  setting: keyof GpuTuning | 'restore';
  /** What runs: "nvidia-smi -i 0 -pl 150", "write power1_cap=150000000". */
  action: string;
  value: string;
}

export interface TuningResult {
  dryRun: boolean;
  steps: TuningStep[];
}

export interface TuningOptions {
  /** Check everything and return the steps without changing the device. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** One GPU's tuning. */
export interface GpuTuner {
  readonly gpuIndex: number;
  readonly pciBusId: string;
  /** What this GPU, driver and setup can do (read from the device on first use). */
  capabilities(signal?: AbortSignal): Promise<ReadonlySet<GpuTuningCapability>>;
  /**
   * Applies the tuning. The values found before the first change are recorded as the
   * defaults; if a step fails the defaults are restored and the error is thrown.
   */
  apply(tuning: GpuTuning, options?: TuningOptions): Promise<TuningResult>;
  /** Puts back the recorded defaults (on shutdown). A no-op when nothing was changed. */
  restoreDefaults(options?: TuningOptions): Promise<TuningResult>;
}

/** A driver that can tune the GPUs it mines on. */
export interface GpuTunable {
  gpuTuners(): readonly GpuTuner[];
}

export function isGpuTunable(driver: MinerDriver): driver is MinerDriver & GpuTunable {
  return typeof (driver as Partial<GpuTunable>).gpuTuners === 'function';
}
