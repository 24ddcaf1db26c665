import type { GpuTuning, GpuTuningCapability } from '@rigwarden/drivers-core';
import { runCommand, type RunResult } from '../exec/run-command';
import { GpuError } from '../gpu-error';
import { normalisePciBusId } from '../pci-bus-id';
import { classifyNvidiaSmiFailure } from '../sensors/nvidia-smi.sensor';
import { BaseTuner, checkRange, type PlannedStep, type TuningSetting } from './base-tuner';
import type { DefaultValues, TuningDefaultsStore } from './tuning-defaults.store';

export interface NvidiaTunerOptions {
  /** nvidia-smi's index of the GPU. */
  gpuIndex: number;
  /** The GPU's bus id when already known (from the sensor); read from the device otherwise. */
  pciBusId?: string;
  nvidiaSmi?: string;
  nvidiaSettings?: string;
  /**
   * The X display nvidia-settings talks to (":0"). Without one, clock offsets and
   * fan control are not offered: nvidia-settings needs a running X server.
   */
  display?: string;
  /** nvidia-settings' [gpu:N] for this GPU when it differs from the nvidia-smi index. */
  settingsGpuIndex?: number;
  /** nvidia-settings' [fan:N] fans on this GPU; [settingsGpuIndex] by default. */
  fanIndexes?: number[];
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Keeps the recorded defaults across agent restarts (e.g. FileTuningDefaultsStore in the data dir). */
  defaultsStore?: TuningDefaultsStore;
}

export interface NvidiaLimits {
  pciBusId: string;
  powerLimitW?: number;
  powerDefaultLimitW?: number;
  powerMinLimitW?: number;
  powerMaxLimitW?: number;
  maxCoreClockMhz?: number;
  maxMemoryClockMhz?: number;
}

const LIMIT_FIELDS = ['pci.bus_id', 'power.limit', 'power.default_limit', 'power.min_limit', 'power.max_limit', 'clocks.max.sm', 'clocks.max.mem'];
const CORE_OFFSET = 'GPUGraphicsClockOffsetAllPerformanceLevels';
const MEM_OFFSET = 'GPUMemoryTransferRateOffsetAllPerformanceLevels';

function numberOrUndefined(cell: string | undefined): number | undefined {
  if (cell === undefined || /^\[.*\]$|^N\/A$|^$/i.test(cell.trim())) return undefined;
  const n = Number(cell.trim());
  return Number.isFinite(n) ? n : undefined;
}

/**
 * NVIDIA tuning: power limit with `nvidia-smi -i N -pl W` inside the device's
 * power.min_limit..power.max_limit, locked clocks with -lgc/-lmc (reset -rgc/-rmc),
 * and, only when an X display is configured, clock offsets and fan speed with
 * nvidia-settings. Defaults recorded before the first change: the power limit
 * found, clocks unlocked, the offsets found, automatic fan control.
 */
export class NvidiaTuner extends BaseTuner {
  readonly gpuIndex: number;
  pciBusId: string;
  private limits: NvidiaLimits | undefined;
  private readonly offsetRanges = new Map<string, [number, number]>();
  private readonly smi: string;
  private readonly settings: string;

  constructor(private readonly options: NvidiaTunerOptions) {
    super(options.defaultsStore);
    this.gpuIndex = options.gpuIndex;
    this.pciBusId = options.pciBusId ?? '';
    this.smi = options.nvidiaSmi ?? 'nvidia-smi';
    this.settings = options.nvidiaSettings ?? 'nvidia-settings';
  }

  /** The device's limits, read once with nvidia-smi. */
  async readLimits(signal?: AbortSignal): Promise<NvidiaLimits> {
    if (this.limits) return this.limits;
    const args = ['-i', String(this.gpuIndex), `--query-gpu=${LIMIT_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
    const result = await this.runSmi(args, signal);
    const line = result.stdout.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
    if (/GPU is lost/i.test(line)) throw new GpuError('gpu_lost', line, this.context('nvidia-smi --query-gpu'));
    const cells = line.split(',').map((c) => c.trim());
    const pciBusId = normalisePciBusId(cells[0]);
    if (cells.length !== LIMIT_FIELDS.length || !pciBusId) {
      throw new GpuError('parse', `unexpected limits row ${JSON.stringify(line.slice(0, 120))}`, this.context('nvidia-smi --query-gpu'));
    }
    this.pciBusId = pciBusId;
    this.limits = {
      pciBusId,
      powerLimitW: numberOrUndefined(cells[1]), powerDefaultLimitW: numberOrUndefined(cells[2]),
      powerMinLimitW: numberOrUndefined(cells[3]), powerMaxLimitW: numberOrUndefined(cells[4]),
      maxCoreClockMhz: numberOrUndefined(cells[5]), maxMemoryClockMhz: numberOrUndefined(cells[6]),
    };
    return this.limits;
  }

  async capabilities(signal?: AbortSignal): Promise<ReadonlySet<GpuTuningCapability>> {
    const limits = await this.readLimits(signal);
    const caps = new Set<GpuTuningCapability>();
    if (limits.powerMinLimitW !== undefined && limits.powerMaxLimitW !== undefined && limits.powerLimitW !== undefined) caps.add('powerLimit');
    if (limits.maxCoreClockMhz !== undefined) caps.add('lockedClocks');
    if (this.options.display) {
      caps.add('clockOffsets');
      caps.add('fanSpeed');
    }
    return caps;
  }

  protected async plan(tuning: GpuTuning, signal?: AbortSignal): Promise<PlannedStep[]> {
    const limits = await this.readLimits(signal);
    const steps: PlannedStep[] = [];
    const i = String(this.gpuIndex);
    if (tuning.powerLimitW !== undefined) {
      await this.requireCapability('powerLimit', 'this GPU reports no power limit range (power management not supported)', signal);
      checkRange('power limit', tuning.powerLimitW, limits.powerMinLimitW!, limits.powerMaxLimitW!, 'W', this.context('nvidia-smi -pl'));
      steps.push(this.smiStep('powerLimitW', ['-i', i, '-pl', String(tuning.powerLimitW)], `${tuning.powerLimitW} W`));
    }
    for (const [setting, lock, max, flag, reset, what] of [
      ['coreClockLock', tuning.coreClockLock, limits.maxCoreClockMhz, '-lgc', '-rgc', 'core clock lock'],
      ['memoryClockLock', tuning.memoryClockLock, limits.maxMemoryClockMhz, '-lmc', '-rmc', 'memory clock lock'],
    ] as const) {
      if (lock === undefined) continue;
      await this.requireCapability('lockedClocks', 'this GPU reports no clock limits', signal);
      if (lock === null) {
        steps.push(this.smiStep(setting, ['-i', i, reset], 'reset'));
        continue;
      }
      if (max === undefined) throw new GpuError('unsupported', `${what}: the GPU reports no maximum clock`, this.context(flag));
      checkRange(`${what} minimum`, lock.minMhz, 0, max, 'MHz', this.context(`nvidia-smi ${flag}`));
      checkRange(`${what} maximum`, lock.maxMhz, lock.minMhz, max, 'MHz', this.context(`nvidia-smi ${flag}`));
      steps.push(this.smiStep(setting, ['-i', i, flag, `${lock.minMhz},${lock.maxMhz}`], `${lock.minMhz}..${lock.maxMhz} MHz`));
    }
    for (const [setting, value, attr] of [
      ['coreClockOffsetMhz', tuning.coreClockOffsetMhz, CORE_OFFSET],
      ['memoryClockOffsetMhz', tuning.memoryClockOffsetMhz, MEM_OFFSET],
    ] as const) {
      if (value === undefined) continue;
      await this.requireCapability('clockOffsets', 'clock offsets need nvidia-settings and an X server: configure the display', signal);
      const [lo, hi] = await this.offsetRange(attr, signal);
      checkRange(setting === 'coreClockOffsetMhz' ? 'core clock offset' : 'memory clock offset', value, lo, hi, 'MHz', this.context(`nvidia-settings ${attr}`));
      steps.push(this.settingsStep(setting, [`[gpu:${this.settingsGpu()}]/${attr}=${value}`], `${value} MHz`));
    }
    if (tuning.fanPercent !== undefined) {
      await this.requireCapability('fanSpeed', 'fan control needs nvidia-settings and an X server: configure the display', signal);
      if (tuning.fanPercent === 'auto') {
        steps.push(this.settingsStep('fanPercent', [`[gpu:${this.settingsGpu()}]/GPUFanControlState=0`], 'auto'));
      } else {
        checkRange('fan speed', tuning.fanPercent, 0, 100, '%', this.context('nvidia-settings GPUTargetFanSpeed'));
        const pct = Math.round(tuning.fanPercent);
        steps.push(this.settingsStep('fanPercent', [
          `[gpu:${this.settingsGpu()}]/GPUFanControlState=1`, ...this.fans().map((f) => `[fan:${f}]/GPUTargetFanSpeed=${pct}`),
        ], `${pct} %`));
      }
    }
    if (tuning.clockVoltageStates !== undefined) {
      throw new GpuError('unsupported', 'clock/voltage states are an AMD (pp_od_clk_voltage) setting', this.context('clockVoltageStates'));
    }
    return steps;
  }

  protected async storeKey(signal?: AbortSignal): Promise<string> {
    return `nvidia:${(await this.readLimits(signal)).pciBusId}`;
  }

  protected async captureDefault(setting: TuningSetting, signal?: AbortSignal): Promise<DefaultValues> {
    switch (setting) {
      case 'powerLimitW':
        return { powerLimitW: (await this.readLimits(signal)).powerLimitW! };
      case 'coreClockOffsetMhz':
      case 'memoryClockOffsetMhz': {
        const attr = setting === 'coreClockOffsetMhz' ? CORE_OFFSET : MEM_OFFSET;
        return { offsetMhz: (await this.queryAttribute(`[gpu:${this.settingsGpu()}]/${attr}`, signal)).value };
      }
      case 'fanPercent':
        return { fanControlState: (await this.queryAttribute(`[gpu:${this.settingsGpu()}]/GPUFanControlState`, signal)).value };
      default:
        return {}; // clock locks: the default is "not locked"
    }
  }

  protected restoreSteps(setting: TuningSetting, values: DefaultValues): PlannedStep[] {
    const i = String(this.gpuIndex);
    switch (setting) {
      case 'powerLimitW':
        return [this.smiStep('restore', ['-i', i, '-pl', String(values['powerLimitW'])], `${values['powerLimitW']} W`)];
      case 'coreClockLock':
        return [this.smiStep('restore', ['-i', i, '-rgc'], 'reset')];
      case 'memoryClockLock':
        return [this.smiStep('restore', ['-i', i, '-rmc'], 'reset')];
      case 'coreClockOffsetMhz':
      case 'memoryClockOffsetMhz': {
        const attr = setting === 'coreClockOffsetMhz' ? CORE_OFFSET : MEM_OFFSET;
        return [this.settingsStep('restore', [`[gpu:${this.settingsGpu()}]/${attr}=${values['offsetMhz']}`], `${values['offsetMhz']} MHz`)];
      }
      case 'fanPercent': {
        const state = Number(values['fanControlState']);
        return [this.settingsStep('restore', [`[gpu:${this.settingsGpu()}]/GPUFanControlState=${state}`], state === 0 ? 'auto' : 'manual')];
      }
      default:
        return [];
    }
  }

  private settingsGpu(): number {
    return this.options.settingsGpuIndex ?? this.gpuIndex;
  }

  private fans(): number[] {
    return this.options.fanIndexes ?? [this.settingsGpu()];
  }

  private async offsetRange(attr: string, signal?: AbortSignal): Promise<[number, number]> {
    const cached = this.offsetRanges.get(attr);
    if (cached) return cached;
    const { range } = await this.queryAttribute(`[gpu:${this.settingsGpu()}]/${attr}`, signal);
    if (!range) throw new GpuError('unsupported', `nvidia-settings reports no range for ${attr} (Coolbits not enabled?)`, this.context(`nvidia-settings -q ${attr}`));
    this.offsetRanges.set(attr, range);
    return range;
  }

  /** `nvidia-settings -q`: "Attribute 'X' (host:0[gpu:0]): 0." and "... in the range -1000 - 1000 (inclusive)." */
  private async queryAttribute(spec: string, signal?: AbortSignal): Promise<{ value: number; range?: [number, number] }> {
    const result = await this.runSettings(['-q', spec], signal);
    const value = /\):\s*(-?\d+)\./.exec(result.stdout);
    if (!value) throw new GpuError('parse', `no value in nvidia-settings output ${JSON.stringify(result.stdout.slice(0, 120))}`, this.context(`nvidia-settings -q ${spec}`));
    const range = /range (-?\d+) - (-?\d+)/.exec(result.stdout);
    return { value: Number(value[1]), range: range ? [Number(range[1]), Number(range[2])] : undefined };
  }

  private smiStep(setting: TuningSetting, args: string[], value: string): PlannedStep {
    return { setting, action: `nvidia-smi ${args.join(' ')}`, value, run: async (signal) => { await this.runSmi(args, signal); } };
  }

  private settingsStep(setting: TuningSetting, assignments: string[], value: string): PlannedStep {
    const args = assignments.flatMap((a) => ['-a', a]);
    return {
      setting, action: `nvidia-settings -c ${this.options.display} ${args.join(' ')}`, value,
      run: async (signal) => { await this.runSettings(args, signal); },
    };
  }

  private async runSmi(args: string[], signal?: AbortSignal): Promise<RunResult> {
    const command = `nvidia-smi ${args.join(' ')}`;
    const context = this.context(command);
    const result = await runCommand(this.smi, args, { timeoutMs: this.options.timeoutMs ?? 10_000, signal, env: this.options.env, context });
    const failure = classifyNvidiaSmiFailure(result, context);
    if (failure) throw failure;
    if (result.exitCode !== 0) {
      const text = (result.stdout + result.stderr).trim();
      const kind = /GPU is lost/i.test(text) ? 'gpu_lost' : /not a valid power limit/i.test(text) ? 'out_of_range'
        : /not supported/i.test(text) || result.exitCode === 3 ? 'unsupported' : 'command_failed';
      throw new GpuError(kind, `exit ${result.exitCode}: ${text.split('\n')[0]}`, { ...context, exitCode: result.exitCode, output: text.slice(0, 300) });
    }
    return result;
  }

  private async runSettings(args: string[], signal?: AbortSignal): Promise<RunResult> {
    const full = ['-c', this.options.display ?? '', ...args];
    const context = this.context(`nvidia-settings ${full.join(' ')}`);
    if (!this.options.display) throw new GpuError('unsupported', 'nvidia-settings needs an X display; none is configured', context);
    const result = await runCommand(this.settings, full, { timeoutMs: this.options.timeoutMs ?? 10_000, signal, env: this.options.env, context });
    if (result.exitCode !== 0 || /^ERROR:/m.test(result.stdout + result.stderr)) {
      const text = (result.stdout + result.stderr).trim();
      throw new GpuError(/control display is undefined|cannot open display/i.test(text) ? 'unsupported' : 'command_failed',
        `exit ${result.exitCode}: ${text.split('\n')[0]}`, { ...context, exitCode: result.exitCode, output: text.slice(0, 300) });
    }
    return result;
  }
}
