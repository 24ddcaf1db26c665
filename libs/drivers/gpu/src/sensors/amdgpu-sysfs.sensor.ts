import { join } from 'node:path';
import { GpuError, type GpuErrorContext } from '../gpu-error';
import { normalisePciBusId } from '../pci-bus-id';
import type { GpuSensor, GpuSensorReading, GpuSensorResult } from './gpu-sensor';
import { SysfsIo } from './sysfs-io';

export const AMD_PCI_VENDOR = '0x1002';

export interface AmdgpuCard {
  /** DRM card number: card3 is 3. */
  index: number;
  /** .../class/drm/cardN/device */
  deviceDir: string;
  /** .../device/hwmon/hwmonM, when the driver exposes one. */
  hwmonDir: string | undefined;
  pciBusId: string;
}

export interface AmdgpuSysfsOptions {
  /** Where the DRM class lives: /sys/class/drm on a real machine, a temp dir in tests. */
  drmRoot?: string;
  /** Deadline for each sysfs access. */
  readTimeoutMs?: number;
  io?: SysfsIo;
}

/** Lists the amdgpu cards under a DRM class dir (card0, card1, ... whose PCI vendor is AMD). */
export async function findAmdgpuCards(io: SysfsIo, drmRoot: string): Promise<AmdgpuCard[]> {
  const cards: AmdgpuCard[] = [];
  for (const entry of await io.list(drmRoot)) {
    const match = /^card(\d+)$/.exec(entry);
    if (!match) continue;
    const deviceDir = join(drmRoot, entry, 'device');
    const context: GpuErrorContext = { gpuIndex: Number(match[1]) };
    if ((await io.read(join(deviceDir, 'vendor'), context))?.toLowerCase() !== AMD_PCI_VENDOR) continue;
    const uevent = (await io.read(join(deviceDir, 'uevent'), context)) ?? '';
    const slot = /^PCI_SLOT_NAME=(.+)$/m.exec(uevent)?.[1];
    const pciBusId = normalisePciBusId(slot) ?? normalisePciBusId((await io.resolve(deviceDir, context)).split('/').pop());
    if (!pciBusId) continue;
    const hwmon = (await io.list(join(deviceDir, 'hwmon'), context)).filter((h) => /^hwmon\d+$/.test(h)).sort()[0];
    cards.push({ index: Number(match[1]), deviceDir, hwmonDir: hwmon ? join(deviceDir, 'hwmon', hwmon) : undefined, pciBusId });
  }
  return cards.sort((a, b) => a.index - b.index);
}

/**
 * AMD GPUs through amdgpu's hwmon sysfs: temp1/2/3_input (edge, junction, memory) in
 * m°C, power1_average (or power1_input) in µW, pwm1 of pwm1_max, fan1_input in RPM,
 * freq1/2_input (sclk, mclk) in Hz, power1_cap in µW. Every access has a deadline;
 * a card whose file hangs is reported in `errors` and the other cards still read.
 */
export class AmdgpuSysfsSensor implements GpuSensor {
  readonly source = 'amdgpu-sysfs';
  readonly drmRoot: string;
  private readonly io: SysfsIo;

  constructor(options: AmdgpuSysfsOptions = {}) {
    this.drmRoot = options.drmRoot ?? '/sys/class/drm';
    this.io = options.io ?? new SysfsIo(options.readTimeoutMs ?? 1_000);
  }

  cards(): Promise<AmdgpuCard[]> {
    return findAmdgpuCards(this.io, this.drmRoot);
  }

  async read(): Promise<GpuSensorResult> {
    const cards = await this.cards();
    const results = await Promise.allSettled(cards.map((card) => this.readCard(card)));
    const gpus: GpuSensorReading[] = [];
    const errors: GpuError[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') gpus.push(r.value);
      else errors.push(r.reason instanceof GpuError ? r.reason
        : new GpuError('command_failed', String(r.reason), { gpuIndex: cards[i]!.index, pciBusId: cards[i]!.pciBusId }));
    });
    return { gpus, errors };
  }

  async readCard(card: AmdgpuCard): Promise<GpuSensorReading> {
    const context: GpuErrorContext = { gpuIndex: card.index, pciBusId: card.pciBusId };
    const reading: GpuSensorReading = { vendor: 'amd', index: card.index, pciBusId: card.pciBusId };
    if (!card.hwmonDir) return reading;
    const hw = (file: string): Promise<number | undefined> => this.number(join(card.hwmonDir!, file), context);
    // Sequential on purpose: a hung file stops this card's read at once instead of
    // tying up several threads on the same faulted GPU.
    const edge = await hw('temp1_input');
    const junction = await hw('temp2_input');
    const mem = await hw('temp3_input');
    const power = (await hw('power1_average')) ?? (await hw('power1_input'));
    const cap = await hw('power1_cap');
    const pwm = await hw('pwm1');
    const pwmMax = await hw('pwm1_max');
    const rpm = await hw('fan1_input');
    const sclk = await hw('freq1_input');
    const mclk = await hw('freq2_input');
    reading.tempC = milli(edge);
    reading.hotspotTempC = milli(junction);
    reading.memoryTempC = milli(mem);
    reading.powerW = micro(power);
    reading.powerLimitW = micro(cap);
    reading.fanPercent = pwm !== undefined && pwmMax !== undefined && pwmMax > 0 ? Math.round((pwm / pwmMax) * 1000) / 10 : undefined;
    reading.fanRpm = rpm;
    reading.coreClockMhz = sclk === undefined ? undefined : sclk / 1e6;
    reading.memoryClockMhz = mclk === undefined ? undefined : mclk / 1e6;
    return reading;
  }

  private async number(path: string, context: GpuErrorContext): Promise<number | undefined> {
    const text = await this.io.read(path, context);
    if (text === undefined || text === '') return undefined;
    const n = Number(text);
    if (!Number.isFinite(n)) throw new GpuError('parse', `not a number: ${JSON.stringify(text.slice(0, 40))}`, { ...context, path });
    return n;
  }
}

/** m°C to °C; a temperature of exactly 0 m°C is an unread sensor, not 0 °C. */
function milli(value: number | undefined): number | undefined {
  return value === undefined || value === 0 ? undefined : value / 1000;
}

function micro(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value / 1e6;
}
