/**
 * A fail-back due 40 s after the last snapshot runs then, with no new telemetry: the reconcile at the last snapshot
 * asks to run again when the fail-back window ends, the deadline queue's one timer fires, and the failover policy
 * (the real one, over a real SQLite file) switches back to the preferred pool. Fake timers drive the clock.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_HISTORY, appendAction, appendObservation, observeSnapshot, type RigHistory } from '@rigwarden/policy';
import { MinerSnapshot, PoolStatus, type CommandEnvelope } from '@rigwarden/protocol';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import type { CommandDispatcher } from '../commands/command-dispatcher.service';
import type { ControllerConfig } from '../config/controller-config';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import type { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { EventRepository } from '../persistence/event-repository';
import { FleetSpecRepository } from '../persistence/fleet-spec.repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { RigReconciler } from './rig-reconciler.service';

const T = Date.parse('2026-12-03T12:00:00Z');
const S = 1000;
const RIG = 'fb-1';
const A = 'stratum+tcp://pool-a.example:3333';
const B = 'stratum+tcp://pool-b.example:3333';

/** On pool B (the backup), pool A alive and not in use, a share every reading; every 10 s. */
function snapshot(seq: number, at: number): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId: RIG, minerId: 'm1', seq, agentId: 'agent-1', collectedAt: new Date(at), uptimeS: 90_000 + (at - T) / S, hashrate5sHs: 1e12, hashrateAvgHs: 1e12,
    pools: [
      { index: 0, url: A, user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: false, accepted: 100, priority: 0 },
      { index: 1, url: B, user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: true, accepted: seq, priority: 1, lastShareTime: new Date(at) },
    ],
  });
}

describe('scheduled reconcile: time-based decisions do not wait for the next telemetry', () => {
  let dir: TempDir;
  let db: SqliteDatabase;

  beforeEach(() => jest.useFakeTimers({ now: T, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(async () => {
    jest.useRealTimers();
    await db?.close();
    dir?.remove();
  });

  it('failover: a fail-back due 40 s after the last snapshot is sent at +40 s with no new telemetry', async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
    const rigs = new RigRepository(db);
    const fleetFile = join(dir.path, 'fleet.yaml');
    // A 60 s poll: readings count as fresh for 2 min. Only failover acts.
    writeFileSync(fleetFile, ['groups:', '  - name: fb', '    match: { rigIdPrefix: "fb-" }', '    pools:', `      - { url: "${A}", user: "w", password: "x" }`, `      - { url: "${B}", user: "w", password: "x" }`,
      '    policy:', '      freshness: { staleAfterMs: 120000 }', '      thermal: { enabled: false }', '      watchdog: { enabled: false }', ''].join('\n'));
    const fleet = new FleetSpecService({ fleetFile } as ControllerConfig, new FleetSpecRepository(db), rigs);
    await fleet.onModuleInit();
    const sent: Array<{ at: number; payload: CommandEnvelope['payload']; reason: string }> = [];
    const dispatcher = {
      onFinished: () => undefined,
      dispatch: (c: { payload: CommandEnvelope['payload']; reason: string }) => {
        sent.push({ at: Date.now(), payload: c.payload, reason: c.reason });
        return Promise.resolve({ id: `cmd-${sent.length}`, state: 'SENT', cause: '' });
      },
    } as unknown as CommandDispatcher;
    const config = { reconcile: { timeoutMs: 10_000, concurrency: 2 } } as unknown as ControllerConfig;
    const reconciler = new RigReconciler(config, { onRigUpdated: () => undefined } as unknown as TelemetryIngestService, rigs, new EventRepository(db), dispatcher, fleet);
    reconciler.clock = { now: () => Date.now() };
    reconciler.onModuleInit();

    // Ten minutes on the backup; we switched away from A (silent) 260 s ago: the fail-back is due at +40 s (5 min).
    let history: RigHistory = appendAction(EMPTY_HISTORY, {
      at: T - 260 * S, kind: 'switch-pool', reason: 'active-pool-silent', by: 'failover', params: { poolIndex: 1, url: B, user: 'w', fromUrl: A, fromPoolIndex: 0 }, id: 'c0', outcome: 'succeeded',
    });
    let seq = 0;
    for (let at = T - 600 * S; at <= T; at += 10 * S) history = appendObservation(history, observeSnapshot(snapshot(++seq, at), at));
    (reconciler as unknown as { histories: Map<string, RigHistory> }).histories.set(RIG, history);
    await rigs.writeSnapshots([snapshot(seq, T)]);

    await reconciler.reconcile(RIG);
    expect(sent).toEqual([]);
    expect(reconciler.schedule.at(RIG)).toBeGreaterThan(T);
    expect(reconciler.schedule.at(RIG)).toBeLessThanOrEqual(T + 40 * S);

    // No telemetry from here on: only the deadline queue's timer can run the rig again.
    for (let i = 0; i < 100 && Date.now() < T + 45 * S; i++) {
      await jest.advanceTimersByTimeAsync(500);
      await reconciler.idle();
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]!.payload).toEqual({ $case: 'switchPool', value: { poolIndex: 0 } });
    expect(sent[0]!.reason).toMatch(/^preferred-pool-stable: /);
    expect(sent[0]!.at).toBeGreaterThanOrEqual(T + 40 * S);
    expect(sent[0]!.at).toBeLessThanOrEqual(T + 40.5 * S);
    expect(reconciler.counters.reconciles).toBeGreaterThanOrEqual(2);
    await reconciler.onModuleDestroy();
  });
});
