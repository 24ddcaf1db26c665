import { GpuError, type GpuErrorContext } from '../gpu-error';
import { runCommand, type RunResult } from '../exec/run-command';
import { normalisePciBusId } from '../pci-bus-id';
import type { GpuSensor, GpuSensorReading, GpuSensorResult } from './gpu-sensor';

/** The fields the sensor asks for, when this nvidia-smi knows them (see --help-query-gpu). */
export const NVIDIA_QUERY_FIELDS = [
  'index', 'pci.bus_id', 'temperature.gpu', 'temperature.memory', 'fan.speed', 'power.draw', 'power.limit',
  'clocks.sm', 'clocks.mem', 'utilization.gpu', 'name',
] as const;
type Field = (typeof NVIDIA_QUERY_FIELDS)[number];
const REQUIRED: readonly Field[] = ['index', 'pci.bus_id'];

/** Values nvidia-smi prints instead of a number: all mean "absent", never 0. */
const ABSENT = /^\[?(N\/A|Not Supported|Unknown Error|GPU is lost|Requires Pstate Change|Insufficient Permissions)\]?$|^ERR!$|^$/i;

export interface NvidiaSmiOptions {
  /** Path to nvidia-smi; "nvidia-smi" (from PATH) by default. */
  binary?: string;
  /** Deadline for each nvidia-smi run. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Classifies nvidia-smi's whole-run failures into typed errors; undefined when the run is usable. */
export function classifyNvidiaSmiFailure(result: RunResult, context: GpuErrorContext): GpuError | undefined {
  const text = `${result.stdout}\n${result.stderr}`;
  const output = text.trim().slice(0, 300);
  if (/couldn't communicate with the NVIDIA driver/i.test(text) || result.exitCode === 9) {
    return new GpuError('driver_not_loaded', 'nvidia-smi could not communicate with the NVIDIA driver (driver not loaded?)', { ...context, exitCode: result.exitCode, output });
  }
  if (/Failed to initialize NVML/i.test(text)) {
    // "Driver/library version mismatch" after a driver upgrade without a reboot, and friends.
    return new GpuError('driver_not_loaded', `nvidia-smi cannot use the driver: ${firstLine(text)}`, { ...context, exitCode: result.exitCode, output });
  }
  if (/No devices were found/i.test(text)) return new GpuError('no_gpu', 'nvidia-smi found no NVIDIA GPU', { ...context, exitCode: result.exitCode, output });
  if (/Insufficient Permissions|not permitted|requires root/i.test(text) || result.exitCode === 4) {
    return new GpuError('permission_denied', firstLine(text), { ...context, exitCode: result.exitCode, output });
  }
  if (/is not a valid field to query/i.test(text)) return new GpuError('unsupported', firstLine(text), { ...context, exitCode: result.exitCode, output });
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'no output';
}

/** Field names from `nvidia-smi --help-query-gpu` ("pci.bus_id" or "gpu_bus_id" lines). */
export function parseHelpQueryGpu(text: string): Set<string> {
  const fields = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('"')) continue;
    for (const match of line.matchAll(/"([a-z0-9_.]+)"/gi)) fields.add(match[1]!);
  }
  return fields;
}

function value(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (ABSENT.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parses `--format=csv,noheader,nounits` output of the given fields. Lines such as
 * "Unable to determine the device handle for GPU 0000:03:00.0: GPU is lost." become
 * gpu_lost errors while the other GPUs' rows are kept.
 */
export function parseNvidiaSmiCsv(text: string, fields: readonly string[], context: GpuErrorContext = {}): GpuSensorResult {
  const gpus: GpuSensorReading[] = [];
  const errors: GpuError[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    const handle = /device handle for GPU\s*([0-9a-f:.]+):?\s*(.*)$/i.exec(line);
    if (handle) {
      const pciBusId = normalisePciBusId(handle[1]!.replace(/:$/, '')) ?? handle[1]!;
      const reason = handle[2]!.trim();
      errors.push(new GpuError(/lost/i.test(reason) ? 'gpu_lost' : 'command_failed',
        `nvidia-smi cannot reach the GPU: ${reason || 'unknown error'}`, { ...context, pciBusId, output: line }));
      continue;
    }
    let cells = line.split(',').map((c) => c.trim());
    // The name is queried last: a comma inside it must not shift the other columns.
    if (cells.length > fields.length && fields[fields.length - 1] === 'name') {
      cells = [...cells.slice(0, fields.length - 1), cells.slice(fields.length - 1).join(', ')];
    }
    if (cells.length !== fields.length) {
      errors.push(new GpuError('parse', `expected ${fields.length} CSV values, got ${cells.length}: ${JSON.stringify(line.slice(0, 120))}`, { ...context, output: line }));
      continue;
    }
    const row = new Map(fields.map((f, i) => [f, cells[i]!]));
    const index = value(row.get('index'));
    const pciBusId = normalisePciBusId(row.get('pci.bus_id'));
    if (index === undefined || pciBusId === undefined) {
      errors.push(new GpuError('parse', `row without index or PCI bus id: ${JSON.stringify(line.slice(0, 120))}`, { ...context, output: line }));
      continue;
    }
    const gpuLost = cells.some((c) => /GPU is lost/i.test(c));
    if (gpuLost) errors.push(new GpuError('gpu_lost', 'nvidia-smi reports the GPU as lost', { ...context, gpuIndex: index, pciBusId }));
    const name = row.get('name');
    gpus.push({
      vendor: 'nvidia', index, pciBusId,
      name: name && !ABSENT.test(name) ? name : undefined,
      tempC: value(row.get('temperature.gpu')),
      memoryTempC: value(row.get('temperature.memory')),
      fanPercent: value(row.get('fan.speed')),
      powerW: value(row.get('power.draw')),
      powerLimitW: value(row.get('power.limit')),
      coreClockMhz: value(row.get('clocks.sm')),
      memoryClockMhz: value(row.get('clocks.mem')),
      utilizationPercent: value(row.get('utilization.gpu')),
    });
  }
  return { gpus, errors };
}

/**
 * NVIDIA GPUs through `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`.
 * The first read asks `--help-query-gpu` which fields this driver knows and queries
 * only those (an unknown field fails the whole query). Every run has a deadline.
 */
export class NvidiaSmiSensor implements GpuSensor {
  readonly source = 'nvidia-smi';
  private fields: string[] | undefined;
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: NvidiaSmiOptions = {}) {
    this.binary = options.binary ?? 'nvidia-smi';
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** The query fields this nvidia-smi supports, learned once. */
  async supportedFields(signal?: AbortSignal): Promise<string[]> {
    if (this.fields) return this.fields;
    const context: GpuErrorContext = { command: 'nvidia-smi --help-query-gpu' };
    const result = await runCommand(this.binary, ['--help-query-gpu'], { timeoutMs: this.timeoutMs, signal, env: this.options.env, context });
    const failure = classifyNvidiaSmiFailure(result, context);
    if (failure) throw failure;
    const known = parseHelpQueryGpu(result.stdout);
    if (known.size === 0) throw new GpuError('parse', 'nvidia-smi --help-query-gpu listed no fields', { ...context, output: result.stdout.slice(0, 200) });
    const missing = REQUIRED.filter((f) => !known.has(f));
    if (missing.length > 0) throw new GpuError('unsupported', `this nvidia-smi cannot query ${missing.join(', ')}`, context);
    this.fields = NVIDIA_QUERY_FIELDS.filter((f) => known.has(f));
    return this.fields;
  }

  async read(options: { signal?: AbortSignal } = {}): Promise<GpuSensorResult> {
    const fields = await this.supportedFields(options.signal);
    const args = [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
    const context: GpuErrorContext = { command: 'nvidia-smi --query-gpu' };
    const result = await runCommand(this.binary, args, { timeoutMs: this.timeoutMs, signal: options.signal, env: this.options.env, context });
    const failure = classifyNvidiaSmiFailure(result, context);
    if (failure) throw failure;
    const parsed = parseNvidiaSmiCsv(`${result.stdout}\n${result.stderr}`, fields, context);
    if (result.exitCode !== 0 && parsed.gpus.length === 0 && parsed.errors.length === 0) {
      throw new GpuError('command_failed', `exit ${result.exitCode}: ${firstLine(result.stdout + result.stderr)}`, { ...context, exitCode: result.exitCode });
    }
    return parsed;
  }
}
