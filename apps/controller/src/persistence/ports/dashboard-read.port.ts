export interface DashboardEvent {
  /** Insertion order (SQLite's rowid, PostgreSQL's events.pos): increases with every stored event, so the stream can send "everything after N". */
  seq: number;
  eventId: string;
  rigId: string;
  kind: string;
  severity: string;
  reason: string;
  message: string;
  at: number;
  source: string;
}

export interface EventFilter {
  rigId?: string;
  /** "info", "warning", "critical"; several comma-separated. */
  severity?: string[];
  /** Prefix of the kind ("policy." matches every policy decision). */
  kindPrefix?: string;
  since?: number;
  afterSeq?: number;
  limit: number;
}

export interface DashboardCommandResult {
  seq: number;
  commandId: string;
  rigId: string;
  outcome: string;
  cause: string;
  durationMs: number;
  finishedAt: number | null;
  receivedAt: number;
}

export type SeriesResolution = 'raw' | '1m' | '1h';

export interface SeriesPoint {
  at: number;
  hashrateHs: number | null;
  tempMaxC: number | null;
  powerW: number | null;
  fanMinRpm: number | null;
}

/** Raw snapshots are read up to this range; longer ranges come from the rollups. */
export const RAW_RANGE_MS = 6 * 3_600_000;
export const MINUTE_RANGE_MS = 3 * 86_400_000;

/** Picks the resolution from the range: raw up to 6 h, 1-minute rollups up to 3 days, else 1-hour rollups. */
export function resolutionFor(fromMs: number, toMs: number): SeriesResolution {
  const range = toMs - fromMs;
  return range <= RAW_RANGE_MS ? 'raw' : range <= MINUTE_RANGE_MS ? '1m' : '1h';
}

/**
 * The dashboard's queries over the controller's tables (read only): the fleet-wide event log, command results,
 * and a rig's telemetry as chart points (raw snapshots bucketed, or the rollups).
 */
export interface DashboardReadStore {
  /** Newest first; oldest first after a stream position (afterSeq). */
  events(filter: EventFilter): Promise<DashboardEvent[]>;
  lastEventSeq(): Promise<number>;
  /** Newest first; oldest first after a stream position (afterSeq). */
  commandResults(filter: { rigId?: string; afterSeq?: number; limit: number }): Promise<DashboardCommandResult[]>;
  lastCommandResultSeq(): Promise<number>;
  /**
   * A rig's chart points in [from, to): raw snapshots are grouped into `buckets` equal time slices (per slice: the
   * miners' average hashrate summed, the hottest temperature, the average power summed, the slowest fan); rollups
   * carry hashrate and temperature only (power and fans are not rolled up), so those are null there.
   */
  series(rigId: string, fromMs: number, toMs: number, resolution: SeriesResolution, buckets?: number): Promise<SeriesPoint[]>;
}

export const DASHBOARD_READ_STORE = Symbol('DashboardReadStore');
