import type { GpuError } from '../gpu-error';

/** What the OS reports for one GPU. Units: °C, %, RPM, W, MHz. Absent when not reported. */
export interface GpuSensorReading {
  vendor: 'nvidia' | 'amd';
  /** The OS index: nvidia-smi's index, or the DRM card number (card3 is 3). */
  index: number;
  /** Canonical "0000:01:00.0": the key that matches the miner's GPU. */
  pciBusId: string;
  name?: string;
  tempC?: number;
  /** AMD junction (hotspot) temperature. */
  hotspotTempC?: number;
  memoryTempC?: number;
  fanPercent?: number;
  fanRpm?: number;
  powerW?: number;
  powerLimitW?: number;
  coreClockMhz?: number;
  memoryClockMhz?: number;
  utilizationPercent?: number;
}

/** A read: the GPUs that answered, and per-GPU problems (a lost GPU, a hung sysfs file). */
export interface GpuSensorResult {
  gpus: GpuSensorReading[];
  errors: GpuError[];
}

/**
 * A source of GPU sensor readings. A failure of the whole source (driver not loaded,
 * tool not installed, the tool hung) is a thrown GpuError; per-GPU trouble is in
 * `errors` next to the GPUs that did answer.
 */
export interface GpuSensor {
  readonly source: string;
  read(options?: { signal?: AbortSignal }): Promise<GpuSensorResult>;
}
