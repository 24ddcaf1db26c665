import { FakeNvidiaSmi } from '@rigwarden/simulators';
import { GpuError } from '../gpu-error';
import { NvidiaTuner } from './nvidia.actuator';

let fake: FakeNvidiaSmi;
beforeEach(async () => {
  fake = await FakeNvidiaSmi.create();
});
afterEach(async () => {
  await fake.remove();
});

const tuner = (extra: Partial<ConstructorParameters<typeof NvidiaTuner>[0]> = {}): NvidiaTuner =>
  new NvidiaTuner({ gpuIndex: 0, nvidiaSmi: fake.nvidiaSmiPath, nvidiaSettings: fake.nvidiaSettingsPath, ...extra });
const setCalls = async (): Promise<string[][]> => (await fake.calls()).filter((c) => !c.some((a) => a.startsWith('--query-gpu') || a === '-q'));

describe('NVIDIA tuner (real processes: fake nvidia-smi and nvidia-settings)', () => {
  it('without an X display offers power limit and locked clocks only', async () => {
    expect([...await tuner().capabilities()].sort()).toEqual(['lockedClocks', 'powerLimit']);
    expect([...await tuner({ display: ':0' }).capabilities()].sort()).toEqual(['clockOffsets', 'fanSpeed', 'lockedClocks', 'powerLimit']);
  });

  it('sets the power limit with nvidia-smi -i N -pl W and records the limit it found', async () => {
    const t = tuner();
    const result = await t.apply({ powerLimitW: 150 });
    expect(result.steps).toEqual([{ setting: 'powerLimitW', action: 'nvidia-smi -i 0 -pl 150', value: '150 W' }]);
    expect(await setCalls()).toEqual([['nvidia-smi', '-i', '0', '-pl', '150']]);
    expect((await fake.read()).gpus[0]!.powerLimitW).toBe(150);
    expect(t.recordedDefaults()).toEqual([{ setting: 'restore', action: 'nvidia-smi -i 0 -pl 220', value: '220 W' }]);
    expect(t.pciBusId).toBe('0000:01:00.0');
  });

  it('refuses a power limit outside power.min_limit..power.max_limit, naming the range, before any change', async () => {
    const err = await tuner().apply({ powerLimitW: 400 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect(err).toMatchObject({ kind: 'out_of_range' });
    expect((err as Error).message).toContain('100..240 W');
    expect(await setCalls()).toEqual([]);
  });

  it('a dry run validates and lists the steps without changing anything', async () => {
    const result = await tuner().apply({ powerLimitW: 180, coreClockLock: { minMhz: 1200, maxMhz: 1500 }, memoryClockLock: null }, { dryRun: true });
    expect(result).toEqual({
      dryRun: true,
      steps: [
        { setting: 'powerLimitW', action: 'nvidia-smi -i 0 -pl 180', value: '180 W' },
        { setting: 'coreClockLock', action: 'nvidia-smi -i 0 -lgc 1200,1500', value: '1200..1500 MHz' },
        { setting: 'memoryClockLock', action: 'nvidia-smi -i 0 -rmc', value: 'reset' },
      ],
    });
    expect(await setCalls()).toEqual([]);
    await expect(tuner().apply({ coreClockLock: { minMhz: 1200, maxMhz: 2500 } }, { dryRun: true })).rejects.toThrow(/1200\.\.2100 MHz/);
  });

  it('clock offsets and fan speed without an X display are refused as unsupported', async () => {
    await expect(tuner().apply({ coreClockOffsetMhz: 100 })).rejects.toMatchObject({ kind: 'unsupported', message: expect.stringMatching(/X server/) });
    await expect(tuner().apply({ fanPercent: 70 })).rejects.toMatchObject({ kind: 'unsupported' });
  });

  it('with a display: offsets within the range nvidia-settings reports, fan to manual, then everything restored', async () => {
    await fake.update((s) => { s.xDisplay = ':0'; });
    const t = tuner({ display: ':0' });
    await expect(t.apply({ memoryClockOffsetMhz: 9000 })).rejects.toThrow(/-2000\.\.6000 MHz/);
    await t.apply({ powerLimitW: 170, coreClockOffsetMhz: 150, memoryClockOffsetMhz: 1000, fanPercent: 75, coreClockLock: { minMhz: 1400, maxMhz: 1400 } });
    let gpu = (await fake.read()).gpus[0]!;
    expect([gpu.powerLimitW, gpu.coreOffsetMhz, gpu.memOffsetMhz, gpu.fanControl, gpu.targetFanPercent, gpu.lockedGpuClocks]).toEqual([170, 150, 1000, 1, 75, [1400, 1400]]);
    expect(await setCalls()).toContainEqual(['nvidia-settings', '-c', ':0', '-a', '[gpu:0]/GPUFanControlState=1', '-a', '[fan:0]/GPUTargetFanSpeed=75']);
    await t.restoreDefaults();
    gpu = (await fake.read()).gpus[0]!;
    expect([gpu.powerLimitW, gpu.coreOffsetMhz, gpu.memOffsetMhz, gpu.fanControl, gpu.lockedGpuClocks]).toEqual([220, 0, 0, 0, null]);
    expect(t.recordedDefaults()).toEqual([]);
  });

  it('a step that fails part-way restores the defaults recorded so far and says so', async () => {
    await fake.update((s) => { s.gpus[0]!.clockLockSupported = false; });
    const t = tuner();
    const err = await t.apply({ powerLimitW: 150, coreClockLock: { minMhz: 1200, maxMhz: 1500 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'apply_failed' });
    expect((err as Error).message).toMatch(/nvidia-smi -i 0 -lgc 1200,1500" failed .*not supported.*the recorded defaults were restored/);
    expect((await fake.read()).gpus[0]!.powerLimitW).toBe(220);
    expect((await setCalls()).map((c) => c.slice(3).join(' '))).toEqual(['-pl 150', '-lgc 1200,1500', '-rgc', '-pl 220']);
  });

  it('without root the change fails as permission_denied, and so does the restore: the default is kept for a retry', async () => {
    await fake.update((s) => { s.root = false; });
    const t = tuner();
    const err = await t.apply({ powerLimitW: 150 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'apply_failed', cause: expect.objectContaining({ kind: 'permission_denied' }) });
    expect((err as Error).message).toMatch(/Insufficient Permissions.*restoring the recorded defaults failed too/);
    expect(t.recordedDefaults()).toEqual([{ setting: 'restore', action: 'nvidia-smi -i 0 -pl 220', value: '220 W' }]);
  });

  it('a lost GPU cannot be tuned', async () => {
    await fake.update((s) => { s.gpus[0]!.lost = true; });
    await expect(tuner().apply({ powerLimitW: 150 })).rejects.toMatchObject({ kind: 'gpu_lost' });
  });

  it('a GPU without power management (power limits [N/A]) has no powerLimit capability', async () => {
    await fake.update((s) => { (s.gpus[0] as unknown as Record<string, unknown>)['powerMinLimitW'] = '[N/A]'; });
    const t = tuner();
    expect((await t.capabilities()).has('powerLimit')).toBe(false);
    await expect(t.apply({ powerLimitW: 150 })).rejects.toMatchObject({ kind: 'unsupported' });
  });
});
