import type { MinerSnapshot } from '@rigwarden/protocol';

export interface StoredSnapshot {
  minerId: string;
  collectedAt: number;
  snapshot: MinerSnapshot;
}

export interface RigSummary {
  rigId: string;
  online: boolean;
  liveness: string;
  labels: Record<string, string>;
}

/** Read-side queries of the API: raw snapshots over a range, rig summaries, quarantine state. Nothing here writes. */
export interface TelemetryQueryStore {
  /** A rig's raw snapshots with from <= collected_at < to, oldest first; the newest `limit` when there are more. */
  snapshots(rigId: string, from: number, to: number, limit: number): Promise<StoredSnapshot[]>;
  /** Rigs without their miners, ordered by id. */
  rigSummaries(afterRigId: string, limit: number): Promise<RigSummary[]>;
  /** Of these rigs, the ones quarantined: a policy.quarantine event later than any release. */
  quarantined(rigIds: readonly string[]): Promise<Set<string>>;
}

export const TELEMETRY_QUERY_STORE = Symbol('TelemetryQueryStore');
