import type { CollectContext, GpuTunable, GpuTuner, MinerDriver, MinerEndpoint, MinerReading } from '@rigwarden/drivers-core';
import { Board, BoardStatus, type CollectError } from '@rigwarden/protocol';
import { GpuError } from '../gpu-error';
import type { GpuSensor, GpuSensorReading } from './gpu-sensor';

export interface SensorMerge {
  reading: MinerReading;
  /** Miner boards with no OS sensor reading for their bus id. */
  unmatchedBoards: number[];
}

function toCollectError(err: unknown, source: string): CollectError {
  const gpu = err instanceof GpuError ? err : undefined;
  return {
    kind: gpu?.kind ?? 'internal',
    message: err instanceof Error ? err.message : String(err),
    statusLetter: '',
    statusCode: undefined,
    command: gpu?.context.command ?? source,
  };
}

export interface MergeOptions {
  /**
   * For miners that report no bus ids (TeamRedMiner builds without one, T-Rex API 1.x):
   * when no board has a bus id and the miner has exactly as many GPUs as the OS, the
   * miner's GPU i is taken to be the OS's i-th GPU in PCI bus order. True when the miner
   * enumerates in bus order: AMD OpenCL does; CUDA does only with CUDA_DEVICE_ORDER=PCI_BUS_ID
   * (set it in the supervised miner's env). Off by default: a wrong guess swaps sensors.
   */
  assumePciOrder?: boolean;
}

function assignPciOrder(boards: Board[], buses: (string | undefined)[]): Board[] {
  const known = [...new Set(buses.filter((b): b is string => !!b))].sort();
  if (boards.length === 0 || boards.some((b) => b.pciBusId !== '') || known.length !== boards.length) return boards;
  const order = [...boards].sort((a, b) => a.index - b.index);
  return boards.map((b) => Board.fromPartial({ ...b, pciBusId: known[order.indexOf(b)]! }));
}

/**
 * Puts the OS sensor readings onto the miner's boards, matched by PCI bus id (the
 * miner's GPU order and the OS's need not agree). The OS values win: they are read
 * from the driver, the miner's are second-hand and often 0 for "unknown". A board
 * whose GPU the OS reports lost becomes dead. Boards without a bus id are left as
 * the miner reported them, unless `assumePciOrder` is set (see MergeOptions).
 */
export function mergeGpuSensors(reading: MinerReading, gpus: GpuSensorReading[], lost: GpuError[] = [], options: MergeOptions = {}): SensorMerge {
  const byBus = new Map(gpus.map((g) => [g.pciBusId, g]));
  const lostBuses = new Set(lost.filter((e) => e.kind === 'gpu_lost').map((e) => e.context.pciBusId));
  const unmatched: number[] = [];
  const boards = (options.assumePciOrder ? assignPciOrder(reading.boards, [...byBus.keys(), ...lostBuses]) : reading.boards).map((board) => {
    const os = board.pciBusId ? byBus.get(board.pciBusId) : undefined;
    if (board.pciBusId && lostBuses.has(board.pciBusId)) {
      return Board.fromPartial({ ...board, status: BoardStatus.BOARD_STATUS_DEAD });
    }
    if (!os) {
      unmatched.push(board.index);
      return board;
    }
    return Board.fromPartial({
      ...board,
      name: board.name || os.name || '',
      boardTempC: os.tempC ?? board.boardTempC,
      chipTempC: os.hotspotTempC ?? board.chipTempC,
      fanPercent: os.fanPercent ?? board.fanPercent,
      powerW: os.powerW ?? board.powerW,
      coreClockMhz: os.coreClockMhz ?? board.coreClockMhz,
      memoryClockMhz: os.memoryClockMhz ?? board.memoryClockMhz,
    });
  });
  const powers = boards.map((b) => b.powerW);
  const powerW = powers.length > 0 && powers.every((p) => p !== undefined) ? (powers as number[]).reduce((a, b) => a + b, 0) : reading.powerW;
  return { reading: { ...reading, boards, powerW }, unmatchedBoards: unmatched };
}

/**
 * A miner driver plus the rig's OS GPU sensors (and tuners): the miner API and the
 * sensors are read in parallel and merged by PCI bus id. A sensor failure never
 * fails the collect; it is added to the reading's errors (kind gpu_lost, timeout, ...).
 */
export class SensorEnrichedDriver implements MinerDriver, GpuTunable {
  readonly name: string;
  readonly endpoint: MinerEndpoint;

  constructor(
    private readonly inner: MinerDriver,
    private readonly sensors: GpuSensor[],
    /** The rig's GPU tuners, offered through the GpuTunable capability. */
    private readonly tuners: readonly GpuTuner[] = [],
    private readonly mergeOptions: MergeOptions = {},
  ) {
    this.name = inner.name;
    this.endpoint = inner.endpoint;
  }

  gpuTuners(): readonly GpuTuner[] {
    return this.tuners;
  }

  /** The wrapped miner driver, for its own capabilities (restart, pool control). */
  unwrap(): MinerDriver {
    return this.inner;
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const [reading, ...sensorResults] = await Promise.all([
      this.inner.collect(ctx),
      ...this.sensors.map((s) => s.read({ signal: ctx.signal }).then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, err }))),
    ]);
    const gpus: GpuSensorReading[] = [];
    const errors: CollectError[] = [...reading.errors];
    const gpuErrors: GpuError[] = [];
    sensorResults.forEach((result, i) => {
      if (result.ok) {
        gpus.push(...result.r.gpus);
        gpuErrors.push(...result.r.errors);
        errors.push(...result.r.errors.map((e) => toCollectError(e, this.sensors[i]!.source)));
      } else {
        errors.push(toCollectError(result.err, this.sensors[i]!.source));
      }
    });
    const merged = mergeGpuSensors(reading, gpus, gpuErrors, this.mergeOptions);
    return { ...merged.reading, errors };
  }
}
