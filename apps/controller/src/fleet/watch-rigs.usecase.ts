import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { RigSelector, RigUpdate, WatchRigsRequest } from '@rigwarden/protocol';
import { createLogger } from '@rigwarden/shared';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import { type RigRecord } from '../persistence/rig-repository';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { FleetSpecService } from './fleet-spec.service';
import { matchesSelector, validateSelector } from './rig-selector';
import { RigView } from './rig-view';

/** Events that change a rig's `quarantined`. */
const QUARANTINE_KINDS: ReadonlySet<string> = new Set(['policy.quarantine', 'policy.release', 'operator.release']);

/** Where a watch writes: a server stream. `write` answers false when its buffer is full; `onDrain` says when to go on. */
export interface RigUpdateSink {
  write(update: RigUpdate): boolean;
  onDrain(resume: () => void): void;
}

const PAGE = 1000;
/** Rigs loaded and written per step of a watcher. */
const STEP = 200;

/**
 * One client's watch. Changes only mark the rig id in a set (coalesced by rig: the set never holds more ids than
 * there are rigs), so a slow client costs ingest nothing; the watcher sends each marked rig's state as it is when
 * the client can take it, waiting for the stream to drain when its buffer is full.
 */
class Watcher {
  private readonly pending = new Set<string>();
  private pumping = false;
  private initialDone = false;
  closed = false;
  /** Times the client's buffer was full and the watcher waited for it to drain. */
  stalls = 0;

  get backlog(): number {
    return this.pending.size;
  }

  constructor(
    private readonly selector: RigSelector | undefined,
    private readonly sink: RigUpdateSink,
    private readonly load: (rigIds: string[]) => Promise<RigRecord[]>,
    private readonly page: (after: string) => Promise<RigRecord[]>,
    private readonly groupOf: (record: RigRecord) => string | undefined,
    private readonly view: RigView,
    private readonly onError: (err: unknown) => void,
  ) {}

  changed(rigId: string): void {
    if (this.closed) return;
    if (this.selector && this.selector.rigIds.length > 0 && !this.selector.rigIds.includes(rigId)) return;
    this.pending.add(rigId);
    if (this.initialDone) this.schedule();
  }

  /** Every selected rig as it is now (initial = true), then the changes marked meanwhile. */
  async start(): Promise<void> {
    let after = '';
    for (;;) {
      const records = await this.page(after);
      await this.send(records, true);
      if (records.length < PAGE || this.closed) break;
      after = records[records.length - 1]!.rigId;
    }
    this.initialDone = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.pumping || this.closed || this.pending.size === 0) return;
    this.pumping = true;
    setImmediate(() => {
      this.pump().catch(this.onError).finally(() => {
        this.pumping = false;
        this.schedule();
      });
    });
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.pending.size > 0) {
      const ids = [...this.pending].slice(0, STEP);
      for (const id of ids) this.pending.delete(id);
      await this.send(await this.load(ids), false);
    }
  }

  private async send(records: RigRecord[], initial: boolean): Promise<void> {
    const selected = records.filter((r) => matchesSelector(r, this.groupOf(r), this.selector));
    for (const rig of await this.view.toRigs(selected)) {
      if (this.closed) return;
      if (!this.sink.write({ rig, initial })) {
        this.stalls++;
        await new Promise<void>((resume) => this.sink.onDrain(resume));
      }
    }
  }
}

/** WatchRigs: the selected rigs as they are, then every change as it is ingested, until the client goes. */
@Injectable()
export class WatchRigsUseCase implements OnModuleInit {
  private readonly logger = createLogger('controller.watch');
  private readonly watchers = new Set<Watcher>();

  constructor(
    @Inject(TelemetryIngestService) private readonly ingest: TelemetryIngestService,
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(RigView) private readonly view: RigView,
    @Inject(EVENT_STORE) private readonly events: EventStore,
  ) {}

  onModuleInit(): void {
    this.ingest.onRigUpdated((rigId) => { for (const w of this.watchers) w.changed(rigId); });
    // A new spec can move rigs between groups: their `group` changes.
    this.fleet.onApplied((rigIds) => { for (const w of this.watchers) for (const id of rigIds) w.changed(id); });
    // A quarantine is recorded after the reconcile that decided it, a release by an operator: `quarantined` changes.
    // A liveness transition is recorded by the controller's sweep: `online` and `liveness` change.
    this.events.onRecorded((event) => {
      if (QUARANTINE_KINDS.has(event.kind) || event.kind.startsWith('liveness.')) for (const w of this.watchers) w.changed(event.rigId);
    });
  }

  get watching(): number {
    return this.watchers.size;
  }

  /** Rig ids marked for the watchers and not sent yet (at most one per rig and watcher), and how often they waited. */
  stats(): { backlog: number; stalls: number } {
    let backlog = 0;
    let stalls = 0;
    for (const w of this.watchers) {
      backlog += w.backlog;
      stalls += w.stalls;
    }
    return { backlog, stalls };
  }

  /** Validates, then streams until `stop` is called (client cancelled) or the sink fails. */
  async start(request: WatchRigsRequest, sink: RigUpdateSink, onError: (err: unknown) => void): Promise<{ stop: () => void }> {
    validateSelector(request.selector);
    const watcher = new Watcher(
      request.selector, sink,
      async (ids) => (await Promise.all(ids.map((id) => this.rigs.getRig(id)))).filter((r): r is RigRecord => r !== undefined),
      (after) => this.rigs.listRigs(PAGE, after),
      (record) => this.fleet.groupOf(record),
      this.view,
      (err) => {
        this.logger.error('watch failed', { error: err as Error });
        onError(err);
      },
    );
    this.watchers.add(watcher);
    const stop = (): void => {
      watcher.closed = true;
      this.watchers.delete(watcher);
    };
    watcher.start().catch((err: unknown) => {
      stop();
      onError(err);
    });
    return { stop };
  }
}
