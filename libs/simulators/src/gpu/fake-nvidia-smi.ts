import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A field value: a number, or what nvidia-smi prints instead ("[N/A]", "[Not Supported]"). */
export type FakeValue = number | string;

export interface FakeNvidiaGpu {
  index: number;
  /** nvidia-smi spelling: "00000000:01:00.0". */
  pciBusId: string;
  name: string;
  tempC: FakeValue;
  memoryTempC: FakeValue;
  fanPercent: FakeValue;
  powerDrawW: FakeValue;
  powerLimitW: number;
  powerDefaultLimitW: number;
  powerMinLimitW: number;
  powerMaxLimitW: number;
  smClockMhz: FakeValue;
  memClockMhz: FakeValue;
  maxSmClockMhz: number;
  maxMemClockMhz: number;
  utilizationPercent: FakeValue;
  /** Locked clocks set with -lgc / -lmc, null when reset. */
  lockedGpuClocks: [number, number] | null;
  lockedMemClocks: [number, number] | null;
  /** -lgc/-lmc supported (Volta and later). */
  clockLockSupported: boolean;
  /** Fell off the bus: "Unable to determine the device handle ... GPU is lost". */
  lost: boolean;
  /** nvidia-settings attributes: clock offsets, fan control. */
  coreOffsetMhz: number;
  memOffsetMhz: number;
  fanControl: 0 | 1;
  targetFanPercent: number | null;
}

export interface FakeNvidiaState {
  driverLoaded: boolean;
  /** Every run blocks forever (a GPU fault that hangs the driver). */
  hang: boolean;
  /** Runs as root: -pl, -lgc and -lmc need it. */
  root: boolean;
  /** Query fields this "driver version" knows; the rest are "not a valid field to query". */
  knownFields: string[];
  /** The X display nvidia-settings can reach (e.g. ":0"); null = no X server. */
  xDisplay: string | null;
  gpus: FakeNvidiaGpu[];
}

export const FAKE_NVIDIA_FIELDS = [
  'timestamp', 'driver_version', 'count', 'name', 'gpu_name', 'index', 'pci.bus_id', 'gpu_bus_id', 'uuid', 'fan.speed',
  'temperature.gpu', 'temperature.memory', 'power.draw', 'power.limit', 'power.default_limit', 'power.min_limit',
  'power.max_limit', 'enforced.power.limit', 'clocks.sm', 'clocks.mem', 'clocks.max.sm', 'clocks.max.mem', 'utilization.gpu',
];

export function defaultFakeNvidiaGpu(index: number): FakeNvidiaGpu {
  return {
    index, pciBusId: `00000000:${(index + 1).toString(16).padStart(2, '0').toUpperCase()}:00.0`, name: 'NVIDIA GeForce RTX 3070',
    tempC: 60 + index, memoryTempC: '[N/A]', fanPercent: 70, powerDrawW: 118.5, powerLimitW: 220, powerDefaultLimitW: 220,
    powerMinLimitW: 100, powerMaxLimitW: 240, smClockMhz: 1500, memClockMhz: 7000, maxSmClockMhz: 2100, maxMemClockMhz: 7001,
    utilizationPercent: 100, lockedGpuClocks: null, lockedMemClocks: null, clockLockSupported: true, lost: false,
    coreOffsetMhz: 0, memOffsetMhz: 0, fanControl: 0, targetFanPercent: null,
  };
}

/**
 * The fake tools, run as real processes: one Node script, installed as
 * `nvidia-smi` and `nvidia-settings`, reading and writing the state file, and
 * appending every argv to a calls log. Output follows the real tools' wording.
 */
const SCRIPT = String.raw`
const fs = require('fs');
const path = require('path');
const STATE = process.env.FAKE_NVIDIA_STATE || __STATE__;
const CALLS = STATE + '.calls';
const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
fs.appendFileSync(CALLS, JSON.stringify([tool, ...args]) + '\n');
const state = JSON.parse(fs.readFileSync(STATE, 'utf8'));
const save = () => fs.writeFileSync(STATE, JSON.stringify(state, null, 2));
const out = (s) => process.stdout.write(s + '\n');
if (state.hang) { setInterval(() => {}, 1 << 30); return; }
const busOf = (g) => g.pciBusId;
const fmt = (v) => typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v;

if (tool === 'nvidia-settings') {
  const ci = args.indexOf('-c');
  const display = ci >= 0 ? args[ci + 1] : process.env.DISPLAY;
  if (!state.xDisplay || display !== state.xDisplay) {
    out('ERROR: The control display is undefined; please run ' + '\x60nvidia-settings --help\x60' + ' for usage information.');
    process.exit(1);
  }
  const ATTR = { GPUGraphicsClockOffsetAllPerformanceLevels: ['coreOffsetMhz', -1000, 1000], GPUMemoryTransferRateOffsetAllPerformanceLevels: ['memOffsetMhz', -2000, 6000], GPUFanControlState: ['fanControl', 0, 1], GPUTargetFanSpeed: ['targetFanPercent', 0, 100] };
  for (let i = 0; i < args.length; i++) {
    const op = args[i];
    if (op !== '-a' && op !== '-q') continue;
    const spec = args[++i] || '';
    const m = /^\[(gpu|fan):(\d+)\]\/(\w+)(?:=(-?\d+))?$/.exec(spec);
    if (!m || !ATTR[m[3]]) { out("ERROR: Error parsing assignment '" + spec + "'."); process.exit(1); }
    const [key, lo, hi] = ATTR[m[3]];
    const gpu = state.gpus.find((g) => g.index === Number(m[2]));
    if (!gpu) { out("ERROR: Error resolving target specification '" + m[1] + ':' + m[2] + "'."); process.exit(1); }
    if (op === '-q') {
      out("  Attribute '" + m[3] + "' (rig:0[" + m[1] + ':' + m[2] + ']): ' + (gpu[key] === null ? 0 : gpu[key]) + '.');
      out("    The valid values for '" + m[3] + "' are in the range " + lo + ' - ' + hi + ' (inclusive).');
      continue;
    }
    const v = Number(m[4]);
    if (v < lo || v > hi) { out("ERROR: Error assigning value " + v + " to attribute '" + m[3] + "' (rig:0[" + m[1] + ':' + m[2] + ']) as specified in assignment ' + "'" + spec + "' (Invalid value)."); process.exit(1); }
    gpu[key] = v;
    out("  Attribute '" + m[3] + "' (rig:0[" + m[1] + ':' + m[2] + ']) assigned value ' + v + '.');
  }
  save();
  process.exit(0);
}

// nvidia-smi
if (!state.driverLoaded) {
  out("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.");
  out('');
  process.exit(9);
}
if (args.includes('--help-query-gpu')) {
  out('List of valid properties to query for the switch "--query-gpu=":');
  out('');
  for (const f of state.knownFields) {
    if (f === 'gpu_bus_id' || f === 'gpu_name') continue;
    const alias = f === 'pci.bus_id' ? ' or "gpu_bus_id"' : f === 'name' ? ' or "gpu_name"' : '';
    out('"' + f + '"' + alias);
    out('Description of ' + f + '.');
    out('');
  }
  process.exit(0);
}
let selected = state.gpus;
const ii = args.indexOf('-i');
if (ii >= 0) {
  const id = args[ii + 1];
  selected = state.gpus.filter((g) => String(g.index) === id || g.pciBusId.toLowerCase() === String(id).toLowerCase());
  if (selected.length === 0) { out('No devices were found'); process.exit(6); }
}
const query = args.find((a) => a.startsWith('--query-gpu='));
if (query) {
  const fields = query.slice('--query-gpu='.length).split(',');
  for (const f of fields) {
    if (!state.knownFields.includes(f)) { out('Field "' + f + '" is not a valid field to query.'); out(''); process.exit(2); }
  }
  let lost = false;
  for (const g of selected) {
    if (g.lost) { lost = true; out('Unable to determine the device handle for GPU ' + busOf(g) + ': GPU is lost.  Reboot the system to recover this GPU'); continue; }
    const row = fields.map((f) => {
      switch (f) {
        case 'index': return g.index;
        case 'pci.bus_id': case 'gpu_bus_id': return g.pciBusId;
        case 'name': case 'gpu_name': return g.name;
        case 'temperature.gpu': return g.tempC;
        case 'temperature.memory': return g.memoryTempC;
        case 'fan.speed': return g.fanPercent;
        case 'power.draw': return g.powerDrawW;
        case 'power.limit': case 'enforced.power.limit': return g.powerLimitW;
        case 'power.default_limit': return g.powerDefaultLimitW;
        case 'power.min_limit': return g.powerMinLimitW;
        case 'power.max_limit': return g.powerMaxLimitW;
        case 'clocks.sm': return g.smClockMhz;
        case 'clocks.mem': return g.memClockMhz;
        case 'clocks.max.sm': return g.maxSmClockMhz;
        case 'clocks.max.mem': return g.maxMemClockMhz;
        case 'utilization.gpu': return g.utilizationPercent;
        default: return '[N/A]';
      }
    });
    out(row.map(fmt).join(', '));
  }
  process.exit(lost ? 15 : 0);
}
const pl = args.indexOf('-pl');
const lgc = args.indexOf('-lgc');
const lmc = args.indexOf('-lmc');
if (pl >= 0 || lgc >= 0 || lmc >= 0 || args.includes('-rgc') || args.includes('-rmc')) {
  if (!state.root) { out('Insufficient Permissions'); out('Terminating early due to previous errors.'); process.exit(4); }
  for (const g of selected) {
    if (g.lost) { out('Unable to determine the device handle for GPU ' + busOf(g) + ': GPU is lost.  Reboot the system to recover this GPU'); process.exit(15); }
    if (pl >= 0) {
      const w = Number(args[pl + 1]);
      if (!(w >= g.powerMinLimitW && w <= g.powerMaxLimitW)) {
        out('Provided power limit ' + w.toFixed(2) + ' W is not a valid power limit which should be between ' + g.powerMinLimitW.toFixed(2) + ' W and ' + g.powerMaxLimitW.toFixed(2) + ' W for GPU ' + busOf(g));
        out('Terminating early due to previous errors.');
        process.exit(2);
      }
      const from = g.powerLimitW;
      g.powerLimitW = w;
      out('Power limit for GPU ' + busOf(g) + ' was set to ' + w.toFixed(2) + ' W from ' + from.toFixed(2) + ' W.');
    }
    for (const [flag, key, what] of [[lgc, 'lockedGpuClocks', 'GPU'], [lmc, 'lockedMemClocks', 'memory']]) {
      if (flag < 0) continue;
      if (!g.clockLockSupported) { out('Setting locked ' + what + ' clocks is not supported for GPU ' + busOf(g) + '.'); out('Treating as warning and moving on.'); process.exit(3); }
      const [a, b] = String(args[flag + 1]).split(',').map(Number);
      g[key] = [a, b];
      out(what + ' clocks set to "(' + (what === 'GPU' ? 'gpuClkMin ' : 'memClkMin ') + a + ', ' + (what === 'GPU' ? 'gpuClkMax ' : 'memClkMax ') + b + ')" for GPU ' + busOf(g));
    }
    if (args.includes('-rgc')) { g.lockedGpuClocks = null; out('All done.'); }
    if (args.includes('-rmc')) { g.lockedMemClocks = null; out('All done.'); }
  }
  save();
  out('All done.');
  process.exit(0);
}
out('fake nvidia-smi: unsupported arguments ' + args.join(' '));
process.exit(2);
`;

/**
 * Installs fake `nvidia-smi` and `nvidia-settings` executables in a temp dir,
 * driven by a JSON state file, so tests run the real path: spawn, parse the output.
 */
export class FakeNvidiaSmi {
  private constructor(
    readonly dir: string,
    readonly nvidiaSmiPath: string,
    readonly nvidiaSettingsPath: string,
    readonly stateFile: string,
  ) {}

  static async create(state: Partial<FakeNvidiaState> = {}, dir?: string): Promise<FakeNvidiaSmi> {
    const root = dir ?? await mkdtemp(join(tmpdir(), 'rigwarden-fake-nvidia-'));
    const stateFile = join(root, 'state.json');
    const script = `#!${process.execPath}\n'use strict';\n${SCRIPT.replace('__STATE__', JSON.stringify(stateFile))}`;
    const smi = join(root, 'nvidia-smi');
    const settings = join(root, 'nvidia-settings');
    await writeFile(smi, script);
    await writeFile(settings, script);
    await chmod(smi, 0o755);
    await chmod(settings, 0o755);
    const fake = new FakeNvidiaSmi(root, smi, settings, stateFile);
    await fake.write({
      driverLoaded: true, hang: false, root: true, knownFields: FAKE_NVIDIA_FIELDS, xDisplay: null,
      gpus: [defaultFakeNvidiaGpu(0), defaultFakeNvidiaGpu(1)], ...state,
    });
    await writeFile(`${stateFile}.calls`, '');
    return fake;
  }

  async read(): Promise<FakeNvidiaState> {
    return JSON.parse(await readFile(this.stateFile, 'utf8')) as FakeNvidiaState;
  }

  async write(state: FakeNvidiaState): Promise<void> {
    await writeFile(this.stateFile, JSON.stringify(state, null, 2));
  }

  /** Reads the state, lets the test change it, writes it back. */
  async update(change: (state: FakeNvidiaState) => void): Promise<FakeNvidiaState> {
    const state = await this.read();
    change(state);
    await this.write(state);
    return state;
  }

  /** Every run so far: [tool, ...argv]. */
  async calls(): Promise<string[][]> {
    const text = await readFile(`${this.stateFile}.calls`, 'utf8');
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as string[]);
  }

  async clearCalls(): Promise<void> {
    await writeFile(`${this.stateFile}.calls`, '');
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
