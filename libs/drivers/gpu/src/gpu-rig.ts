import { DriverError, type GpuTuner, type MinerDriver, type MinerEndpoint } from '@rigwarden/drivers-core';
import { AmdgpuTuner } from './actuators/amdgpu.actuator';
import { NvidiaTuner } from './actuators/nvidia.actuator';
import type { TuningDefaultsStore } from './actuators/tuning-defaults.store';
import { GpuError } from './gpu-error';
import { AmdgpuSysfsSensor } from './sensors/amdgpu-sysfs.sensor';
import type { GpuSensor } from './sensors/gpu-sensor';
import { NvidiaSmiSensor } from './sensors/nvidia-smi.sensor';
import { SensorEnrichedDriver } from './sensors/sensor-enriched.driver';
import { SysfsIo } from './sensors/sysfs-io';

/**
 * The GPU settings a miner entry may carry in the agent config (its `options`):
 *
 *   gpuSensors: [nvidia-smi, amdgpu-sysfs]   # OS sensors merged by PCI bus id
 *   nvidiaSmiPath: /usr/bin/nvidia-smi       # default: nvidia-smi from PATH
 *   amdgpuDrmRoot: /sys/class/drm            # default
 *   sensorTimeoutMs: 5000
 *   gpuAssumePciOrder: false                 # see MergeOptions.assumePciOrder
 */
export interface GpuRigOptions {
  gpuSensors: ('nvidia-smi' | 'amdgpu-sysfs')[];
  gpuAssumePciOrder?: boolean;
  nvidiaSmiPath?: string;
  amdgpuDrmRoot?: string;
  sensorTimeoutMs?: number;
}

const SENSOR_NAMES = ['nvidia-smi', 'amdgpu-sysfs'] as const;

/** Reads and checks the GPU options of a miner entry; errors name the option. */
export function gpuRigOptions(endpoint: MinerEndpoint): GpuRigOptions | undefined {
  const o = endpoint.options ?? {};
  if (o['gpuSensors'] === undefined) return undefined;
  const fail = (key: string, problem: string): never => {
    throw new DriverError('bad_request', `options.${key} ${problem}`, { host: endpoint.host, port: endpoint.port, command: 'config' });
  };
  const sensors = o['gpuSensors'];
  if (!Array.isArray(sensors) || sensors.some((s) => !SENSOR_NAMES.includes(s as (typeof SENSOR_NAMES)[number]))) {
    fail('gpuSensors', `must be a list of ${SENSOR_NAMES.join(', ')}; got ${JSON.stringify(sensors)}`);
  }
  const optString = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' && v !== '' ? v : fail(key, `must be a non-empty string; got ${JSON.stringify(v)}`);
  };
  const timeout = o['sensorTimeoutMs'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 100 || timeout > 60_000)) {
    fail('sensorTimeoutMs', `must be an integer from 100 to 60000; got ${JSON.stringify(timeout)}`);
  }
  const assume = o['gpuAssumePciOrder'];
  if (assume !== undefined && typeof assume !== 'boolean') fail('gpuAssumePciOrder', `must be true or false; got ${JSON.stringify(assume)}`);
  return {
    gpuSensors: sensors as GpuRigOptions['gpuSensors'],
    gpuAssumePciOrder: assume as boolean | undefined,
    nvidiaSmiPath: optString('nvidiaSmiPath'),
    amdgpuDrmRoot: optString('amdgpuDrmRoot'),
    sensorTimeoutMs: timeout as number | undefined,
  };
}

export function createGpuSensors(options: GpuRigOptions): GpuSensor[] {
  return options.gpuSensors.map((name) => name === 'nvidia-smi'
    ? new NvidiaSmiSensor({ binary: options.nvidiaSmiPath, timeoutMs: options.sensorTimeoutMs })
    : new AmdgpuSysfsSensor({ drmRoot: options.amdgpuDrmRoot, readTimeoutMs: options.sensorTimeoutMs }));
}

/** The driver as configured: wrapped with the rig's GPU sensors when `gpuSensors` is set. */
export function withConfiguredGpuSensors(driver: MinerDriver): MinerDriver {
  const options = gpuRigOptions(driver.endpoint);
  return options ? new SensorEnrichedDriver(driver, createGpuSensors(options), [], { assumePciOrder: options.gpuAssumePciOrder }) : driver;
}

export interface TunerDiscoveryOptions {
  nvidiaSmiPath?: string;
  nvidiaSettingsPath?: string;
  /** X display for nvidia-settings (offsets, fan); none = no nvidia-settings. */
  xDisplay?: string;
  amdgpuDrmRoot?: string;
  timeoutMs?: number;
  /** Where the defaults found are kept across agent restarts (FileTuningDefaultsStore in the data dir). */
  defaultsStore?: TuningDefaultsStore;
}

/**
 * One tuner per GPU on this machine: NVIDIA GPUs from nvidia-smi, AMD cards from
 * sysfs. A vendor whose tool or driver is missing contributes none; other errors throw.
 */
export async function discoverGpuTuners(options: TunerDiscoveryOptions = {}): Promise<GpuTuner[]> {
  const tuners: GpuTuner[] = [];
  try {
    const { gpus } = await new NvidiaSmiSensor({ binary: options.nvidiaSmiPath, timeoutMs: options.timeoutMs }).read();
    for (const gpu of gpus) {
      tuners.push(new NvidiaTuner({
        gpuIndex: gpu.index, pciBusId: gpu.pciBusId, nvidiaSmi: options.nvidiaSmiPath, nvidiaSettings: options.nvidiaSettingsPath,
        display: options.xDisplay, timeoutMs: options.timeoutMs, defaultsStore: options.defaultsStore,
      }));
    }
  } catch (err) {
    if (!(err instanceof GpuError) || !['not_installed', 'driver_not_loaded', 'no_gpu'].includes(err.kind)) throw err;
  }
  const amd = new AmdgpuSysfsSensor({ drmRoot: options.amdgpuDrmRoot, readTimeoutMs: options.timeoutMs });
  for (const card of await amd.cards()) tuners.push(new AmdgpuTuner(card, new SysfsIo(options.timeoutMs ?? 2_000), options.defaultsStore));
  return tuners;
}
