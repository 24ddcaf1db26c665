import type { CommandDispatcher } from '../commands/command-dispatcher.service';
import type { ControllerConfig } from '../config/controller-config';
import type { FleetSpecService } from '../fleet/fleet-spec.service';
import type { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import type { EventRepository } from '../persistence/event-repository';
import type { RigRecord, RigRepository } from '../persistence/rig-repository';
import { RigReconciler } from './rig-reconciler.service';
import { waitFor } from '@rigwarden/testing';

/** The reconciler's scheduling alone: rigs without a spec (a reconcile reads the rig and stops), reads held at will. */
function reconcilerWith(timeoutMs: number, concurrency: number) {
  const held = new Map<string, Array<() => void>>();
  /** Lets the oldest held read of a rig finish. */
  const finish = (rigId: string): void => held.get(rigId)!.shift()!();
  const reads: string[] = [];
  const rigs = {
    getRig: (rigId: string): Promise<RigRecord | undefined> => {
      reads.push(rigId);
      if (!rigId.startsWith('stuck')) return Promise.resolve(undefined);
      return new Promise((resolve) => held.set(rigId, [...(held.get(rigId) ?? []), () => resolve(undefined)]));
    },
  };
  const config = { reconcile: { timeoutMs, concurrency } } as unknown as ControllerConfig;
  const ingest = { onRigUpdated: () => undefined } as unknown as TelemetryIngestService;
  const dispatcher = { onFinished: () => undefined } as unknown as CommandDispatcher;
  const fleet = { onApplied: () => undefined } as unknown as FleetSpecService;
  const reconciler = new RigReconciler(config, ingest, rigs as unknown as RigRepository, {} as EventRepository, dispatcher, fleet);
  reconciler.onModuleInit();
  return { reconciler, finish, reads };
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  await waitFor('the reconciler state', () => (check() ? true : undefined), ms, 5);
};

describe('RigReconciler scheduling', () => {
  it('times out a reconcile that does not finish, gives its slot to the next rig, and does not count its late end', async () => {
    const { reconciler, finish, reads } = reconcilerWith(60, 1);
    try {
      reconciler.enqueue('stuck-1');
      reconciler.enqueue('rig-a');
      await until(() => reads.length === 1);
      expect(reconciler.queueDepth()).toEqual({ queued: 1, running: 1 });
      await until(() => reconciler.counters.timeouts === 1);
      await until(() => reconciler.counters.reconciles === 1);
      expect(reads).toEqual(['stuck-1', 'rig-a']);
      // The timed-out one still runs; the rig may be reconciled again meanwhile.
      reconciler.enqueue('stuck-1');
      await until(() => reads.length === 3);
      finish('stuck-1');
      await until(() => reconciler.counters.timeouts === 2);
      finish('stuck-1');
      await reconciler.idle();
      expect(reconciler.counters).toMatchObject({ reconciles: 1, timeouts: 2, errors: 0 });
      expect(reconciler.queueDepth()).toEqual({ queued: 0, running: 0 });
    } finally {
      await reconciler.onModuleDestroy();
    }
  });

  it('runs at most `concurrency` reconciles at once and one per rig, again once more when enqueued while running', async () => {
    const { reconciler, finish, reads } = reconcilerWith(10_000, 2);
    try {
      for (const rigId of ['stuck-1', 'stuck-2', 'stuck-3']) reconciler.enqueue(rigId);
      reconciler.enqueue('stuck-1');
      reconciler.enqueue('stuck-1');
      await until(() => reads.length === 2);
      expect(reconciler.queueDepth()).toEqual({ queued: 2, running: 2 });
      finish('stuck-1');
      await until(() => reads.length === 3);
      expect(reads).toEqual(['stuck-1', 'stuck-2', 'stuck-3']);
      finish('stuck-2');
      await until(() => reads.length === 4);
      expect(reads[3]).toBe('stuck-1'); // enqueued twice while running: one more reconcile
      finish('stuck-3');
      finish('stuck-1');
      await reconciler.idle();
      expect(reconciler.counters).toMatchObject({ reconciles: 4, timeouts: 0, errors: 0 });
    } finally {
      await reconciler.onModuleDestroy();
    }
  });
});
