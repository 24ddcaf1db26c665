import { join } from 'node:path';
import type { ClockVoltageState, GpuTuning, GpuTuningCapability } from '@rigwarden/drivers-core';
import { GpuError } from '../gpu-error';
import type { AmdgpuCard } from '../sensors/amdgpu-sysfs.sensor';
import { SysfsIo } from '../sensors/sysfs-io';
import { BaseTuner, checkRange, type PlannedStep, type TuningSetting } from './base-tuner';
import type { DefaultValues, TuningDefaultsStore } from './tuning-defaults.store';

export interface OdClockTable {
  sclk: [number, number | undefined][];
  mclk: [number, number | undefined][];
  range: { sclk?: [number, number]; mclk?: [number, number]; vddc?: [number, number] };
}

/** Parses pp_od_clk_voltage (OD_SCLK, OD_MCLK, OD_RANGE; "MHz" or "Mhz"). */
export function parsePpOdClkVoltage(text: string): OdClockTable {
  const table: OdClockTable = { sclk: [], mclk: [], range: {} };
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^OD_[A-Z_]+:$/.test(line)) {
      section = line.slice(0, -1);
      continue;
    }
    if (section === 'OD_SCLK' || section === 'OD_MCLK') {
      const m = /^(\d+):\s*(\d+)\s*mhz(?:\s+(\d+)\s*mv)?/i.exec(line);
      if (m) (section === 'OD_SCLK' ? table.sclk : table.mclk)[Number(m[1])] = [Number(m[2]), m[3] ? Number(m[3]) : undefined];
    } else if (section === 'OD_RANGE') {
      const m = /^(SCLK|MCLK|VDDC):\s*(\d+)\s*(?:mhz|mv)\s+(\d+)\s*(?:mhz|mv)/i.exec(line);
      if (m) table.range[m[1]!.toLowerCase() as 'sclk' | 'mclk' | 'vddc'] = [Number(m[2]), Number(m[3])];
    }
  }
  return table;
}

interface AmdLimits {
  powerCapW?: number;
  powerCapMinW?: number;
  powerCapMaxW?: number;
  pwmMax?: number;
  hasPwm: boolean;
  od?: OdClockTable;
  hasPerformanceLevel: boolean;
}

/**
 * AMD tuning through amdgpu sysfs: power1_cap (µW) within power1_cap_min..max,
 * fan duty with pwm1_enable=1 (manual) and pwm1 of pwm1_max (2 = automatic), and
 * OverDrive clock/voltage states in pp_od_clk_voltage ("s N MHz mV", "m N MHz mV",
 * then "c" to commit; "r" resets) with power_dpm_force_performance_level=manual.
 * Every access has a deadline. Defaults recorded before the first change: the cap
 * found, the fan mode (and duty) found, OverDrive reset and the performance level found.
 */
export class AmdgpuTuner extends BaseTuner {
  readonly gpuIndex: number;
  readonly pciBusId: string;
  private limits: AmdLimits | undefined;

  constructor(
    private readonly card: AmdgpuCard,
    private readonly io = new SysfsIo(2_000),
    /** Keeps the recorded defaults across agent restarts. */
    defaultsStore?: TuningDefaultsStore,
  ) {
    super(defaultsStore);
    this.gpuIndex = card.index;
    this.pciBusId = card.pciBusId;
  }

  private hw(file: string): string {
    if (!this.card.hwmonDir) throw new GpuError('unsupported', 'this card has no hwmon directory', this.context(file));
    return join(this.card.hwmonDir, file);
  }

  private async num(path: string): Promise<number | undefined> {
    const text = await this.io.read(path, this.context());
    if (text === undefined || text === '') return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }

  private async readLimits(): Promise<AmdLimits> {
    if (this.limits) return this.limits;
    const hasHwmon = this.card.hwmonDir !== undefined;
    const cap = hasHwmon ? await this.num(this.hw('power1_cap')) : undefined;
    const capMin = hasHwmon ? await this.num(this.hw('power1_cap_min')) : undefined;
    const capMax = hasHwmon ? await this.num(this.hw('power1_cap_max')) : undefined;
    const pwmMax = hasHwmon ? await this.num(this.hw('pwm1_max')) : undefined;
    const pwmEnable = hasHwmon ? await this.num(this.hw('pwm1_enable')) : undefined;
    const odText = await this.io.read(join(this.card.deviceDir, 'pp_od_clk_voltage'), this.context());
    const level = await this.io.read(join(this.card.deviceDir, 'power_dpm_force_performance_level'), this.context());
    const od = odText ? parsePpOdClkVoltage(odText) : undefined;
    this.limits = {
      powerCapW: cap === undefined ? undefined : cap / 1e6,
      powerCapMinW: capMin === undefined ? (cap === undefined ? undefined : 0) : capMin / 1e6,
      powerCapMaxW: capMax === undefined ? undefined : capMax / 1e6,
      pwmMax, hasPwm: pwmMax !== undefined && pwmMax > 0 && pwmEnable !== undefined,
      od: od && (od.range.sclk || od.range.mclk) ? od : undefined,
      hasPerformanceLevel: level !== undefined,
    };
    return this.limits;
  }

  async capabilities(): Promise<ReadonlySet<GpuTuningCapability>> {
    const l = await this.readLimits();
    const caps = new Set<GpuTuningCapability>();
    if (l.powerCapW !== undefined && l.powerCapMaxW !== undefined && l.powerCapMaxW > 0) caps.add('powerLimit');
    if (l.hasPwm) caps.add('fanSpeed');
    if (l.od) caps.add('clockVoltageStates');
    return caps;
  }

  protected async plan(tuning: GpuTuning): Promise<PlannedStep[]> {
    const l = await this.readLimits();
    const steps: PlannedStep[] = [];
    if (tuning.powerLimitW !== undefined) {
      await this.requireCapability('powerLimit', 'this card exposes no power1_cap range');
      checkRange('power limit', tuning.powerLimitW, l.powerCapMinW!, l.powerCapMaxW!, 'W', this.context('power1_cap'));
      const micro = Math.round(tuning.powerLimitW * 1e6);
      steps.push(this.writes('powerLimitW', [[this.hw('power1_cap'), String(micro)]], `${tuning.powerLimitW} W`));
    }
    if (tuning.fanPercent !== undefined) {
      await this.requireCapability('fanSpeed', 'this card exposes no pwm1/pwm1_enable fan control');
      if (tuning.fanPercent === 'auto') {
        steps.push(this.writes('fanPercent', [[this.hw('pwm1_enable'), '2']], 'auto'));
      } else {
        checkRange('fan speed', tuning.fanPercent, 0, 100, '%', this.context('pwm1'));
        const pwm = Math.round((tuning.fanPercent / 100) * l.pwmMax!);
        steps.push(this.writes('fanPercent', [[this.hw('pwm1_enable'), '1'], [this.hw('pwm1'), String(pwm)]], `${tuning.fanPercent} % (pwm ${pwm}/${l.pwmMax})`));
      }
    }
    if (tuning.clockVoltageStates !== undefined) {
      await this.requireCapability('clockVoltageStates', 'this card has no OverDrive table (pp_od_clk_voltage; amdgpu.ppfeaturemask OverDrive bit off?)');
      const od = l.od!;
      const writes: [string, string][] = [];
      const file = join(this.card.deviceDir, 'pp_od_clk_voltage');
      if (l.hasPerformanceLevel) writes.push([join(this.card.deviceDir, 'power_dpm_force_performance_level'), 'manual']);
      for (const s of tuning.clockVoltageStates) writes.push([file, this.odCommand(s, od)]);
      writes.push([file, 'c']);
      steps.push(this.writes('clockVoltageStates', writes, tuning.clockVoltageStates.map((s) => this.odCommand(s, od)).join('; ')));
    }
    if (tuning.coreClockLock !== undefined || tuning.memoryClockLock !== undefined || tuning.coreClockOffsetMhz !== undefined || tuning.memoryClockOffsetMhz !== undefined) {
      throw new GpuError('unsupported', 'clock locks and offsets are NVIDIA settings; use clockVoltageStates on amdgpu', this.context('tuning'));
    }
    return steps;
  }

  private odCommand(s: ClockVoltageState, od: OdClockTable): string {
    const states = s.domain === 'sclk' ? od.sclk : od.mclk;
    const range = s.domain === 'sclk' ? od.range.sclk : od.range.mclk;
    const context = this.context('pp_od_clk_voltage');
    if (!range) throw new GpuError('unsupported', `no OD_RANGE for ${s.domain.toUpperCase()}`, context);
    checkRange(`${s.domain} state`, s.state, 0, states.length - 1, '', context);
    checkRange(`${s.domain} state ${s.state} clock`, s.mhz, range[0], range[1], 'MHz', context);
    if (s.mv !== undefined) {
      if (!od.range.vddc) throw new GpuError('unsupported', 'this card takes no voltage in its OverDrive states', context);
      checkRange(`${s.domain} state ${s.state} voltage`, s.mv, od.range.vddc[0], od.range.vddc[1], 'mV', context);
    }
    return [s.domain === 'sclk' ? 's' : 'm', s.state, s.mhz, ...(s.mv !== undefined ? [s.mv] : [])].join(' ');
  }

  protected async storeKey(): Promise<string> {
    return `amdgpu:${this.pciBusId}`;
  }

  protected async captureDefault(setting: TuningSetting): Promise<DefaultValues> {
    switch (setting) {
      case 'powerLimitW': {
        const cap = await this.num(this.hw('power1_cap'));
        return cap === undefined ? {} : { power1CapMicroW: cap };
      }
      case 'fanPercent': {
        const mode = (await this.num(this.hw('pwm1_enable'))) ?? 2;
        const pwm = await this.num(this.hw('pwm1'));
        return mode === 1 && pwm !== undefined ? { pwmEnable: mode, pwm } : { pwmEnable: mode };
      }
      case 'clockVoltageStates': {
        const level = await this.io.read(join(this.card.deviceDir, 'power_dpm_force_performance_level'), this.context());
        return level === undefined ? {} : { performanceLevel: level };
      }
      default:
        return {};
    }
  }

  protected restoreSteps(setting: TuningSetting, values: DefaultValues): PlannedStep[] {
    switch (setting) {
      case 'powerLimitW': {
        const cap = values['power1CapMicroW'];
        return cap === undefined ? [] : [this.writes('restore', [[this.hw('power1_cap'), String(cap)]], `${Number(cap) / 1e6} W`)];
      }
      case 'fanPercent': {
        const mode = Number(values['pwmEnable'] ?? 2);
        const writes: [string, string][] = [[this.hw('pwm1_enable'), String(mode)]];
        if (mode === 1 && values['pwm'] !== undefined) writes.push([this.hw('pwm1'), String(values['pwm'])]);
        return [this.writes('restore', writes, mode === 1 ? `manual pwm ${values['pwm']}` : mode === 2 ? 'auto' : `pwm1_enable ${mode}`)];
      }
      case 'clockVoltageStates': {
        const file = join(this.card.deviceDir, 'pp_od_clk_voltage');
        const writes: [string, string][] = [[file, 'r'], [file, 'c']];
        const level = values['performanceLevel'];
        if (level !== undefined) writes.push([join(this.card.deviceDir, 'power_dpm_force_performance_level'), String(level)]);
        return [this.writes('restore', writes, `OverDrive reset, performance level ${level ?? '?'}`)];
      }
      default:
        return [];
    }
  }

  private writes(setting: TuningSetting, writes: [string, string][], value: string): PlannedStep {
    const action = writes.map(([path, v]) => `write ${path.split('/').pop()}=${v}`).join(', ');
    return {
      setting, action, value,
      run: async () => {
        for (const [path, v] of writes) await this.io.write(path, v, this.context(`write ${path.split('/').pop()}`));
      },
    };
  }
}
