import type { GpuTuningCapability } from '@rigwarden/drivers-core';
import { AmdgpuTuner } from '../actuators/amdgpu.actuator';
import { NvidiaTuner, type NvidiaLimits } from '../actuators/nvidia.actuator';
import { GpuError } from '../gpu-error';
import { AmdgpuSysfsSensor } from '../sensors/amdgpu-sysfs.sensor';
import type { GpuSensorReading } from '../sensors/gpu-sensor';
import { NvidiaSmiSensor } from '../sensors/nvidia-smi.sensor';

export interface GpuProbeOptions {
  nvidiaSmiPath?: string;
  amdgpuDrmRoot?: string;
  timeoutMs?: number;
}

export interface VendorProbe {
  /** "ok", or why this vendor gave nothing: not_installed, driver_not_loaded, no_gpu, timeout, ... */
  status: string;
  message?: string;
  gpus: GpuSensorReading[];
  errors: string[];
  tuning: { index: number; pciBusId: string; capabilities: GpuTuningCapability[]; limits?: NvidiaLimits; error?: string }[];
}

export interface GpuProbeReport {
  nvidia: VendorProbe & { fields?: string[] };
  amd: VendorProbe & { drmRoot: string };
  gpuCount: number;
}

/**
 * What the real nvidia-smi and amdgpu sysfs report on this machine, read through
 * the same sensor and tuner code the agent runs. Read-only: tuners only read limits.
 */
export async function probeGpus(options: GpuProbeOptions = {}): Promise<GpuProbeReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const nvidia: GpuProbeReport['nvidia'] = { status: 'ok', gpus: [], errors: [], tuning: [] };
  const smi = new NvidiaSmiSensor({ binary: options.nvidiaSmiPath, timeoutMs });
  try {
    nvidia.fields = await smi.supportedFields();
    const result = await smi.read();
    nvidia.gpus = result.gpus;
    nvidia.errors = result.errors.map((e) => e.message);
    if (result.gpus.length === 0 && result.errors.length === 0) nvidia.status = 'no_gpu';
    for (const gpu of result.gpus) {
      const tuner = new NvidiaTuner({ gpuIndex: gpu.index, nvidiaSmi: options.nvidiaSmiPath, timeoutMs });
      try {
        nvidia.tuning.push({ index: gpu.index, pciBusId: gpu.pciBusId, capabilities: [...await tuner.capabilities()].sort(), limits: await tuner.readLimits() });
      } catch (err) {
        nvidia.tuning.push({ index: gpu.index, pciBusId: gpu.pciBusId, capabilities: [], error: (err as Error).message });
      }
    }
  } catch (err) {
    nvidia.status = err instanceof GpuError ? err.kind : 'error';
    nvidia.message = (err as Error).message;
  }

  const sensor = new AmdgpuSysfsSensor({ drmRoot: options.amdgpuDrmRoot, readTimeoutMs: timeoutMs });
  const amd: GpuProbeReport['amd'] = { status: 'ok', drmRoot: sensor.drmRoot, gpus: [], errors: [], tuning: [] };
  try {
    const cards = await sensor.cards();
    if (cards.length === 0) amd.status = 'no_gpu';
    const result = await sensor.read();
    amd.gpus = result.gpus;
    amd.errors = result.errors.map((e) => e.message);
    for (const card of cards) {
      try {
        amd.tuning.push({ index: card.index, pciBusId: card.pciBusId, capabilities: [...await new AmdgpuTuner(card).capabilities()].sort() });
      } catch (err) {
        amd.tuning.push({ index: card.index, pciBusId: card.pciBusId, capabilities: [], error: (err as Error).message });
      }
    }
  } catch (err) {
    amd.status = err instanceof GpuError ? err.kind : 'error';
    amd.message = (err as Error).message;
  }
  return { nvidia, amd, gpuCount: nvidia.gpus.length + amd.gpus.length };
}

const fmt = (v: number | undefined, unit: string): string => (v === undefined ? '-' : `${Math.round(v * 10) / 10}${unit}`);

function gpuLine(g: GpuSensorReading): string {
  return `  ${g.vendor} #${g.index} ${g.pciBusId} ${g.name ?? ''}`.trimEnd()
    + `\n      temp ${fmt(g.tempC, ' °C')}${g.hotspotTempC !== undefined ? ` (hotspot ${fmt(g.hotspotTempC, ' °C')})` : ''}`
    + `  fan ${fmt(g.fanPercent, ' %')}${g.fanRpm !== undefined ? ` (${g.fanRpm} rpm)` : ''}  power ${fmt(g.powerW, ' W')} of ${fmt(g.powerLimitW, ' W')}`
    + `  core ${fmt(g.coreClockMhz, ' MHz')}  mem ${fmt(g.memoryClockMhz, ' MHz')}`;
}

/** The report for a terminal. The first line says whether there is any GPU. */
export function formatGpuProbe(report: GpuProbeReport): string {
  const out: string[] = [];
  const n = report.nvidia;
  const a = report.amd;
  if (report.gpuCount === 0) {
    out.push('No GPU found on this machine.');
  } else {
    out.push(`${report.gpuCount} GPU(s): ${n.gpus.length} NVIDIA, ${a.gpus.length} AMD.`);
  }
  out.push('', `NVIDIA (nvidia-smi): ${n.status === 'ok' ? `${n.gpus.length} GPU(s)` : n.status}${n.message ? ` - ${n.message}` : ''}`);
  if (n.fields) out.push(`  query fields supported: ${n.fields.join(',')}`);
  for (const g of n.gpus) out.push(gpuLine(g));
  for (const t of n.tuning) {
    out.push(`  tuning #${t.index}: ${t.capabilities.join(', ') || 'none'}${t.limits?.powerMinLimitW !== undefined
      ? ` (power ${t.limits.powerMinLimitW}..${t.limits.powerMaxLimitW} W, now ${t.limits.powerLimitW} W)` : ''}${t.error ? ` - ${t.error}` : ''}`);
  }
  for (const e of n.errors) out.push(`  ! ${e}`);
  out.push('', `AMD (amdgpu sysfs under ${a.drmRoot}): ${a.status === 'ok' ? `${a.gpus.length} GPU(s)` : a.status}${a.message ? ` - ${a.message}` : ''}`);
  for (const g of a.gpus) out.push(gpuLine(g));
  for (const t of a.tuning) out.push(`  tuning card${t.index}: ${t.capabilities.join(', ') || 'none'}${t.error ? ` - ${t.error}` : ''}`);
  for (const e of a.errors) out.push(`  ! ${e}`);
  return out.join('\n');
}
