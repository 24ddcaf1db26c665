/**
 * What a controller tells the others of a snapshot it has just stored (with --mqtt-shared-group each message reaches
 * one controller of the group): enough for their liveness to count it as telemetry that arrived, and for them to
 * read the rig's new status from the shared store.
 */
export interface TelemetryNote {
  readonly rigId: string;
  readonly agentId: string;
  readonly minerId: string;
  readonly seq: number;
  /** When the agent collected it (epoch ms); 0 when unknown. */
  readonly collectedAt: number;
  /** Set when the snapshot carries errors and no data: why the miner could not be read. */
  readonly unreachable?: string;
}

/**
 * Announcements between the controllers of one shared database: after a batch of snapshots is committed, its
 * ingesting controller announces the newest snapshot of each miner; every other controller hears it (never its own).
 * Delivery is best effort (a controller that was disconnected misses what was said meanwhile and is told so through
 * `onGap`, to read everything from the store again): the store stays the truth.
 */
export interface IngestFeed {
  /** Announces stored snapshots, as `replicaId`; resolves when sent (rejects when the database cannot take it). */
  announce(notes: readonly TelemetryNote[]): Promise<void>;
  /** Starts hearing other controllers' announcements. */
  listen(listener: (notes: TelemetryNote[], from: string) => void, onGap: () => void): Promise<void>;
  close(): Promise<void>;
}

export const INGEST_FEED = Symbol('IngestFeed');
