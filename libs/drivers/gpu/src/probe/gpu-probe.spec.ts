import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FakeAmdgpuSysfs, FakeNvidiaSmi } from '@rigwarden/simulators';
import { formatGpuProbe, probeGpus } from './gpu-probe';

const run = promisify(execFile);
const TOOL = join(__dirname, '../../tools/gpu-probe.mjs');

let fake: FakeNvidiaSmi;
let sysfs: FakeAmdgpuSysfs;
beforeEach(async () => {
  fake = await FakeNvidiaSmi.create();
  sysfs = await FakeAmdgpuSysfs.create([{}]);
});
afterEach(async () => {
  await fake.remove();
  await sysfs.remove();
});

describe('gpu:probe', () => {
  it('reports every GPU, the nvidia-smi fields and the tuning each GPU offers', async () => {
    const report = await probeGpus({ nvidiaSmiPath: fake.nvidiaSmiPath, amdgpuDrmRoot: sysfs.drmRoot });
    expect(report.gpuCount).toBe(3);
    expect(report.nvidia.tuning[0]).toMatchObject({ capabilities: ['lockedClocks', 'powerLimit'], limits: { powerMinLimitW: 100, powerMaxLimitW: 240 } });
    expect(report.amd.tuning[0]?.capabilities).toEqual(['clockVoltageStates', 'fanSpeed', 'powerLimit']);
    const text = formatGpuProbe(report);
    expect(text.split('\n')[0]).toBe('3 GPU(s): 2 NVIDIA, 1 AMD.');
    expect(text).toContain('nvidia #0 0000:01:00.0 NVIDIA GeForce RTX 3070');
    expect(text).toContain('power 100..240 W, now 220 W');
  });

  it('the npm script entry runs the same code as a real process', async () => {
    const { stdout } = await run(process.execPath, [TOOL, '--nvidia-smi', fake.nvidiaSmiPath, '--drm-root', sysfs.drmRoot], { timeout: 15_000 });
    expect(stdout).toMatch(/^3 GPU\(s\): 2 NVIDIA, 1 AMD\./);
    expect(stdout).toContain('amd #0 0000:03:00.0');
  });

  it('says clearly when there is no GPU, and why per vendor', async () => {
    const { stdout } = await run(process.execPath, [TOOL, '--nvidia-smi', join(fake.dir, 'missing'), '--drm-root', join(sysfs.root, 'none')], { timeout: 15_000 });
    expect(stdout.split('\n')[0]).toBe('No GPU found on this machine.');
    expect(stdout).toContain('NVIDIA (nvidia-smi): not_installed');
    expect(stdout).toMatch(/AMD \(amdgpu sysfs under .*\): no_gpu/);
  });

  it('a loaded-but-broken NVIDIA driver is named as such', async () => {
    await fake.update((s) => { s.driverLoaded = false; });
    const report = await probeGpus({ nvidiaSmiPath: fake.nvidiaSmiPath, amdgpuDrmRoot: join(sysfs.root, 'none') });
    expect(report.nvidia).toMatchObject({ status: 'driver_not_loaded' });
    expect(formatGpuProbe(report)).toContain("could not communicate with the NVIDIA driver");
  });
});
