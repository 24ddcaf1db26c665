import { driverRegistry, isGpuTunable, type CollectContext } from '@rigwarden/drivers-core';
import { FakeAmdgpuSysfs, FakeNvidiaSmi, GpuMinerSimulator } from '@rigwarden/simulators';
import { discoverGpuTuners } from './gpu-rig';
import './index';
import { SensorEnrichedDriver } from './sensors/sensor-enriched.driver';

const ctx = (): CollectContext => ({ signal: new AbortController().signal, deadlineMs: 5_000 });

let fake: FakeNvidiaSmi;
let sysfs: FakeAmdgpuSysfs;
beforeEach(async () => {
  fake = await FakeNvidiaSmi.create();
  sysfs = await FakeAmdgpuSysfs.create();
});
afterEach(async () => {
  await fake.remove();
  await sysfs.remove();
});

describe('GPU rig wiring from the agent config', () => {
  it('a miner entry with gpuSensors gets its boards merged with nvidia-smi by bus id', async () => {
    const sim = new GpuMinerSimulator({ flavor: 'gminer' });
    const address = await sim.start();
    try {
      await fake.update((s) => { s.gpus[1]!.tempC = 83; });
      const driver = driverRegistry.create('gminer', { ...address, options: { gpuSensors: ['nvidia-smi'], nvidiaSmiPath: fake.nvidiaSmiPath } });
      expect(driver).toBeInstanceOf(SensorEnrichedDriver);
      expect(driver.name).toBe('gminer');
      const reading = await driver.collect(ctx());
      expect(reading.boards.map((b) => b.boardTempC)).toEqual([60, 83]);
    } finally {
      await sim.stop();
    }
  });

  it('without gpuSensors the plain driver is used', () => {
    expect(driverRegistry.create('t-rex', { host: '127.0.0.1', port: 4067 })).not.toBeInstanceOf(SensorEnrichedDriver);
  });

  it('a wrong option is refused at creation, naming the option', () => {
    expect(() => driverRegistry.create('xmrig', { host: 'h', port: 1, options: { gpuSensors: ['nvml'] } })).toThrow(/options\.gpuSensors must be a list of nvidia-smi, amdgpu-sysfs/);
    expect(() => driverRegistry.create('xmrig', { host: 'h', port: 1, options: { gpuSensors: [], sensorTimeoutMs: 5 } })).toThrow(/options\.sensorTimeoutMs/);
  });

  it('discovers one tuner per GPU: NVIDIA from nvidia-smi, AMD from sysfs', async () => {
    const tuners = await discoverGpuTuners({ nvidiaSmiPath: fake.nvidiaSmiPath, amdgpuDrmRoot: sysfs.drmRoot });
    expect(tuners.map((t) => [t.constructor.name, t.gpuIndex, t.pciBusId])).toEqual([
      ['NvidiaTuner', 0, '0000:01:00.0'], ['NvidiaTuner', 1, '0000:02:00.0'], ['AmdgpuTuner', 0, '0000:03:00.0'], ['AmdgpuTuner', 1, '0000:04:00.0'],
    ]);
    const driver = new SensorEnrichedDriver(driverRegistry.create('t-rex', { host: '127.0.0.1', port: 1 }), [], tuners);
    expect(isGpuTunable(driver) && driver.gpuTuners()).toHaveLength(4);
  });

  it('a machine without nvidia-smi or without the NVIDIA driver has no NVIDIA tuners, and that is not an error', async () => {
    expect(await discoverGpuTuners({ nvidiaSmiPath: `${fake.dir}/missing`, amdgpuDrmRoot: sysfs.drmRoot })).toHaveLength(2);
    await fake.update((s) => { s.driverLoaded = false; });
    expect(await discoverGpuTuners({ nvidiaSmiPath: fake.nvidiaSmiPath, amdgpuDrmRoot: `${sysfs.root}/nowhere` })).toHaveLength(0);
  });
});
