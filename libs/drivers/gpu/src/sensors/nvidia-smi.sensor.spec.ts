import { FakeNvidiaSmi } from '@rigwarden/simulators';
import { GpuError } from '../gpu-error';
import { NvidiaSmiSensor, classifyNvidiaSmiFailure, parseHelpQueryGpu, parseNvidiaSmiCsv } from './nvidia-smi.sensor';

let fake: FakeNvidiaSmi;
beforeEach(async () => {
  fake = await FakeNvidiaSmi.create();
});
afterEach(async () => {
  await fake.remove();
});

describe('nvidia-smi sensor (real processes: the fake nvidia-smi executable)', () => {
  it('learns the supported fields first, then queries only those, in CSV without header or units', async () => {
    await fake.update((s) => { s.knownFields = s.knownFields.filter((f) => f !== 'temperature.memory' && f !== 'utilization.gpu'); });
    const sensor = new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath });
    await sensor.read();
    await sensor.read();
    expect(await fake.calls()).toEqual([
      ['nvidia-smi', '--help-query-gpu'],
      ['nvidia-smi', '--query-gpu=index,pci.bus_id,temperature.gpu,fan.speed,power.draw,power.limit,clocks.sm,clocks.mem,name', '--format=csv,noheader,nounits'],
      ['nvidia-smi', '--query-gpu=index,pci.bus_id,temperature.gpu,fan.speed,power.draw,power.limit,clocks.sm,clocks.mem,name', '--format=csv,noheader,nounits'],
    ]);
  });

  it('reads every GPU with the bus id in canonical form and [N/A] as absent', async () => {
    const result = await new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath }).read();
    expect(result.errors).toEqual([]);
    expect(result.gpus).toEqual([
      { vendor: 'nvidia', index: 0, pciBusId: '0000:01:00.0', name: 'NVIDIA GeForce RTX 3070', tempC: 60, memoryTempC: undefined, fanPercent: 70, powerW: 118.5, powerLimitW: 220, coreClockMhz: 1500, memoryClockMhz: 7000, utilizationPercent: 100 },
      expect.objectContaining({ index: 1, pciBusId: '0000:02:00.0', tempC: 61 }),
    ]);
  });

  it('[Not Supported] fan and [N/A] temperature are absent, never 0', async () => {
    await fake.update((s) => { s.gpus[0]!.fanPercent = '[Not Supported]'; s.gpus[0]!.tempC = '[N/A]'; s.gpus[0]!.powerDrawW = '[Unknown Error]'; });
    const { gpus } = await new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath }).read();
    expect(gpus[0]).toMatchObject({ tempC: undefined, fanPercent: undefined, powerW: undefined, coreClockMhz: 1500 });
  });

  it('"GPU is lost" becomes a gpu_lost error with the bus id, the other GPUs still read', async () => {
    await fake.update((s) => { s.gpus[1]!.lost = true; });
    const result = await new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath }).read();
    expect(result.gpus.map((g) => g.index)).toEqual([0]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ kind: 'gpu_lost', context: { pciBusId: '0000:02:00.0' } });
    expect(result.errors[0]!.message).toContain('GPU is lost');
  });

  it('"couldn\'t communicate with the NVIDIA driver" is driver_not_loaded', async () => {
    await fake.update((s) => { s.driverLoaded = false; });
    const err = await new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath }).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect(err).toMatchObject({ kind: 'driver_not_loaded', context: { exitCode: 9 } });
  });

  it('a hung nvidia-smi is killed at the deadline and reported as a timeout', async () => {
    const sensor = new NvidiaSmiSensor({ binary: fake.nvidiaSmiPath, timeoutMs: 3_000 });
    await sensor.supportedFields();
    await fake.update((s) => { s.hang = true; });
    const started = Date.now();
    const err = await sensor.read().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', message: expect.stringContaining('killed') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('no nvidia-smi on the machine is not_installed', async () => {
    await expect(new NvidiaSmiSensor({ binary: `${fake.dir}/no-such-nvidia-smi` }).read()).rejects.toMatchObject({ kind: 'not_installed' });
  });
});

describe('nvidia-smi output parsing', () => {
  it('reads field names and aliases from --help-query-gpu', () => {
    const fields = parseHelpQueryGpu('List of valid properties:\n\n"pci.bus_id" or "gpu_bus_id"\nPCI bus id as "domain:bus:device.function", in hex.\n\n"temperature.gpu"\n Core GPU temperature.\n');
    expect([...fields]).toEqual(['pci.bus_id', 'gpu_bus_id', 'temperature.gpu']);
  });

  it('keeps good rows and reports a row with the wrong number of values', () => {
    const result = parseNvidiaSmiCsv('0, 00000000:01:00.0, 55\n1, 00000000:02:00.0\n', ['index', 'pci.bus_id', 'temperature.gpu']);
    expect(result.gpus).toEqual([expect.objectContaining({ index: 0, pciBusId: '0000:01:00.0', tempC: 55 })]);
    expect(result.errors[0]).toMatchObject({ kind: 'parse' });
  });

  it('classifies whole-run failures: NVML version mismatch, no devices, a clean run', () => {
    const run = (stdout: string, exitCode: number) => classifyNvidiaSmiFailure({ stdout, stderr: '', exitCode, signal: null }, { command: 'nvidia-smi' });
    expect(run('Failed to initialize NVML: Driver/library version mismatch\n', 18)).toMatchObject({ kind: 'driver_not_loaded', message: expect.stringContaining('version mismatch') });
    expect(run('No devices were found\n', 6)).toMatchObject({ kind: 'no_gpu' });
    expect(run('0, 00000000:01:00.0, 55\n', 0)).toBeUndefined();
  });

  it('"Unable to determine the device handle for GPU0000:03:00.0: Unknown Error" (no space) is a per-GPU error', () => {
    const { errors } = parseNvidiaSmiCsv('Unable to determine the device handle for GPU0000:03:00.0: Unknown Error', ['index', 'pci.bus_id']);
    expect(errors[0]).toMatchObject({ kind: 'command_failed', context: { pciBusId: '0000:03:00.0' } });
  });

  it('a comma in the GPU name (queried last) does not shift the columns', () => {
    const { gpus, errors } = parseNvidiaSmiCsv('0, 00000000:01:00.0, 55, NVIDIA A100-SXM4-40GB, MIG 1g.5gb', ['index', 'pci.bus_id', 'temperature.gpu', 'name']);
    expect(errors).toEqual([]);
    expect(gpus[0]).toMatchObject({ tempC: 55, name: 'NVIDIA A100-SXM4-40GB, MIG 1g.5gb' });
  });

  it('a 0 from the driver is a real 0 (a stopped fan), only the bracketed words are absent', () => {
    const { gpus } = parseNvidiaSmiCsv('0, 00000000:0A:00.0, 0, [N/A]', ['index', 'pci.bus_id', 'fan.speed', 'temperature.gpu']);
    expect(gpus[0]).toMatchObject({ pciBusId: '0000:0a:00.0', fanPercent: 0, tempC: undefined });
  });
});
