import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAmdgpuSysfs, FakeNvidiaSmi } from '@rigwarden/simulators';
import { AmdgpuSysfsSensor } from '../sensors/amdgpu-sysfs.sensor';
import { SysfsIo } from '../sensors/sysfs-io';
import { AmdgpuTuner } from './amdgpu.actuator';
import { NvidiaTuner } from './nvidia.actuator';
import { FileTuningDefaultsStore } from './tuning-defaults.store';

let dir: string;
let fake: FakeNvidiaSmi;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rigwarden-defaults-'));
  fake = await FakeNvidiaSmi.create();
});
afterEach(async () => {
  await fake.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('recorded tuning defaults survive an agent restart', () => {
  it('NVIDIA: the second agent restores the power limit the first one found, not the tuned one', async () => {
    const store = new FileTuningDefaultsStore(join(dir, 'data', 'gpu-defaults.json'));
    await new NvidiaTuner({ gpuIndex: 1, nvidiaSmi: fake.nvidiaSmiPath, defaultsStore: store }).apply({ powerLimitW: 150 });
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toEqual({ 'nvidia:0000:02:00.0': [['powerLimitW', { powerLimitW: 220 }]] });

    // The agent was killed; a new one tunes again and later shuts down.
    const second = new NvidiaTuner({ gpuIndex: 1, nvidiaSmi: fake.nvidiaSmiPath, defaultsStore: new FileTuningDefaultsStore(store.path) });
    await second.apply({ powerLimitW: 160, coreClockLock: { minMhz: 1500, maxMhz: 1500 } });
    expect(second.recordedDefaults().map((s) => s.action)).toEqual(['nvidia-smi -i 1 -rgc', 'nvidia-smi -i 1 -pl 220']);
    await second.restoreDefaults();
    const gpu = (await fake.read()).gpus[1]!;
    expect([gpu.powerLimitW, gpu.lockedGpuClocks]).toEqual([220, null]);
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toEqual({});
  });

  it('NVIDIA: a new agent with nothing to tune still restores what a crashed one left behind, on shutdown', async () => {
    const store = new FileTuningDefaultsStore(join(dir, 'gpu-defaults.json'));
    await new NvidiaTuner({ gpuIndex: 0, nvidiaSmi: fake.nvidiaSmiPath, defaultsStore: store }).apply({ powerLimitW: 140 });
    await new NvidiaTuner({ gpuIndex: 0, nvidiaSmi: fake.nvidiaSmiPath, defaultsStore: store }).restoreDefaults();
    expect((await fake.read()).gpus[0]!.powerLimitW).toBe(220);
  });

  it('AMD: the fan mode found survives the restart', async () => {
    const sysfs = await FakeAmdgpuSysfs.create([{}]);
    try {
      const store = new FileTuningDefaultsStore(join(dir, 'gpu-defaults.json'));
      const [card] = await new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot }).cards();
      await new AmdgpuTuner(card!, new SysfsIo(), store).apply({ fanPercent: 90 });
      await new AmdgpuTuner(card!, new SysfsIo(), store).apply({ fanPercent: 60 });
      await new AmdgpuTuner(card!, new SysfsIo(), store).restoreDefaults();
      expect(await sysfs.readHwmon(0, 'pwm1_enable')).toBe('2');
    } finally {
      await sysfs.remove();
    }
  });

  it('a corrupt defaults file is a parse error naming the file, not silently new defaults', async () => {
    const path = join(dir, 'gpu-defaults.json');
    await writeFile(path, '{ not json');
    const tuner = new NvidiaTuner({ gpuIndex: 0, nvidiaSmi: fake.nvidiaSmiPath, defaultsStore: new FileTuningDefaultsStore(path) });
    await expect(tuner.apply({ powerLimitW: 150 })).rejects.toMatchObject({ kind: 'parse', message: expect.stringContaining(path) });
    expect((await fake.read()).gpus[0]!.powerLimitW).toBe(220);
  });
});
