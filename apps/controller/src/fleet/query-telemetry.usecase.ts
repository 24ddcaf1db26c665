import { Inject, Injectable } from '@nestjs/common';
import {
  TelemetryResolution, type MinerSnapshot, type QueryTelemetryRequest, type QueryTelemetryResponse, type TelemetryPoint,
} from '@rigwarden/protocol';
import { systemClock, type Clock } from '@rigwarden/shared';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { type Resolution, type RollupRow } from '../persistence/rollup-repository';
import { ROLLUP_STORE, type RollupStore } from '../persistence/ports/rollup.port';
import { type StoredSnapshot } from '../persistence/telemetry-query.repository';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from '../persistence/ports/telemetry-query.port';
import { FleetError } from './fleet-error';
import { requireRigId, timeRange } from './request-arguments';

const MIN = 60_000;
const HOUR = 60 * MIN;
export const DEFAULT_POINTS = 1000;
export const MAX_POINTS = 10_000;
/** Without `from`: this long before `to`. */
export const DEFAULT_RANGE_MS = HOUR;

/** UNSPECIFIED picks from the range: raw up to 2 h, 1-minute rollups up to 3 days, else 1-hour rollups. */
export function pickResolution(requested: TelemetryResolution, rangeMs: number): TelemetryResolution {
  if (requested !== TelemetryResolution.TELEMETRY_RESOLUTION_UNSPECIFIED) return requested;
  if (rangeMs <= 2 * HOUR) return TelemetryResolution.TELEMETRY_RESOLUTION_RAW;
  if (rangeMs <= 72 * HOUR) return TelemetryResolution.TELEMETRY_RESOLUTION_MINUTE;
  return TelemetryResolution.TELEMETRY_RESOLUTION_HOUR;
}

function present(values: Array<number | undefined>): number[] {
  return values.filter((v): v is number => v !== undefined && Number.isFinite(v));
}

/** A rig-level point from the latest snapshot of each miner at that moment: sums, the hottest board, the slowest fan. */
export function rawPoint(at: number, miners: readonly MinerSnapshot[]): TelemetryPoint {
  const hashrate = present(miners.map((m) => m.hashrate5sHs ?? m.hashrateAvgHs)).reduce((a, b) => a + b, 0);
  const temps = present(miners.flatMap((m) => m.boards.flatMap((b) => [b.boardTempC, b.chipTempC])));
  const fans = present(miners.flatMap((m) => m.fans.map((f) => f.rpm)));
  return {
    at: new Date(at),
    hashrateHs: hashrate,
    hashrateMinHs: hashrate,
    hashrateMaxHs: hashrate,
    tempMaxC: temps.length > 0 ? Math.max(...temps) : 0,
    powerW: present(miners.map((m) => m.powerW)).reduce((a, b) => a + b, 0),
    fanMinRpm: fans.length > 0 ? Math.min(...fans) : 0,
    accepted: present(miners.map((m) => m.accepted)).reduce((a, b) => a + b, 0),
    rejected: present(miners.map((m) => m.rejected)).reduce((a, b) => a + b, 0),
    samples: 1,
  };
}

/** Raw rows to points: each row updates its miner's latest snapshot; the point sums every miner's latest. */
export function rawPoints(rows: readonly StoredSnapshot[]): TelemetryPoint[] {
  const latest = new Map<string, MinerSnapshot>();
  return rows.map((row) => {
    latest.set(row.minerId, row.snapshot);
    return rawPoint(row.collectedAt, [...latest.values()]);
  });
}

/** Rollups carry hashrate and temperature only: power, fans and share counters are 0 at these resolutions. */
function rollupPoint(row: RollupRow): TelemetryPoint {
  return {
    at: new Date(row.bucket_start), hashrateHs: row.hashrate_avg ?? 0, hashrateMinHs: row.hashrate_min ?? 0, hashrateMaxHs: row.hashrate_max ?? 0,
    tempMaxC: row.temp_max ?? 0, powerW: 0, fanMinRpm: 0, accepted: 0, rejected: 0, samples: row.samples,
  };
}

@Injectable()
export class QueryTelemetryUseCase {
  clock: Clock = systemClock;

  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(ROLLUP_STORE) private readonly rollups: RollupStore,
    @Inject(TELEMETRY_QUERY_STORE) private readonly queries: TelemetryQueryStore,
  ) {}

  async execute(request: QueryTelemetryRequest): Promise<QueryTelemetryResponse> {
    requireRigId(request.rigId);
    const { from, to } = timeRange(request, this.clock.now(), DEFAULT_RANGE_MS);
    const limit = request.limit === 0 ? DEFAULT_POINTS : request.limit;
    if (limit > MAX_POINTS) throw new FleetError('invalid_argument', `limit must be at most ${MAX_POINTS}, got ${request.limit}`, 'limit');
    if (!Object.values(TelemetryResolution).includes(request.resolution) || request.resolution < 0) {
      throw new FleetError('invalid_argument', `resolution ${request.resolution} is not a TelemetryResolution`, 'resolution');
    }
    if (!(await this.rigs.getRig(request.rigId))) {
      throw new FleetError('not_found', `no rig "${request.rigId}": the controller has never received telemetry for it`, 'rig_id');
    }
    const resolution = pickResolution(request.resolution, to - from);
    let points: TelemetryPoint[];
    if (resolution === TelemetryResolution.TELEMETRY_RESOLUTION_RAW) {
      points = rawPoints(await this.queries.snapshots(request.rigId, from, to, limit));
    } else {
      const period: Resolution = resolution === TelemetryResolution.TELEMETRY_RESOLUTION_MINUTE ? '1m' : '1h';
      const size = period === '1m' ? MIN : HOUR;
      const rows = await this.rollups.series(request.rigId, period, Math.floor(from / size) * size, to);
      points = rows.slice(-limit).map(rollupPoint);
    }
    return { rigId: request.rigId, resolution, points };
  }
}
