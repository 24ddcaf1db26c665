import { bucketSnapshots, type RawSeriesRow } from '../chart-series.mapper';
import type { DashboardCommandResult, DashboardEvent, DashboardReadStore, EventFilter, SeriesPoint, SeriesResolution } from '../ports/dashboard-read.port';
import type { PgValue, PostgresDatabase } from './postgres-database';

interface EventRow { pos: number; event_id: string; rig_id: string; kind: string; severity: string; reason: string; message: string; at: number; source: string }
interface ResultRow { id: number; command_id: string; rig_id: string; outcome: string; cause: string; duration_ms: number; finished_at: number | null; received_at: number }

/** The dashboard's read-only queries in PostgreSQL: events.pos and command_results.id are the stream positions. */
export class PostgresDashboardReadStore implements DashboardReadStore {
  constructor(private readonly db: PostgresDatabase) {}

  async events(filter: EventFilter): Promise<DashboardEvent[]> {
    const where: string[] = [];
    const params: PgValue[] = [];
    const p = (v: PgValue): string => `$${params.push(v)}`;
    if (filter.rigId) where.push(`rig_id = ${p(filter.rigId)}`);
    if (filter.severity && filter.severity.length > 0) where.push(`severity = ANY(${p([...filter.severity])}::text[])`);
    if (filter.kindPrefix) where.push(`kind LIKE ${p(`${filter.kindPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)} ESCAPE '\\'`);
    if (filter.since !== undefined) where.push(`at >= ${p(filter.since)}`);
    if (filter.afterSeq !== undefined) where.push(`pos > ${p(filter.afterSeq)}`);
    const order = filter.afterSeq !== undefined ? 'pos ASC' : 'at DESC, pos DESC';
    const rows = await this.db.all<EventRow>(
      `SELECT pos, event_id, rig_id, kind, severity, reason, message, at, source FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${p(filter.limit)}`,
      params,
    );
    return rows.map((r) => ({
      seq: r.pos, eventId: r.event_id, rigId: r.rig_id, kind: r.kind, severity: r.severity, reason: r.reason, message: r.message, at: r.at, source: r.source,
    }));
  }

  async lastEventSeq(): Promise<number> {
    return (await this.db.get<{ seq: number | null }>('SELECT MAX(pos) AS seq FROM events'))?.seq ?? 0;
  }

  async commandResults(filter: { rigId?: string; afterSeq?: number; limit: number }): Promise<DashboardCommandResult[]> {
    const where: string[] = [];
    const params: PgValue[] = [];
    const p = (v: PgValue): string => `$${params.push(v)}`;
    if (filter.rigId) where.push(`rig_id = ${p(filter.rigId)}`);
    if (filter.afterSeq !== undefined) where.push(`id > ${p(filter.afterSeq)}`);
    const rows = await this.db.all<ResultRow>(
      `SELECT * FROM command_results ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${filter.afterSeq !== undefined ? 'ASC' : 'DESC'} LIMIT ${p(filter.limit)}`,
      params,
    );
    return rows.map((r) => ({
      seq: r.id, commandId: r.command_id, rigId: r.rig_id, outcome: r.outcome, cause: r.cause, durationMs: r.duration_ms, finishedAt: r.finished_at, receivedAt: r.received_at,
    }));
  }

  async lastCommandResultSeq(): Promise<number> {
    return (await this.db.get<{ seq: number | null }>('SELECT MAX(id) AS seq FROM command_results'))?.seq ?? 0;
  }

  async series(rigId: string, fromMs: number, toMs: number, resolution: SeriesResolution, buckets = 240): Promise<SeriesPoint[]> {
    if (resolution !== 'raw') {
      const rows = await this.db.all<{ bucket_start: number; hashrate_avg: number | null; temp_max: number | null }>(
        'SELECT bucket_start, hashrate_avg, temp_max FROM rollups WHERE resolution = $1 AND rig_id = $2 AND bucket_start >= $3 AND bucket_start < $4 ORDER BY bucket_start',
        [resolution, rigId, fromMs, toMs],
      );
      return rows.map((r) => ({ at: r.bucket_start, hashrateHs: r.hashrate_avg, tempMaxC: r.temp_max, powerW: null, fanMinRpm: null }));
    }
    const rows = await this.db.all<RawSeriesRow>(
      'SELECT collected_at, miner_id, snapshot FROM snapshots WHERE rig_id = $1 AND collected_at >= $2 AND collected_at < $3 ORDER BY collected_at',
      [rigId, fromMs, toMs],
    );
    return bucketSnapshots(rows, fromMs, toMs, buckets);
  }
}
