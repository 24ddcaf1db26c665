import type { CollectContext } from '@rigwarden/drivers-core';
import { BoardStatus } from '@rigwarden/protocol';
import { FakeAmdgpuSysfs, FakeNvidiaSmi, GpuMinerSimulator, GpuRigSimulator, TeamRedMinerSimulator, defaultSimGpus } from '@rigwarden/simulators';
import { LolminerDriver } from '../http/lolminer.driver';
import { TeamRedMinerDriver } from '../http/teamredminer.driver';
import { TrexDriver } from '../http/trex.driver';
import { AmdgpuSysfsSensor } from './amdgpu-sysfs.sensor';
import { NvidiaSmiSensor } from './nvidia-smi.sensor';
import { SensorEnrichedDriver } from './sensor-enriched.driver';

const ctx = (): CollectContext => ({ signal: new AbortController().signal, deadlineMs: 5_000 });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function trexRig() {
  const sim = new GpuMinerSimulator({ flavor: 't-rex' });
  const address = await sim.start();
  // The OS enumerates the GPUs in the other order: index 0 is bus 02, index 1 is bus 01.
  const fake = await FakeNvidiaSmi.create();
  await fake.update((s) => {
    s.gpus[0]!.pciBusId = '00000000:02:00.0';
    s.gpus[0]!.tempC = 77;
    s.gpus[1]!.pciBusId = '00000000:01:00.0';
    s.gpus[1]!.tempC = 44;
  });
  cleanups.push(() => sim.stop(), () => fake.remove());
  return { sim, fake, driver: new SensorEnrichedDriver(new TrexDriver(address), [new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath })]) };
}

describe('miner GPUs matched to OS sensors by PCI bus id', () => {
  it('takes temperature, fan, power and clocks from nvidia-smi by bus id, not by position', async () => {
    const { driver } = await trexRig();
    const reading = await driver.collect(ctx());
    expect(reading.boards.map((b) => [b.pciBusId, b.boardTempC, b.powerW])).toEqual([
      ['0000:01:00.0', 44, 118.5],
      ['0000:02:00.0', 77, 118.5],
    ]);
    expect(reading.powerW).toBe(237);
    expect(reading.errors).toEqual([]);
  });

  it('a GPU nvidia-smi reports lost makes its board dead and adds a gpu_lost error; the collect still succeeds', async () => {
    const { fake, driver } = await trexRig();
    await fake.update((s) => { s.gpus[0]!.lost = true; });
    const reading = await driver.collect(ctx());
    expect(reading.boards.find((b) => b.pciBusId === '0000:02:00.0')?.status).toBe(BoardStatus.BOARD_STATUS_DEAD);
    expect(reading.errors).toEqual([expect.objectContaining({ kind: 'gpu_lost', command: 'nvidia-smi --query-gpu' })]);
  });

  it('a driver that is not loaded is an error in the reading, the miner values stay', async () => {
    const { fake, driver } = await trexRig();
    await fake.update((s) => { s.driverLoaded = false; });
    const reading = await driver.collect(ctx());
    expect(reading.boards[0]?.boardTempC).toBe(60);
    expect(reading.errors.map((e) => e.kind)).toEqual(['driver_not_loaded']);
  });

  it('AMD: TeamRedMiner GPUs get the amdgpu sysfs readings by bus id', async () => {
    const gpus = defaultSimGpus(2, 'amd').map((g, i) => ({ ...g, pciBusId: `0000:0${4 - i}:00.0` }));
    const sim = new TeamRedMinerSimulator({ gpus });
    const address = await sim.start();
    const sysfs = await FakeAmdgpuSysfs.create();
    cleanups.push(() => sim.stop(), () => sysfs.remove());
    const driver = new SensorEnrichedDriver(new TeamRedMinerDriver(address), [new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot })]);
    const reading = await driver.collect(ctx());
    expect(reading.boards.map((b) => [b.index, b.pciBusId, b.boardTempC, b.chipTempC, b.fanPercent])).toEqual([
      [0, '0000:04:00.0', 56, 71, 60],
      [1, '0000:03:00.0', 55, 70, 60],
    ]);
  });

  it('a whole rig: a GPU that falls off the bus is dead in the miner and lost in nvidia-smi, the other GPU reads on', async () => {
    const rig = await GpuRigSimulator.start({ flavor: 'lolminer' });
    cleanups.push(() => rig.stop());
    const driver = new SensorEnrichedDriver(new LolminerDriver(rig.address()), [new NvidiaSmiSensor({ binary: rig.nvidiaSmi.nvidiaSmiPath })]);
    expect((await driver.collect(ctx())).boards.map((b) => b.status)).toEqual([BoardStatus.BOARD_STATUS_OK, BoardStatus.BOARD_STATUS_OK]);
    await rig.loseGpu(0);
    const reading = await driver.collect(ctx());
    expect(reading.boards.map((b) => [b.pciBusId, b.status, b.hashrateHs, b.boardTempC])).toEqual([
      ['0000:01:00.0', BoardStatus.BOARD_STATUS_DEAD, 0, undefined],
      ['0000:02:00.0', BoardStatus.BOARD_STATUS_OK, 61e6, 61],
    ]);
    expect(reading.errors).toEqual([expect.objectContaining({ kind: 'gpu_lost', message: expect.stringContaining('0000:01:00.0') })]);
  });

  it('assumePciOrder: a miner without bus ids gets the OS GPUs in bus order, only when the counts match', async () => {
    const gpus = defaultSimGpus(2, 'amd');
    const sim = new TeamRedMinerSimulator({ gpus });
    const address = await sim.start();
    const sysfs = await FakeAmdgpuSysfs.create();
    cleanups.push(() => sim.stop(), () => sysfs.remove());
    // This build reports no bus id anywhere.
    gpus.forEach((g) => { g.pciBusId = 'n/a'; });
    const sensor = new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot });
    const plain = await new SensorEnrichedDriver(new TeamRedMinerDriver(address), [sensor]).collect(ctx());
    expect(plain.boards.map((b) => [b.pciBusId, b.chipTempC])).toEqual([['', undefined], ['', undefined]]);
    const assumed = await new SensorEnrichedDriver(new TeamRedMinerDriver(address), [sensor], [], { assumePciOrder: true }).collect(ctx());
    expect(assumed.boards.map((b) => [b.index, b.pciBusId, b.chipTempC])).toEqual([[0, '0000:03:00.0', 70], [1, '0000:04:00.0', 71]]);
    gpus.pop();
    const fewer = await new SensorEnrichedDriver(new TeamRedMinerDriver(address), [sensor], [], { assumePciOrder: true }).collect(ctx());
    expect(fewer.boards.map((b) => b.pciBusId)).toEqual(['']);
  });
});
