/**
 * A restart recorded TIMED_OUT ("no result within ...", the miner process stopped while the command was on its
 * way) that ran when the process resumed: the readings afterwards show a miner started after the command. The
 * reconciler, on a manual clock over a real SQLite file, records it as succeeded-observed: the command row
 * annotated with the evidence, one `command.succeeded-observed` event, the policy history holding it as succeeded
 * (also after a controller restart, from the stored rows).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinerSnapshot, PoolStatus, RigEvent } from '@rigwarden/protocol';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import type { CommandDispatcher } from '../commands/command-dispatcher.service';
import { CommandRepository } from '../commands/command-repository';
import type { ControllerConfig } from '../config/controller-config';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import type { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { EventRepository } from '../persistence/event-repository';
import { FleetSpecRepository } from '../persistence/fleet-spec.repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { RigReconciler } from './rig-reconciler.service';

const T0 = Date.parse('2026-12-03T12:00:00Z');
const S = 1000;
const RIG = 'rs-1';

describe('command outcome reconciled with what the miner shows afterwards (real SQLite, manual clock)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let rigs: RigRepository;
  let events: EventRepository;
  let commands: CommandRepository;
  let fleet: FleetSpecService;
  const clock = new ManualClock(T0);
  let seq = 0;

  const newReconciler = (): RigReconciler => {
    const config = { reconcile: { timeoutMs: 10_000, concurrency: 2 } } as unknown as ControllerConfig;
    const ingest = { onRigUpdated: () => undefined } as unknown as TelemetryIngestService;
    const dispatcher = { onFinished: () => undefined } as unknown as CommandDispatcher;
    const r = new RigReconciler(config, ingest, rigs, events, dispatcher, fleet, undefined, commands);
    r.clock = clock;
    r.onModuleInit();
    return r;
  };

  /** One reading: the miner's uptime as it reports it. */
  const reading = async (reconciler: RigReconciler, uptimeS: number): Promise<void> => {
    await rigs.writeSnapshots([MinerSnapshot.fromPartial({
      rigId: RIG, minerId: 'm1', seq: ++seq, agentId: 'agent-1', collectedAt: new Date(clock.now()), uptimeS, hashrate5sHs: 1e12, hashrateAvgHs: 1e12,
      pools: [{ index: 0, url: 'stratum+tcp://pool.example:3333', user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: true, accepted: seq }],
    })]);
    await reconciler.reconcile(RIG);
  };

  beforeAll(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
    rigs = new RigRepository(db);
    events = new EventRepository(db);
    commands = new CommandRepository(db);
    const fleetFile = join(dir.path, 'fleet.yaml');
    // Policies off: the test looks at outcome bookkeeping only, no new decision gets in the way.
    writeFileSync(fleetFile, ['groups:', '  - name: rs', '    match: { rigIdPrefix: "rs-" }', '    pools:', '      - { url: "stratum+tcp://pool.example:3333", user: "w", password: "x" }',
      '    policy:', '      failover: { enabled: false }', '      thermal: { enabled: false }', '      watchdog: { enabled: false }', ''].join('\n'));
    fleet = new FleetSpecService({ fleetFile } as ControllerConfig, new FleetSpecRepository(db), rigs);
    await fleet.onModuleInit();
  });

  afterAll(async () => {
    await db.close();
    dir.remove();
  });

  it('a restart recorded TIMED_OUT, then a miner started 8 s after it: succeeded-observed, once, and the history agrees', async () => {
    const reconciler = newReconciler();
    await reading(reconciler, 86_400);
    clock.advance(30 * S);
    await reading(reconciler, 86_430);

    // The watchdog's restart, as the reconciler stores one: a policy event pointing at its command.
    const commandAt = clock.now();
    await commands.insert({ id: 'cmd-restart', rigId: RIG, minerId: 'm1', payload: { $case: 'restartMiner', value: {} }, createdAt: commandAt, deadline: commandAt + 10 * S, requestedBy: 'policy:watchdog', reason: 'hashrate-low' });
    await commands.markSent('cmd-restart', commandAt);
    await events.recordEvent(RigEvent.fromPartial({ eventId: 'ev-restart', rigId: RIG, kind: 'policy.restart-miner', severity: 'warning', reason: 'hashrate-low', message: 'restart', at: new Date(commandAt) }), 'watchdog', 'cmd-restart');
    await commands.finish('cmd-restart', 'TIMED_OUT', 'no result from rig rs-1 within 10000 ms', commandAt + 10 * S);
    // The reconciler learns of it as from the dispatcher (restart: a fresh reconciler restores it from the rows).
    const fresh = newReconciler();
    clock.advance(5 * S);
    await reading(fresh, 86_435); // still the old process: nothing to reconcile yet
    expect((await commands.get('cmd-restart'))!.observedOutcome).toBeUndefined();

    clock.advance(15 * S);
    await reading(fresh, 12); // started 8 s after the command
    clock.advance(5 * S);
    await reading(fresh, 17);
    await fresh.idle();

    const command = (await commands.get('cmd-restart'))!;
    expect(command).toMatchObject({ state: 'TIMED_OUT', observedOutcome: 'succeeded-observed', observedAt: commandAt + 20 * S });
    expect(command.observedNote).toMatch(/the miner started 8 s after the command/);
    const observed = (await events.eventsForRig(RIG)).filter((e) => e.kind === 'command.succeeded-observed');
    expect(observed).toHaveLength(1);
    expect(observed[0]).toMatchObject({ reason: 'effect-observed', source: 'controller', command_id: 'cmd-restart' });
    expect(observed[0]!.message).toMatch(/^restart-miner recorded timed-out, but it ran: /);

    // The policy history sees the reconciled outcome; a controller restarted on this database restores it so.
    const history = (fresh as unknown as { histories: Map<string, { actions: Array<{ id?: string; outcome?: string }> }> }).histories.get(RIG)!;
    expect(history.actions.find((a) => a.id === 'cmd-restart')?.outcome).toBe('succeeded');
    const restarted = newReconciler();
    clock.advance(5 * S);
    await reading(restarted, 22);
    const restored = (restarted as unknown as { histories: Map<string, { actions: Array<{ id?: string; outcome?: string }> }> }).histories.get(RIG)!;
    expect(restored.actions.find((a) => a.id === 'cmd-restart')?.outcome).toBe('succeeded');
    expect((await events.eventsForRig(RIG)).filter((e) => e.kind === 'command.succeeded-observed')).toHaveLength(1);
    for (const r of [reconciler, fresh, restarted]) await r.onModuleDestroy();
  });
});
