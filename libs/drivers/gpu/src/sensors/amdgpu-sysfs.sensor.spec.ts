import { FakeAmdgpuSysfs, type FakeAmdgpuCard } from '@rigwarden/simulators';
import { AmdgpuSysfsSensor } from './amdgpu-sysfs.sensor';

let sysfs: FakeAmdgpuSysfs;
beforeEach(async () => {
  sysfs = await FakeAmdgpuSysfs.create();
});
afterEach(async () => {
  await sysfs.remove();
});

describe('amdgpu sysfs sensor (a real sysfs-shaped tree in a temp dir)', () => {
  it('finds the AMD cards by PCI vendor, skipping the NVIDIA card and connectors, with bus ids from uevent', async () => {
    const cards = await new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot }).cards();
    expect(cards.map((c) => [c.index, c.pciBusId])).toEqual([[0, '0000:03:00.0'], [1, '0000:04:00.0']]);
  });

  it('converts m°C, µW, pwm of pwm1_max and Hz into °C, W, % and MHz', async () => {
    const { gpus, errors } = await new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot }).read();
    expect(errors).toEqual([]);
    expect(gpus[0]).toEqual({
      vendor: 'amd', index: 0, pciBusId: '0000:03:00.0', tempC: 55, hotspotTempC: 70, memoryTempC: 80, powerW: 110.5,
      powerLimitW: 150, fanPercent: 60, fanRpm: 1800, coreClockMhz: 1340, memoryClockMhz: 1000,
    });
  });

  it('reads power1_input on kernels without power1_average', async () => {
    sysfs = await swap({ powerFile: 'power1_input', powerW: 99 });
    const { gpus } = await new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot }).read();
    expect(gpus[0]?.powerW).toBe(99);
  });

  it('a 0 m°C temperature is an unread sensor: absent, never 0 °C', async () => {
    await sysfs.set(1, { tempEdgeC: 0 });
    const { gpus } = await new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot }).read();
    expect(gpus[1]?.tempC).toBeUndefined();
    expect(gpus[1]?.hotspotTempC).toBe(71);
  });

  it('a hung sysfs file times out for that card only, and is not read again while it is still stuck', async () => {
    await sysfs.hang(1, 'temp1_input');
    const sensor = new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot, readTimeoutMs: 200 });
    const started = Date.now();
    const first = await sensor.read();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(first.gpus.map((g) => g.index)).toEqual([0]);
    expect(first.errors).toHaveLength(1);
    expect(first.errors[0]).toMatchObject({ kind: 'timeout', context: { gpuIndex: 1, pciBusId: '0000:04:00.0', command: 'read temp1_input' } });
    const second = await sensor.read();
    expect(second.errors[0]?.message).toMatch(/earlier access .* has not returned/);
    await sysfs.release();
  });
});

async function swap(change: Partial<FakeAmdgpuCard>): Promise<FakeAmdgpuSysfs> {
  await sysfs.remove();
  return FakeAmdgpuSysfs.create([change]);
}
