import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ListRigsRequest, type Rig } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import { GetRigUseCase } from '../fleet/get-rig.usecase';
import { ListRigsUseCase, MAX_PAGE_SIZE } from '../fleet/list-rigs.usecase';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { LivenessService } from '../liveness/liveness.service';
import { overview, queryRigs, summarise, type FleetOverview, type RigQuery, type RigSummary } from './rig-summary';

/** What changed in one coalescing window. `reload` replaces `rigs` when too many rigs changed to list them. */
export interface FleetChange {
  rigs: RigSummary[];
  reload: boolean;
  changed: number;
  overview: FleetOverview;
}

/** More changed rigs than this in one window: the stream says "reload" instead of listing them. */
export const MAX_LISTED_CHANGES = 500;
/**
 * Changed rigs are re-read this many at a time, the event loop getting a turn between two steps: a fleet where
 * thousands of rigs change every second must not hold up ingest and the policies for the whole refresh (10,000
 * rigs re-read in one step held it for 100-200 ms, the failover bench's p99).
 */
const REFRESH_STEP = 250;
/** The window grows to this many times the last refresh's duration, so refreshing takes at most a third of the time. */
const WINDOW_PER_REFRESH = 3;

/**
 * The dashboard's read model of the fleet: every rig's latest state and its table row, kept in memory so that a
 * 10,000-rig table sorts and filters in milliseconds. Loaded through the fleet use cases at start, refreshed when
 * ingest stores new status, changes coalesced into one notification per window (1 s, longer while refreshes are
 * slow: a 10,000-rig fleet that changes all the time is re-read every ~2 s).
 */
@Injectable()
export class FleetViewService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.dashboard');
  private readonly rigs = new Map<string, Rig>();
  private readonly summaries = new Map<string, RigSummary>();
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<(change: FleetChange) => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private stopped = false;
  private cachedOverview: FleetOverview | undefined;
  private lastRefreshMs = 0;
  windowMs = 1000;

  constructor(
    @Inject(ListRigsUseCase) private readonly listRigs: ListRigsUseCase,
    @Inject(GetRigUseCase) private readonly getRig: GetRigUseCase,
    @Inject(TelemetryIngestService) private readonly ingest: TelemetryIngestService,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(LivenessService) private readonly liveness: Pick<LivenessService, 'onChanged'>,
  ) {}

  async onModuleInit(): Promise<void> {
    this.ingest.onRigUpdated((rigId) => this.markDirty(rigId));
    // Going stale or offline comes from the controller's sweep, not from ingest.
    this.liveness.onChanged((rigId) => this.markDirty(rigId));
    // A new fleet spec can move rigs between groups.
    this.fleet.onApplied((rigIds) => { for (const id of rigIds) this.markDirty(id); });
    await this.reloadAll();
  }

  onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
    return this.refreshing;
  }

  /** Called for each change window; returns the unsubscribe function. */
  subscribe(listener: (change: FleetChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  query(q: RigQuery): { total: number; rigs: RigSummary[] } {
    return queryRigs(this.summaries.values(), q);
  }

  overview(): FleetOverview {
    this.cachedOverview ??= overview(this.rigs.values(), this.summaries.values());
    return this.cachedOverview;
  }

  rig(rigId: string): Rig | undefined {
    return this.rigs.get(rigId);
  }

  summary(rigId: string): RigSummary | undefined {
    return this.summaries.get(rigId);
  }

  get size(): number {
    return this.rigs.size;
  }

  markDirty(rigId: string): void {
    if (this.stopped) return;
    this.dirty.add(rigId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.refreshing = this.refreshing.then(() => this.refreshDirty()).catch((err: unknown) => {
        this.logger.warn('cannot refresh the dashboard view', { error: err as Error });
      });
    }, Math.max(this.windowMs, WINDOW_PER_REFRESH * this.lastRefreshMs));
  }

  /** Waits for the pending window (tests). */
  async settled(): Promise<void> {
    while (this.timer || this.dirty.size > 0) {
      await new Promise((r) => setTimeout(r, 20));
      await this.refreshing;
    }
    await this.refreshing;
  }

  private async reloadAll(): Promise<void> {
    let pageToken = '';
    do {
      const page = await this.listRigs.execute(ListRigsRequest.fromPartial({ pageSize: MAX_PAGE_SIZE, pageToken }));
      for (const rig of page.rigs) this.put(rig);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    this.cachedOverview = undefined;
  }

  private put(rig: Rig): RigSummary {
    const summary = summarise(rig);
    this.rigs.set(rig.rigId, rig);
    this.summaries.set(rig.rigId, summary);
    return summary;
  }

  private async refreshDirty(): Promise<void> {
    if (this.stopped || this.dirty.size === 0) return;
    const started = performance.now();
    const ids = [...this.dirty];
    this.dirty.clear();
    const changed: RigSummary[] = [];
    for (let i = 0; i < ids.length && !this.stopped; i += REFRESH_STEP) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const step = ids.slice(i, i + REFRESH_STEP);
      try {
        for (const rig of await this.getRig.executeMany(step)) changed.push(this.put(rig));
      } catch (err) {
        // Try these again in the next window rather than show them stale until they change again.
        this.logger.warn('cannot refresh rigs for the dashboard; will retry', { count: step.length, error: err as Error });
        for (const id of step) this.markDirty(id);
      }
    }
    this.cachedOverview = undefined;
    this.lastRefreshMs = performance.now() - started;
    const reload = changed.length > MAX_LISTED_CHANGES;
    const change: FleetChange = { rigs: reload ? [] : changed, reload, changed: changed.length, overview: this.overview() };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.logger.warn('a dashboard listener failed', { error: err as Error });
      }
    }
  }
}
