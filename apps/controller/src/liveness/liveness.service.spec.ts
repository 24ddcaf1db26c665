import { join } from 'node:path';
import { AgentStatus, MinerSnapshot, RigState } from '@rigwarden/protocol';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import type { ControllerConfig } from '../config/controller-config';
import type { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { EventRepository } from '../persistence/event-repository';
import { LivenessRepository } from '../persistence/liveness.repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { LivenessService, type LivenessOwner } from './liveness.service';

const T0 = Date.parse('2026-12-03T12:00:00Z');
const S = 1000;

type Hooks = Pick<TelemetryIngestService, 'onSnapshotAccepted' | 'onRigState' | 'onAgentStatus'>;

/** Ingest's three liveness hooks, driven by the test in place of MQTT (the real ingest calls them the same way). */
class IngestHooks implements Hooks {
  snapshot: (s: MinerSnapshot) => void = () => undefined;
  state: (s: RigState, retained: boolean) => void = () => undefined;
  status: (s: AgentStatus, retained: boolean) => void = () => undefined;
  onSnapshotAccepted(l: (s: MinerSnapshot) => void): void { this.snapshot = l; }
  onRigState(l: (s: RigState, retained: boolean) => void): void { this.state = l; }
  onAgentStatus(l: (s: AgentStatus, retained: boolean) => void): void { this.status = l; }
}

/** Two shards: r1 in 0, r2 in 1; the test hands shards over as a lease round would. */
class TestOwner implements LivenessOwner {
  readonly shared = true;
  private listeners: Array<(change: { gained: number[]; lost: number[] }) => void> = [];
  constructor(readonly held: Set<number>) {}
  owns(rigId: string): boolean { return this.held.has(this.shardOf(rigId)); }
  shardOf(rigId: string): number { return rigId === 'r1' ? 0 : 1; }
  onChange(l: (change: { gained: number[]; lost: number[] }) => void): void { this.listeners.push(l); }
  take(shard: number): void {
    this.held.add(shard);
    for (const l of this.listeners) l({ gained: [shard], lost: [] });
  }
}

describe('LivenessService (real SQLite, fixed clock)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let rigs: RigRepository;
  let events: EventRepository;
  let clock: ManualClock;
  let hooks: IngestHooks;
  let service: LivenessService;
  let seq = 0;

  const start = async (): Promise<LivenessService> => {
    hooks = new IngestHooks();
    const s = new LivenessService({ liveness: { sweepMs: 60_000 } } as Pick<ControllerConfig, 'liveness'>, hooks, new LivenessRepository(db), events, rigs);
    s.clock = clock;
    await s.onModuleInit();
    return s;
  };

  /** A snapshot through the same path as ingest: stored, and its hook called at the clock's time. */
  const telemetry = async (rigId: string, over: Partial<MinerSnapshot> = {}): Promise<void> => {
    const snapshot = MinerSnapshot.fromPartial({ rigId, minerId: `${rigId}-m`, seq: ++seq, agentId: 'agent-1', collectedAt: new Date(clock.now()), hashrate5sHs: 1e12, ...over });
    rigs.receive(snapshot);
    hooks.snapshot(snapshot);
    await rigs.writeSnapshots([snapshot]);
  };
  const row = (rigId: string) => db.get<{ online: number; liveness: string; liveness_reason: string; liveness_message: string }>(
    'SELECT online, liveness, liveness_reason, liveness_message FROM rigs WHERE rig_id = ?', [rigId]);
  const livenessEvents = async (rigId: string) => (await events.eventsForRig(rigId)).filter((e) => e.kind.startsWith('liveness.')).reverse().map((e) => `${e.kind}:${e.reason}`);

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
    rigs = new RigRepository(db);
    events = new EventRepository(db);
    clock = new ManualClock(T0);
    seq = 0;
    service = await start();
  });

  afterEach(async () => {
    await service.onModuleDestroy();
    await db.close();
    dir.remove();
  });

  it('liveness: a rig whose telemetry stops while its agent is up goes stale, then offline, each with its reason, and back', async () => {
    for (let i = 0; i < 6; i++) {
      await telemetry('r1');
      hooks.status(AgentStatus.fromPartial({ agentId: 'agent-1', online: true, at: new Date(clock.now()), rigIds: ['r1'] }), false);
      clock.advance(5 * S);
    }
    await service.sweep();
    expect(service.get('r1')).toMatchObject({ state: 'online', reason: 'telemetry-fresh', expectedIntervalMs: 5000, online: true });
    expect(await row('r1')).toMatchObject({ online: 1, liveness: 'online' });
    expect((await rigs.getRig('r1'))!.online).toBe(true); // now cached in memory

    // Telemetry stops; the agent keeps sending its status.
    const keepStatus = (): void => hooks.status(AgentStatus.fromPartial({ agentId: 'agent-1', online: true, at: new Date(clock.now()), rigIds: ['r1'] }), false);
    clock.advance(13 * S); // 18 s since the last snapshot: past 3 intervals + 2 s
    keepStatus();
    await service.sweep();
    expect(service.get('r1')).toMatchObject({ state: 'stale', reason: 'no-telemetry', message: 'no telemetry for 18 s, expected every 5 s', online: false });
    expect(await row('r1')).toMatchObject({ online: 0, liveness: 'stale', liveness_reason: 'no-telemetry' });
    expect((await rigs.getRig('r1'))!.online).toBe(false); // the cached record was dropped, not left saying online

    clock.advance(29 * S); // 47 s
    keepStatus();
    await service.sweep();
    expect(service.get('r1')).toMatchObject({ state: 'offline', reason: 'no-telemetry', message: 'no telemetry for 47 s, expected every 5 s' });
    expect(await row('r1')).toMatchObject({ online: 0, liveness: 'offline' });

    // Telemetry again: online at once, without waiting for a sweep.
    clock.advance(S);
    await telemetry('r1');
    await service.idle();
    expect(await row('r1')).toMatchObject({ online: 1, liveness: 'online' });
    expect(await livenessEvents('r1')).toEqual(['liveness.stale:no-telemetry', 'liveness.offline:no-telemetry', 'liveness.online:telemetry-fresh']);
  });

  it('liveness: the last will on the first rig takes every rig of that agent offline, other agents\' rigs stay online', async () => {
    for (const rigId of ['a-1', 'a-2', 'a-3']) hooks.state(RigState.fromPartial({ rigId, agentId: 'agent-1', online: true, at: new Date(T0) }), false);
    hooks.state(RigState.fromPartial({ rigId: 'b-1', agentId: 'agent-2', online: true, at: new Date(T0) }), false);
    for (let i = 0; i < 3; i++) {
      for (const rigId of ['a-1', 'a-2', 'a-3']) await telemetry(rigId);
      await telemetry('b-1', { agentId: 'agent-2' });
      clock.advance(5 * S);
    }
    await service.sweep();
    expect(['a-1', 'a-2', 'a-3', 'b-1'].map((r) => service.get(r)?.state)).toEqual(['online', 'online', 'online', 'online']);

    clock.advance(S);
    // The connection's only will: a-1's state. a-2 and a-3 have no will of their own.
    hooks.state(RigState.fromPartial({ rigId: 'a-1', agentId: 'agent-1', online: false, at: new Date(T0) }), false);
    await service.idle();
    for (const rigId of ['a-1', 'a-2', 'a-3']) {
      expect(service.get(rigId)).toMatchObject({ state: 'offline', reason: 'agent-last-will', message: `agent agent-1 went offline at ${new Date(clock.now()).toISOString()} (last will)` });
      expect(await row(rigId)).toMatchObject({ online: 0, liveness: 'offline', liveness_reason: 'agent-last-will' });
      expect(await livenessEvents(rigId)).toEqual(['liveness.offline:agent-last-will']);
    }
    expect(service.get('b-1')).toMatchObject({ state: 'online' });
    expect(service.counts()).toEqual({ online: 1, stale: 0, offline: 3, 'miner-unreachable': 0 });

    // The agent reconnects: a live birth, then telemetry.
    clock.advance(10 * S);
    for (const rigId of ['a-1', 'a-2', 'a-3']) hooks.state(RigState.fromPartial({ rigId, agentId: 'agent-1', online: true, at: new Date(clock.now()) }), false);
    for (const rigId of ['a-1', 'a-2', 'a-3']) await telemetry(rigId);
    await service.idle();
    expect(['a-1', 'a-2', 'a-3'].map((r) => service.get(r)?.state)).toEqual(['online', 'online', 'online']);
  });

  it('liveness: miner unreachable is told apart from agent offline', async () => {
    for (let i = 0; i < 3; i++) { await telemetry('r1'); clock.advance(5 * S); }
    await telemetry('r1', { hashrate5sHs: undefined, errors: [{ kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.21:4028', statusLetter: '', command: '' }] });
    await service.idle();
    expect(service.get('r1')).toMatchObject({ state: 'miner-unreachable', reason: 'miner-unreachable', online: true });
    expect(service.get('r1')!.message).toContain('cannot read the miner: unreachable: connect ECONNREFUSED 10.0.0.21:4028');
    expect(await livenessEvents('r1')).toEqual(['liveness.miner-unreachable:miner-unreachable']);
  });

  it('liveness: after a restart, a retained will and stored telemetry give offline; what was stored is not an event again', async () => {
    for (let i = 0; i < 3; i++) { await telemetry('r1'); await telemetry('r2'); clock.advance(5 * S); }
    await service.sweep();
    await service.onModuleDestroy();

    clock.advance(60 * S);
    service = await start();
    // On subscribe the broker sends its retained copies: r1's will, r2's birth (older news than the will).
    hooks.state(RigState.fromPartial({ rigId: 'r1', agentId: 'agent-1', online: false, at: new Date(T0) }), true);
    hooks.state(RigState.fromPartial({ rigId: 'r2', agentId: 'agent-1', online: true, at: new Date(T0) }), true);
    await service.sweep();
    expect(service.get('r1')).toMatchObject({ state: 'offline', reason: 'agent-last-will' });
    expect(service.get('r2')).toMatchObject({ state: 'offline', reason: 'agent-last-will' });
    expect(await livenessEvents('r2')).toEqual(['liveness.offline:agent-last-will']);
  });

  it('liveness: an agent restart (a state per rig, offline then online) costs writes in proportion to its rigs, not their square, and ends online', async () => {
    await service.onModuleDestroy();
    const rows: number[] = [];
    class CountingRepository extends LivenessRepository {
      override write(verdicts: Parameters<LivenessRepository['write']>[0]): ReturnType<LivenessRepository['write']> {
        rows.push(verdicts.length);
        return super.write(verdicts);
      }
    }
    hooks = new IngestHooks();
    service = new LivenessService({ liveness: { sweepMs: 60_000 } } as Pick<ControllerConfig, 'liveness'>, hooks, new CountingRepository(db), events, rigs);
    service.clock = clock;
    await service.onModuleInit();
    const ids = Array.from({ length: 300 }, (_, i) => `r${i}`);
    for (const id of ids) await telemetry(id);
    await service.idle();
    rows.length = 0;
    // The restart: every rig's state goes offline (the shutdown), then every rig is born again, as fast as ingest
    // delivers them (each hook called once its state is stored, without waiting for liveness's writes).
    for (const id of ids) {
      await rigs.writeState(RigState.fromPartial({ rigId: id, agentId: 'agent-1', online: false, at: new Date(clock.now()) }));
      hooks.state(RigState.fromPartial({ rigId: id, agentId: 'agent-1', online: false, at: new Date(clock.now()) }), false);
    }
    clock.advance(2 * S);
    for (const id of ids) {
      await rigs.writeState(RigState.fromPartial({ rigId: id, agentId: 'agent-1', online: true, at: new Date(clock.now()) }));
      hooks.state(RigState.fromPartial({ rigId: id, agentId: 'agent-1', online: true, at: new Date(clock.now()) }), false);
    }
    for (const id of ids) await telemetry(id);
    await service.idle();
    const written = rows.reduce((a, b) => a + b, 0);
    expect(written).toBeGreaterThanOrEqual(ids.length); // each state rewrote its rig's row...
    expect(written).toBeLessThan(8 * ids.length); // ...a few times at most, not once per rig per state (90,000)
    for (const id of ['r0', 'r150', 'r299']) expect(await row(id)).toMatchObject({ online: 1, liveness: 'online' });
  });

  describe('with controllers sharing the fleet (one database, each judging every rig)', () => {
    let a: LivenessService;
    let b: LivenessService;
    let hooksA: IngestHooks;
    let hooksB: IngestHooks;
    let ownerA: TestOwner;
    let ownerB: TestOwner;
    const config = { liveness: { sweepMs: 60_000 }, mqttSharedGroup: 'ingest' } as Pick<ControllerConfig, 'liveness' | 'mqttSharedGroup'>;

    beforeEach(async () => {
      await service.onModuleDestroy();
      ownerA = new TestOwner(new Set([0]));
      ownerB = new TestOwner(new Set([1]));
      hooksA = new IngestHooks();
      hooksB = new IngestHooks();
      a = new LivenessService(config, hooksA, new LivenessRepository(db), events, rigs, ownerA);
      b = new LivenessService(config, hooksB, new LivenessRepository(db), events, rigs, ownerB);
      for (const s of [a, b]) { s.clock = clock; await s.onModuleInit(); }
      // Both controllers hear of every rig's telemetry (one stored it, the other through the ingest feed).
      for (let i = 0; i < 4; i++) {
        for (const rigId of ['r1', 'r2']) {
          const snapshot = MinerSnapshot.fromPartial({ rigId, minerId: `${rigId}-m`, seq: ++seq, agentId: 'agent-1', collectedAt: new Date(clock.now()), hashrate5sHs: 1e12 });
          rigs.receive(snapshot);
          await rigs.writeSnapshots([snapshot]);
          hooksA.snapshot(snapshot);
          hooksB.snapshot(snapshot);
        }
        clock.advance(5 * S);
      }
      await a.sweep();
      await b.sweep();
    });

    afterEach(async () => {
      await a.onModuleDestroy();
      await b.onModuleDestroy();
      service = await start(); // closed again by the outer afterEach
    });

    it('liveness: each transition is recorded once, by the rig\'s owner, while both judge it', async () => {
      clock.advance(13 * S);
      await a.sweep();
      await b.sweep();
      for (const s of [a, b]) expect([s.get('r1')?.state, s.get('r2')?.state]).toEqual(['stale', 'stale']);
      expect(await livenessEvents('r1')).toEqual(['liveness.stale:no-telemetry']);
      expect(await livenessEvents('r2')).toEqual(['liveness.stale:no-telemetry']);
      expect([a.counters.leftToOwner, b.counters.leftToOwner]).toEqual([1, 1]);
    });

    it('liveness: a transition judged while its owner was dead is recorded by the controller that takes the rig; one its owner recorded is not recorded again', async () => {
      clock.advance(13 * S);
      await a.sweep(); // a records r1 stale, then dies
      await b.sweep();
      await a.onModuleDestroy();
      clock.advance(29 * S);
      await b.sweep(); // r1 offline: a is gone, its lease not yet lapsed; b leaves it to the owner on record
      expect(b.get('r1')?.state).toBe('offline');
      expect(await livenessEvents('r1')).toEqual(['liveness.stale:no-telemetry']);

      clock.advance(3 * S);
      ownerB.take(0); // a's lease lapsed: b takes shard 0
      await b.idle();
      expect(await livenessEvents('r1')).toEqual(['liveness.stale:no-telemetry', 'liveness.offline:no-telemetry']);
      expect(b.counters.recordedOnTakeover).toBe(1);

      // Taking the shard again (a new epoch after a pause) records nothing twice.
      ownerB.take(0);
      await b.idle();
      expect(await livenessEvents('r1')).toEqual(['liveness.stale:no-telemetry', 'liveness.offline:no-telemetry']);
      expect(await livenessEvents('r2')).toEqual(['liveness.stale:no-telemetry', 'liveness.offline:no-telemetry']);
    });

    it('liveness: a transition its owner recorded just before a handover is not recorded again by the new owner', async () => {
      clock.advance(13 * S);
      await a.sweep(); // a records r1 stale
      await b.sweep(); // b judges it too, leaves it to a
      clock.advance(2 * S);
      ownerB.take(0); // handed over within the window
      await b.idle();
      expect(await livenessEvents('r1')).toEqual(['liveness.stale:no-telemetry']);
      expect(b.counters.recordedOnTakeover).toBe(0);
    });
  });
});
