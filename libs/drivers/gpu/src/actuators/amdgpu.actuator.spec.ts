import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeAmdgpuSysfs } from '@rigwarden/simulators';
import { AmdgpuSysfsSensor } from '../sensors/amdgpu-sysfs.sensor';
import { AmdgpuTuner, parsePpOdClkVoltage } from './amdgpu.actuator';

let sysfs: FakeAmdgpuSysfs;
beforeEach(async () => {
  sysfs = await FakeAmdgpuSysfs.create();
});
afterEach(async () => {
  await sysfs.remove();
});

async function tuner(card = 0): Promise<AmdgpuTuner> {
  const cards = await new AmdgpuSysfsSensor({ drmRoot: sysfs.drmRoot }).cards();
  return new AmdgpuTuner(cards.find((c) => c.index === card)!);
}

describe('amdgpu tuner (a sysfs-shaped tree in a temp dir)', () => {
  it('offers power limit, fan speed and clock/voltage states when the files are there', async () => {
    expect([...await (await tuner()).capabilities()].sort()).toEqual(['clockVoltageStates', 'fanSpeed', 'powerLimit']);
  });

  it('writes power1_cap in µW and puts the cap it found back on restore', async () => {
    const t = await tuner();
    const result = await t.apply({ powerLimitW: 120 });
    expect(result.steps).toEqual([{ setting: 'powerLimitW', action: 'write power1_cap=120000000', value: '120 W' }]);
    expect(await sysfs.readHwmon(0, 'power1_cap')).toBe('120000000');
    await t.restoreDefaults();
    expect(await sysfs.readHwmon(0, 'power1_cap')).toBe('150000000');
  });

  it('refuses a cap outside power1_cap_min..power1_cap_max with the range in the message', async () => {
    await expect((await tuner()).apply({ powerLimitW: 250 })).rejects.toMatchObject({ kind: 'out_of_range', message: expect.stringContaining('0..203 W') });
    expect(await sysfs.readHwmon(0, 'power1_cap')).toBe('150000000');
  });

  it('fan: manual mode then duty of pwm1_max, automatic mode back on restore', async () => {
    const t = await tuner(1);
    await t.apply({ fanPercent: 80 });
    expect([await sysfs.readHwmon(1, 'pwm1_enable'), await sysfs.readHwmon(1, 'pwm1')]).toEqual(['1', '204']);
    await t.restoreDefaults();
    expect(await sysfs.readHwmon(1, 'pwm1_enable')).toBe('2');
  });

  it('OverDrive states are checked against OD_RANGE, written with manual performance level and committed', async () => {
    const t = await tuner();
    await expect(t.apply({ clockVoltageStates: [{ domain: 'sclk', state: 1, mhz: 2500 }] })).rejects.toThrow(/300\.\.2000 MHz/);
    await expect(t.apply({ clockVoltageStates: [{ domain: 'mclk', state: 1, mhz: 1000, mv: 1300 }] })).rejects.toThrow(/750\.\.1200 mV/);
    const dry = await t.apply({ clockVoltageStates: [{ domain: 'sclk', state: 1, mhz: 1300, mv: 900 }, { domain: 'mclk', state: 1, mhz: 1050 }] }, { dryRun: true });
    expect(dry.steps[0]?.action).toBe('write power_dpm_force_performance_level=manual, write pp_od_clk_voltage=s 1 1300 900, write pp_od_clk_voltage=m 1 1050, write pp_od_clk_voltage=c');
    expect(await sysfs.readDevice(0, 'power_dpm_force_performance_level')).toBe('auto');
    await t.apply({ clockVoltageStates: [{ domain: 'sclk', state: 1, mhz: 1300, mv: 900 }] });
    expect(await sysfs.readDevice(0, 'power_dpm_force_performance_level')).toBe('manual');
    expect(await sysfs.readDevice(0, 'pp_od_clk_voltage')).toBe('c');
    const restore = await t.restoreDefaults();
    expect(restore.steps[0]?.action).toBe('write pp_od_clk_voltage=r, write pp_od_clk_voltage=c, write power_dpm_force_performance_level=auto');
    expect(await sysfs.readDevice(0, 'power_dpm_force_performance_level')).toBe('auto');
  });

  it('a write that fails part-way restores what was changed (the cap and the half-set fan mode)', async () => {
    const t = await tuner();
    await t.capabilities();
    await sysfs.refuseWrites(0, 'pwm1');
    const err = await t.apply({ powerLimitW: 120, fanPercent: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'apply_failed', message: expect.stringContaining('the recorded defaults were restored') });
    expect((err as Error).message).toContain('write pwm1=128');
    expect(await sysfs.readHwmon(0, 'power1_cap')).toBe('150000000');
    expect(await readFile(join(sysfs.hwmonDir(0), 'pwm1_enable'), 'utf8')).toBe('2\n');
  });

  it('parses the Navi-style table ("Mhz", no voltages)', () => {
    expect(parsePpOdClkVoltage('OD_SCLK:\n0: 500Mhz\n1: 2100Mhz\nOD_MCLK:\n1: 875MHz\nOD_RANGE:\nSCLK:     500Mhz       2500Mhz\nMCLK:     674Mhz       1075Mhz\n')).toEqual({
      sclk: [[500, undefined], [2100, undefined]], mclk: [undefined, [875, undefined]], range: { sclk: [500, 2500], mclk: [674, 1075] },
    });
  });
});
