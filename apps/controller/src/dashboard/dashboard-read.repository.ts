import { bucketSnapshots } from '../persistence/chart-series.mapper';
import {
  resolutionFor, type DashboardCommandResult, type DashboardEvent, type DashboardReadStore, type EventFilter, type SeriesPoint, type SeriesResolution,
} from '../persistence/ports/dashboard-read.port';
import type { SqliteDatabase, SqlValue } from '../persistence/sqlite-database';

// The types live with the port (persistence/ports/dashboard-read.port.ts); re-exported for the consumers.
export {
  MINUTE_RANGE_MS, RAW_RANGE_MS, type DashboardCommandResult, type DashboardEvent, type EventFilter, type SeriesPoint, type SeriesResolution,
} from '../persistence/ports/dashboard-read.port';

interface EventRowWithSeq {
  seq: number;
  event_id: string;
  rig_id: string;
  kind: string;
  severity: string;
  reason: string;
  message: string;
  at: number;
  source: string;
}

/**
 * The dashboard's queries over the controller's tables (read only): the fleet-wide event log, command results,
 * and a rig's telemetry as chart points (raw snapshots bucketed, or the rollups), in SQLite.
 */
export class DashboardReadRepository implements DashboardReadStore {
  constructor(private readonly db: SqliteDatabase) {}

  async events(filter: EventFilter): Promise<DashboardEvent[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.rigId) { where.push('rig_id = ?'); params.push(filter.rigId); }
    if (filter.severity && filter.severity.length > 0) { where.push(`severity IN (${filter.severity.map(() => '?').join(', ')})`); params.push(...filter.severity); }
    if (filter.kindPrefix) { where.push('kind LIKE ? ESCAPE \'\\\''); params.push(`${filter.kindPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`); }
    if (filter.since !== undefined) { where.push('at >= ?'); params.push(filter.since); }
    if (filter.afterSeq !== undefined) { where.push('rowid > ?'); params.push(filter.afterSeq); }
    const order = filter.afterSeq !== undefined ? 'rowid ASC' : 'at DESC, rowid DESC';
    const rows = await this.db.all<EventRowWithSeq>(
      `SELECT rowid AS seq, * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`,
      [...params, filter.limit],
    );
    return rows.map((r) => ({
      seq: r.seq, eventId: r.event_id, rigId: r.rig_id, kind: r.kind, severity: r.severity, reason: r.reason, message: r.message, at: r.at, source: r.source,
    }));
  }

  async lastEventSeq(): Promise<number> {
    return (await this.db.get<{ seq: number | null }>('SELECT MAX(rowid) AS seq FROM events'))?.seq ?? 0;
  }

  async commandResults(filter: { rigId?: string; afterSeq?: number; limit: number }): Promise<DashboardCommandResult[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.rigId) { where.push('rig_id = ?'); params.push(filter.rigId); }
    if (filter.afterSeq !== undefined) { where.push('id > ?'); params.push(filter.afterSeq); }
    const rows = await this.db.all<{ id: number; command_id: string; rig_id: string; outcome: string; cause: string; duration_ms: number; finished_at: number | null; received_at: number }>(
      `SELECT * FROM command_results ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${filter.afterSeq !== undefined ? 'ASC' : 'DESC'} LIMIT ?`,
      [...params, filter.limit],
    );
    return rows.map((r) => ({
      seq: r.id, commandId: r.command_id, rigId: r.rig_id, outcome: r.outcome, cause: r.cause, durationMs: r.duration_ms, finishedAt: r.finished_at, receivedAt: r.received_at,
    }));
  }

  async lastCommandResultSeq(): Promise<number> {
    return (await this.db.get<{ seq: number | null }>('SELECT MAX(id) AS seq FROM command_results'))?.seq ?? 0;
  }

  /** Picks the resolution from the range: raw up to 6 h, 1-minute rollups up to 3 days, else 1-hour rollups. */
  static resolutionFor(fromMs: number, toMs: number): SeriesResolution {
    return resolutionFor(fromMs, toMs);
  }

  /**
   * A rig's chart points in [from, to): raw snapshots are grouped into `buckets` equal time slices (per slice: the
   * miners' average hashrate summed, the hottest temperature, the average power summed, the slowest fan); rollups
   * carry hashrate and temperature only (power and fans are not rolled up), so those are null there.
   */
  async series(rigId: string, fromMs: number, toMs: number, resolution: SeriesResolution, buckets = 240): Promise<SeriesPoint[]> {
    if (resolution !== 'raw') {
      const rows = await this.db.all<{ bucket_start: number; hashrate_avg: number | null; temp_max: number | null }>(
        'SELECT bucket_start, hashrate_avg, temp_max FROM rollups WHERE resolution = ? AND rig_id = ? AND bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start',
        [resolution, rigId, fromMs, toMs],
      );
      return rows.map((r) => ({ at: r.bucket_start, hashrateHs: r.hashrate_avg, tempMaxC: r.temp_max, powerW: null, fanMinRpm: null }));
    }
    const rows = await this.db.all<{ collected_at: number; miner_id: string; snapshot: string }>(
      'SELECT collected_at, miner_id, snapshot FROM snapshots WHERE rig_id = ? AND collected_at >= ? AND collected_at < ? ORDER BY collected_at',
      [rigId, fromMs, toMs],
    );
    return bucketSnapshots(rows, fromMs, toMs, buckets);
  }
}
