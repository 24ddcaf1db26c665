import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeAmdgpuCard {
  card: number;
  /** "0000:03:00.0" */
  pciBusId: string;
  tempEdgeC: number;
  tempJunctionC: number;
  tempMemC: number;
  powerW: number;
  powerCapW: number;
  powerCapMinW: number;
  powerCapMaxW: number;
  pwm: number;
  pwmMax: number;
  /** 0 = full speed, 1 = manual, 2 = automatic. */
  pwmEnable: number;
  fanRpm: number;
  sclkMhz: number;
  mclkMhz: number;
  performanceLevel: string;
  /** OD_SCLK / OD_MCLK states [MHz, mV] and OD_RANGE limits. */
  odSclk: [number, number][];
  odMclk: [number, number][];
  odRange: { sclk: [number, number]; mclk: [number, number]; vddc: [number, number] };
  /** Newer kernels report power1_input instead of power1_average. */
  powerFile: 'power1_average' | 'power1_input';
}

export function defaultFakeAmdgpuCard(card: number): FakeAmdgpuCard {
  return {
    card, pciBusId: `0000:${(card + 3).toString(16).padStart(2, '0')}:00.0`, tempEdgeC: 55 + card, tempJunctionC: 70 + card,
    tempMemC: 80, powerW: 110.5, powerCapW: 150, powerCapMinW: 0, powerCapMaxW: 203, pwm: 153, pwmMax: 255, pwmEnable: 2,
    fanRpm: 1800, sclkMhz: 1340, mclkMhz: 1000, performanceLevel: 'auto',
    odSclk: [[300, 750], [1340, 1000]], odMclk: [[300, 750], [1000, 900]],
    odRange: { sclk: [300, 2000], mclk: [300, 2250], vddc: [750, 1200] }, powerFile: 'power1_average',
  };
}

export function ppOdClkVoltageText(card: FakeAmdgpuCard): string {
  const states = (rows: [number, number][]) => rows.map(([mhz, mv], i) => `${i}:${String(mhz).padStart(10)}MHz${String(mv).padStart(10)}mV`).join('\n');
  const r = card.odRange;
  return `OD_SCLK:\n${states(card.odSclk)}\nOD_MCLK:\n${states(card.odMclk)}\nOD_RANGE:\nSCLK:${String(r.sclk[0]).padStart(10)}MHz${String(r.sclk[1]).padStart(10)}MHz\n`
    + `MCLK:${String(r.mclk[0]).padStart(10)}MHz${String(r.mclk[1]).padStart(10)}MHz\nVDDC:${String(r.vddc[0]).padStart(10)}mV${String(r.vddc[1]).padStart(10)}mV\n`;
}

/**
 * An amdgpu sysfs tree in a temp dir, laid out as the kernel does:
 * class/drm/cardN/device -> devices/<bus id>/ with vendor, uevent, pp_od_clk_voltage,
 * power_dpm_force_performance_level and hwmon/hwmonM/ (temp*_input m°C, power1_* µW,
 * pwm1, pwm1_max, pwm1_enable, fan1_input, freq1/2_input Hz). Plus an NVIDIA card
 * and a connector entry the sensor must skip. hang() turns a file into a FIFO so a
 * read blocks like a faulted GPU's sysfs.
 */
export class FakeAmdgpuSysfs {
  readonly drmRoot: string;
  private readonly fifos = new Set<string>();
  private readonly refused = new Set<string>();

  private constructor(readonly root: string, readonly cards: FakeAmdgpuCard[]) {
    this.drmRoot = join(root, 'class', 'drm');
  }

  static async create(cards: Partial<FakeAmdgpuCard>[] = [{}, {}]): Promise<FakeAmdgpuSysfs> {
    const root = await mkdtemp(join(tmpdir(), 'rigwarden-fake-sysfs-'));
    const full = cards.map((c, i) => ({ ...defaultFakeAmdgpuCard(c.card ?? i), ...c }));
    const fake = new FakeAmdgpuSysfs(root, full);
    await mkdir(fake.drmRoot, { recursive: true });
    for (const card of full) await fake.writeCard(card);
    // An NVIDIA card and a connector, which the AMD sensor must ignore.
    const nv = join(root, 'devices', '0000:0a:00.0');
    await mkdir(nv, { recursive: true });
    await writeFile(join(nv, 'vendor'), '0x10de\n');
    await mkdir(join(fake.drmRoot, 'card9'), { recursive: true });
    await symlink(nv, join(fake.drmRoot, 'card9', 'device'));
    await mkdir(join(fake.drmRoot, 'card0-DP-1'), { recursive: true });
    return fake;
  }

  deviceDir(card: number): string {
    return join(this.root, 'devices', this.card(card).pciBusId);
  }

  hwmonDir(card: number): string {
    return join(this.deviceDir(card), 'hwmon', `hwmon${card + 2}`);
  }

  card(card: number): FakeAmdgpuCard {
    const found = this.cards.find((c) => c.card === card);
    if (!found) throw new Error(`no fake card${card}`);
    return found;
  }

  /** Changes a card's values and rewrites its files. */
  async set(card: number, change: Partial<FakeAmdgpuCard>): Promise<void> {
    Object.assign(this.card(card), change);
    await this.writeCard(this.card(card));
  }

  async readHwmon(card: number, file: string): Promise<string> {
    return (await readFile(join(this.hwmonDir(card), file), 'utf8')).trim();
  }

  async readDevice(card: number, file: string): Promise<string> {
    return (await readFile(join(this.deviceDir(card), file), 'utf8')).trim();
  }

  /** Replaces a hwmon file with a FIFO: reads block until release(). */
  async hang(card: number, file: string): Promise<void> {
    const path = join(this.hwmonDir(card), file);
    await unlink(path).catch(() => undefined);
    execFileSync('mkfifo', [path]);
    this.fifos.add(path);
  }

  /**
   * Makes a hwmon file refuse writes, even from root, as sysfs does for a value the
   * driver rejects: the file becomes a link to a read-only procfs file.
   */
  async refuseWrites(card: number, file: string): Promise<void> {
    const path = join(this.hwmonDir(card), file);
    await unlink(path).catch(() => undefined);
    await symlink('/proc/version', path);
    this.refused.add(path);
  }

  /** Unblocks every reader stuck on a hung file and puts regular files back. */
  async release(): Promise<void> {
    for (const path of this.refused) await unlink(path).catch(() => undefined);
    this.refused.clear();
    for (const path of this.fifos) {
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(fd, '0\n');
        closeSync(fd);
      } catch {
        // no reader waiting
      }
      await unlink(path).catch(() => undefined);
    }
    this.fifos.clear();
    for (const card of this.cards) await this.writeCard(card);
  }

  async remove(): Promise<void> {
    await this.release();
    await rm(this.root, { recursive: true, force: true });
  }

  private async writeCard(card: FakeAmdgpuCard): Promise<void> {
    const dev = this.deviceDir(card.card);
    const hw = this.hwmonDir(card.card);
    await mkdir(hw, { recursive: true });
    const cardDir = join(this.drmRoot, `card${card.card}`);
    await mkdir(cardDir, { recursive: true });
    await symlink(dev, join(cardDir, 'device')).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
    const files: Record<string, string> = {
      [join(dev, 'vendor')]: '0x1002',
      [join(dev, 'device')]: '0x73bf',
      [join(dev, 'uevent')]: `DRIVER=amdgpu\nPCI_CLASS=30000\nPCI_ID=1002:73BF\nPCI_SLOT_NAME=${card.pciBusId}`,
      [join(dev, 'power_dpm_force_performance_level')]: card.performanceLevel,
      [join(dev, 'pp_od_clk_voltage')]: ppOdClkVoltageText(card),
      [join(hw, 'name')]: 'amdgpu',
      [join(hw, 'temp1_input')]: String(Math.round(card.tempEdgeC * 1000)),
      [join(hw, 'temp2_input')]: String(Math.round(card.tempJunctionC * 1000)),
      [join(hw, 'temp3_input')]: String(Math.round(card.tempMemC * 1000)),
      [join(hw, card.powerFile)]: String(Math.round(card.powerW * 1e6)),
      [join(hw, 'power1_cap')]: String(Math.round(card.powerCapW * 1e6)),
      [join(hw, 'power1_cap_min')]: String(Math.round(card.powerCapMinW * 1e6)),
      [join(hw, 'power1_cap_max')]: String(Math.round(card.powerCapMaxW * 1e6)),
      [join(hw, 'pwm1')]: String(card.pwm),
      [join(hw, 'pwm1_max')]: String(card.pwmMax),
      [join(hw, 'pwm1_min')]: '0',
      [join(hw, 'pwm1_enable')]: String(card.pwmEnable),
      [join(hw, 'fan1_input')]: String(card.fanRpm),
      [join(hw, 'freq1_input')]: String(card.sclkMhz * 1e6),
      [join(hw, 'freq2_input')]: String(card.mclkMhz * 1e6),
    };
    for (const [path, text] of Object.entries(files)) {
      if (this.fifos.has(path) || this.refused.has(path)) continue;
      await writeFile(path, `${text}\n`);
    }
  }
}
