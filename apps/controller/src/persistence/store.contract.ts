import { AgentStatus, CommandOutcome, CommandResult, MinerSnapshot, RigEvent, RigState } from '@rigwarden/protocol';
import { SecretBytes } from '@rigwarden/security';
import type { ApiKeyStore } from './ports/api-key.port';
import type { AuditStore } from './ports/audit.port';
import type { CommandPayload, CommandStore } from './ports/command.port';
import type { DashboardReadStore } from './ports/dashboard-read.port';
import type { EventStore } from './ports/event.port';
import type { FleetSpecStore } from './ports/fleet-spec.port';
import type { LivenessStore } from './ports/liveness.port';
import type { RigPresenceStore } from './ports/rig-presence.port';
import type { RigStatusStore } from './ports/rig-status.port';
import type { RollupStore } from './ports/rollup.port';
import { SnapshotBatch } from './ports/snapshot-batch';
import type { TelemetryQueryStore } from './ports/telemetry-query.port';

/** Every port of one store, migrated and empty; `reopen` gives new store objects on the same data (a restart). */
export interface StoreSet {
  rigs: RigStatusStore;
  events: EventStore;
  rollups: RollupStore;
  liveness: LivenessStore;
  specs: FleetSpecStore;
  queries: TelemetryQueryStore;
  apiKeys: ApiKeyStore;
  audit: AuditStore;
  commands: CommandStore;
  dashboard: DashboardReadStore;
  presence: RigPresenceStore;
  /** A fresh RigStatusStore on the same data, with an empty cache. */
  reopenRigs(): RigStatusStore;
  close(): Promise<void>;
}

const T0 = Date.parse('2026-11-22T10:00:00Z');

function snap(rigId: string, seq: number, minerId = 'm1', hashrate = 100, agentId = 'agent-1'): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId, seq, hashrate5sHs: hashrate, collectedAt: new Date(T0 + seq * 1000), agentId, boards: [{ index: 0, boardTempC: 60 + seq }],
  });
}

function event(eventId: string, rigId: string, kind: string, at: number): RigEvent {
  return RigEvent.fromPartial({ eventId, rigId, kind, severity: 'info', reason: kind, message: kind, at: new Date(at) });
}

/**
 * What every implementation of the storage ports must do, as one jest suite: `open` gives a migrated, empty StoreSet
 * (SQLite in a temp file, PostgreSQL in a fresh schema). Each test opens its own set and closes it.
 */
export function describeStoreContract(name: string, open: () => Promise<StoreSet>): void {
  describe(`storage ports contract: ${name}`, () => {
    let s: StoreSet;
    beforeEach(async () => { s = await open(); });
    afterEach(async () => { await s.close(); });

    it('stores snapshots once per (rig, seq) and serves each miner\'s newest as the rig\'s latest status', async () => {
      expect(await s.rigs.writeSnapshots([snap('r1', 1), snap('r1', 2), snap('r2', 1, 'x', 50)])).toEqual({ inserted: 3, duplicates: 0 });
      expect(await s.rigs.writeSnapshots([snap('r1', 2), snap('r1', 3, 'm2', 7)])).toEqual({ inserted: 1, duplicates: 1 });
      const rig = (await s.reopenRigs().getRig('r1'))!;
      expect(rig).toMatchObject({ rigId: 'r1', online: true, lastSeq: 3 });
      expect(rig.lastSeen!.getTime()).toBe(T0 + 3000);
      expect(rig.miners.map((m) => [m.minerId, m.seq])).toEqual([['m1', 2], ['m2', 3]]);
      expect(await s.rigs.getRig('nope')).toBeUndefined();
    });

    it('takes ingest\'s batches with the payload bytes as received; an older seq never replaces a miner\'s status', async () => {
      const batch = new SnapshotBatch();
      for (const x of [snap('r1', 5), snap('r1', 4), snap('r2', 1)]) batch.add(x, Buffer.from(JSON.stringify(MinerSnapshot.toJSON(x))));
      expect(await s.rigs.writeBatch(batch)).toEqual({ inserted: 3, duplicates: 0 });
      expect(await s.rigs.writeBatch(batch)).toEqual({ inserted: 0, duplicates: 3 });
      const older = new SnapshotBatch();
      older.add(snap('r1', 3), JSON.stringify(MinerSnapshot.toJSON(snap('r1', 3))));
      expect(await s.rigs.writeBatch(older)).toEqual({ inserted: 1, duplicates: 0 });
      const fresh = s.reopenRigs();
      expect((await fresh.getRig('r1'))!.miners[0]!.seq).toBe(5);
      expect((await fresh.listRigs(10, '')).map((r) => [r.rigId, r.lastSeq])).toEqual([['r1', 5], ['r2', 1]]);
      expect((await fresh.listRigs(10, 'r1')).map((r) => r.rigId)).toEqual(['r2']);
    });

    it('shows a snapshot ingest accepted at once for a cached rig, before its batch is stored', async () => {
      await s.rigs.writeSnapshots([snap('r1', 1)]);
      expect((await s.rigs.getRig('r1'))!.lastSeq).toBe(1);
      const next = snap('r1', 2, 'm1', 200);
      s.rigs.receive(next);
      expect((await s.rigs.getRig('r1'))!.miners[0]!.hashrate5sHs).toBe(200);
      const batch = new SnapshotBatch();
      batch.add(next, JSON.stringify(MinerSnapshot.toJSON(next)));
      await s.rigs.writeBatch(batch);
      expect((await s.reopenRigs().getRig('r1'))!.lastSeq).toBe(2);
    });

    it('keeps the newest retained state of a rig with its labels; an older one is ignored', async () => {
      await s.rigs.writeState(RigState.fromPartial({ rigId: 'r1', agentId: 'a1', online: true, at: new Date(T0 + 10_000), labels: { site: 'north' } }));
      await s.rigs.writeState(RigState.fromPartial({ rigId: 'r1', agentId: 'a1', online: false, at: new Date(T0) }));
      expect(await s.rigs.getRig('r1')).toMatchObject({ online: true, labels: { site: 'north' }, lastSeq: 0, miners: [] });
      await s.rigs.writeState(RigState.fromPartial({ rigId: 'r1', agentId: 'a1', online: false, at: new Date(T0 + 20_000), labels: { site: 'south' } }));
      expect(await s.rigs.getRig('r1')).toMatchObject({ online: false, labels: { site: 'south' } });
      expect(await s.queries.rigSummaries('', 10)).toEqual([{ rigId: 'r1', online: false, liveness: '', labels: { site: 'south' } }]);
    });

    it('writes liveness verdicts of rigs with a row and seeds them back after a restart', async () => {
      await s.rigs.writeSnapshots([snap('r1', 1)]);
      const written = await s.liveness.write([
        { rigId: 'r1', verdict: { state: 'stale', reason: 'no-telemetry', message: 'quiet', since: T0 + 5000, online: false } },
        { rigId: 'unknown', verdict: { state: 'offline', reason: 'x', message: 'x', since: T0, online: false } },
      ]);
      expect([...written]).toEqual(['r1']);
      expect(await s.liveness.seeds()).toEqual([{ rigId: 'r1', agentId: 'agent-1', lastSeen: T0 + 1000, stateOnline: false, liveness: 'stale' }]);
      s.rigs.forget('r1');
      expect(await s.rigs.getRig('r1')).toMatchObject({ online: false, liveness: 'stale' });
    });

    it('stores an event once, tells listeners once, and lists a rig\'s events newest first', async () => {
      const heard: string[] = [];
      s.events.onRecorded((e, source) => heard.push(`${e.eventId}:${source}`));
      expect(await s.events.recordEvent(event('e1', 'r1', 'agent.safety', T0), 'agent')).toBe(true);
      expect(await s.events.recordEvent(event('e1', 'r1', 'agent.safety', T0), 'agent')).toBe(false);
      await s.events.recordEvent(event('e2', 'r1', 'policy.switch-pool', T0 + 1000), 'failover', 'c1', '{"poolIndex":1}');
      expect(heard).toEqual(['e1:agent', 'e2:failover']);
      const rows = await s.events.eventsForRig('r1');
      expect(rows.map((r) => [r.event_id, r.at, r.command_id])).toEqual([['e2', T0 + 1000, 'c1'], ['e1', T0, '']]);
      expect((await s.events.eventsForRig('r1', 100, T0 + 1)).map((r) => r.event_id)).toEqual(['e2']);
    });

    it('gives the policy history since a time plus the newest quarantine of any age, and which rigs are quarantined', async () => {
      await s.events.recordEvent(event('q1', 'r1', 'policy.quarantine', T0), 'watchdog');
      await s.events.recordEvent(event('p1', 'r1', 'policy.restart-miner', T0 - 5000), 'watchdog');
      await s.events.recordEvent(event('p2', 'r1', 'policy.switch-pool', T0 + 60_000), 'failover', 'c9', '{"fromUrl":"a"}');
      await s.events.recordEvent(event('q2', 'r2', 'policy.quarantine', T0), 'watchdog');
      await s.events.recordEvent(event('x2', 'r2', 'operator.release', T0 + 1000), 'apikey:k');
      const actions = await s.events.policyActionsForRig('r1', T0 + 30_000);
      expect(actions.map((a) => [a.kind, a.command_id, a.command_state])).toEqual([['policy.quarantine', '', null], ['policy.switch-pool', 'c9', null]]);
      expect(actions[1]!.params).toBe('{"fromUrl":"a"}');
      expect([...await s.queries.quarantined(['r1', 'r2', 'r3'])]).toEqual(['r1']);
    });

    it('keeps every command result and each agent\'s newest status', async () => {
      await s.events.recordResult(CommandResult.fromPartial({ commandId: 'c1', rigId: 'r1', outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: 'timeout', durationMs: 12 }), T0);
      await s.events.recordResult(CommandResult.fromPartial({ commandId: 'c1', rigId: 'r1', outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: '', durationMs: 5 }), T0 + 1);
      expect(await s.events.resultsForCommand('c1')).toEqual([
        { outcome: 'COMMAND_OUTCOME_FAILED', cause: 'timeout', duration_ms: 12 }, { outcome: 'COMMAND_OUTCOME_SUCCEEDED', cause: '', duration_ms: 5 },
      ]);
      await s.events.recordAgentStatus(AgentStatus.fromPartial({ agentId: 'a1', online: true, at: new Date(T0 + 1000) }));
      await s.events.recordAgentStatus(AgentStatus.fromPartial({ agentId: 'a1', online: false, at: new Date(T0) }));
      expect((await s.events.agentStatus('a1'))!.online).toBe(true);
      expect((await s.events.listAgentStatus()).map((a) => a.agentId)).toEqual(['a1']);
      expect(await s.events.agentStatus('nobody')).toBeUndefined();
    });

    it('stores a result heard twice once (the agent resending it, or each controller of a shared group storing it)', async () => {
      const done = CommandResult.fromPartial({ commandId: 'c7', rigId: 'r1', outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: '', durationMs: 9, finishedAt: new Date(T0 + 9) });
      await s.events.recordResult(done, T0 + 10);
      await s.events.recordResult(done, T0 + 20);
      const noTime = CommandResult.fromPartial({ commandId: 'c7', rigId: 'r1', outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: 'replayed', durationMs: 0 });
      await s.events.recordResult(noTime, T0 + 30);
      await s.events.recordResult(noTime, T0 + 40);
      expect(await s.events.resultsForCommand('c7')).toEqual([
        { outcome: 'COMMAND_OUTCOME_SUCCEEDED', cause: '', duration_ms: 9 }, { outcome: 'COMMAND_OUTCOME_REJECTED', cause: 'replayed', duration_ms: 0 },
      ]);
    });

    it('rolls complete minutes and hours up, serves them as series, and prunes old raw snapshots but a miner\'s latest', async () => {
      const base = Date.parse('2026-11-22T10:00:00Z');
      const at = (rigId: string, seq: number, ms: number, hashrate: number): MinerSnapshot =>
        MinerSnapshot.fromPartial({ rigId, minerId: 'm1', seq, hashrate5sHs: hashrate, collectedAt: new Date(ms), agentId: 'a', boards: [{ index: 0, boardTempC: 70 }] });
      await s.rigs.writeSnapshots([at('r1', 1, base + 1000, 100), at('r1', 2, base + 2000, 300), at('r1', 3, base + 61_000, 200)]);
      const now = base + 2 * 3_600_000;
      const result = await s.rollups.rollUpAndPrune(now, base - 3_600_000, { rawMs: 3_600_000, minuteMs: 86_400_000, hourMs: 86_400_000 });
      expect(result).toEqual({ minute: 2, hour: 1, prunedRaw: 2 });
      expect(await s.rollups.series('r1', '1m', base, now)).toEqual([
        { rig_id: 'r1', bucket_start: base, samples: 2, hashrate_avg: 200, hashrate_min: 100, hashrate_max: 300, temp_max: 70 },
        { rig_id: 'r1', bucket_start: base + 60_000, samples: 1, hashrate_avg: 200, hashrate_min: 200, hashrate_max: 200, temp_max: 70 },
      ]);
      expect(await s.rollups.series('r1', '1h', base, now)).toEqual([
        { rig_id: 'r1', bucket_start: base, samples: 3, hashrate_avg: 200, hashrate_min: 100, hashrate_max: 300, temp_max: 70 },
      ]);
      expect((await s.queries.snapshots('r1', 0, now, 10)).map((x) => x.snapshot.seq)).toEqual([3]);
      // Again: the minute whose raw snapshots are pruned keeps its rollup; the other is replaced, not doubled.
      expect((await s.rollups.rollUpAndPrune(now, base - 3_600_000)).minute).toBe(1);
      expect((await s.rollups.series('r1', '1m', base, now)).map((r) => r.samples)).toEqual([2, 1]);
    });

    it('serves raw snapshots over a range, oldest first, the newest `limit` of them', async () => {
      await s.rigs.writeSnapshots([snap('r1', 1), snap('r1', 2), snap('r1', 3), snap('r2', 1)]);
      const rows = await s.queries.snapshots('r1', T0, T0 + 10_000, 2);
      expect(rows.map((r) => [r.minerId, r.collectedAt, r.snapshot.seq])).toEqual([['m1', T0 + 2000, 2], ['m1', T0 + 3000, 3]]);
    });

    it('records fleet specs and serves the newest and the history', async () => {
      expect(await s.specs.latest()).toBeUndefined();
      await s.specs.record({ version: 'v1', yaml: 'a: 1', applied_at: T0, applied_by: 'file:fleet.yaml' });
      await s.specs.record({ version: 'v2', yaml: 'a: 2', applied_at: T0 + 1, applied_by: 'apikey:k' });
      expect(await s.specs.latest()).toMatchObject({ version: 'v2', yaml: 'a: 2', applied_at: T0 + 1, applied_by: 'apikey:k' });
      expect((await s.specs.history()).map((h) => h.version)).toEqual(['v2', 'v1']);
    });

    it('keeps API keys: lookup, list, revoke once, last use, and whether a working admin key exists', async () => {
      const hash = SecretBytes.generate();
      await s.apiKeys.insert({ id: 'aaaaaaaaaaaaaaaa', principal: 'ops', scope: 'admin', hash, created: T0, notBefore: T0, expires: T0 + 1000 }, 'ops');
      await s.apiKeys.insert({ id: 'bbbbbbbbbbbbbbbb', principal: 'ro', scope: 'read', hash, created: T0 + 1, notBefore: T0, expires: Number.MAX_SAFE_INTEGER }, 'ro');
      expect(await s.apiKeys.findById('aaaaaaaaaaaaaaaa')).toMatchObject({ principal: 'ops', scope: 'admin', expires: T0 + 1000, created: T0 });
      expect((await s.apiKeys.findById('aaaaaaaaaaaaaaaa'))!.hash.exposeBase64url()).toBe(hash.exposeBase64url());
      expect(await s.apiKeys.info('bbbbbbbbbbbbbbbb')).toEqual({ id: 'bbbbbbbbbbbbbbbb', name: 'ro', scopes: ['read'], created: T0 + 1, notBefore: T0 });
      expect(await s.apiKeys.count()).toBe(2);
      expect(await s.apiKeys.hasActiveAdmin(T0 + 10)).toBe(true);
      expect(await s.apiKeys.hasActiveAdmin(T0 + 1000)).toBe(false);
      await s.apiKeys.markUsed('bbbbbbbbbbbbbbbb', T0 + 50);
      await s.apiKeys.markUsed('bbbbbbbbbbbbbbbb', T0 + 20);
      expect(await s.apiKeys.revoke('aaaaaaaaaaaaaaaa', T0 + 5)).toBe(true);
      expect(await s.apiKeys.revoke('aaaaaaaaaaaaaaaa', T0 + 9)).toBe(true);
      expect(await s.apiKeys.revoke('cccccccccccccccc', T0)).toBe(false);
      expect((await s.apiKeys.list()).map((k) => [k.id, k.revoked, k.lastUsed])).toEqual([['aaaaaaaaaaaaaaaa', T0 + 5, undefined], ['bbbbbbbbbbbbbbbb', undefined, T0 + 50]]);
      expect(await s.apiKeys.hasActiveAdmin(T0 + 10)).toBe(false);
    });

    it('appends audit rows 1, 2, 3 in one verifiable chain and filters them newest first', async () => {
      await s.audit.append({ principal: 'apikey:k', keyId: 'k', action: 'FleetService/RestartMiner', target: 'rig-1', outcome: 'ok' });
      await s.audit.append({ principal: 'controller', action: 'rigkey.rotate', target: 'rig-1', outcome: 'retired', detail: { oldKeyId: 'k1' } });
      await s.audit.append({ principal: 'policy:failover', action: 'command.switch-pool', target: 'rig-2', outcome: 'succeeded' });
      expect((await s.audit.query()).map((r) => r.seq)).toEqual([3, 2, 1]);
      expect((await s.audit.query({ target: 'rig-1', limit: 1 })).map((r) => [r.seq, r.detail])).toEqual([[2, '{"oldKeyId":"k1"}']]);
      const anchor = await s.audit.anchor();
      expect(anchor.seq).toBe(3);
      expect(await s.audit.verify()).toMatchObject({ ok: true, entries: 3 });
    });
    const restart: CommandPayload = { $case: 'restartMiner', value: {} };
    const newCommand = (id: string, payload: CommandPayload = restart, rigId = 'rig-1', createdAt = T0) =>
      ({ id, rigId, minerId: 'm1', payload, createdAt, deadline: createdAt + 60_000, requestedBy: 'operator:k1', reason: 'why' });

    it.each<[string, CommandPayload]>([
      ['set-pools', { $case: 'setPools', value: { pools: [{ url: 'stratum+tcp://a:3333', user: 'w', password: 'p' }, { url: 'stratum+ssl://b:443', user: 'w', password: '' }] } }],
      ['switch-pool', { $case: 'switchPool', value: { poolIndex: 2 } }],
      ['apply-profile', { $case: 'applyProfile', value: { profile: 'eco' } }],
      ['power-cycle', { $case: 'powerCycle', value: {} }],
      ['retire-key', { $case: 'retireKey', value: { keyId: 'k0' } }],
    ])('stores a %s command as PENDING and reads back the same payload', async (type, payload) => {
      expect(await s.commands.insert(newCommand('c-1', payload))).toMatchObject({ type, state: 'PENDING', attempts: 0 });
      expect(await s.commands.get('c-1')).toEqual({
        id: 'c-1', rigId: 'rig-1', minerId: 'm1', type, payload, state: 'PENDING', attempts: 0, createdAt: T0, deadline: T0 + 60_000,
        sentAt: undefined, finishedAt: undefined, cause: '', requestedBy: 'operator:k1', reason: 'why',
      });
      expect(await s.commands.get('nope')).toBeUndefined();
    });

    it('refuses a second command with the same id and keeps the first', async () => {
      await s.commands.insert(newCommand('c-1'));
      await expect(s.commands.insert({ ...newCommand('c-1'), reason: 'again' })).rejects.toThrow(/UNIQUE|duplicate key/);
      expect(await s.commands.get('c-1')).toMatchObject({ reason: 'why' });
    });

    it('runs the command state machine: attempts counted, PENDING -> SENT, the first outcome wins, a finished command stays put', async () => {
      await s.commands.insert(newCommand('c-1'));
      expect(await s.commands.markSent('c-1', T0 + 1)).toBe(true);
      expect(await s.commands.markSent('c-1', T0 + 2)).toBe(true);
      expect(await s.commands.get('c-1')).toMatchObject({ state: 'SENT', attempts: 2, sentAt: T0 + 2 });
      await s.commands.noteCause('c-1', 'too_old: 40 s');
      expect(await s.commands.get('c-1')).toMatchObject({ state: 'SENT', cause: 'too_old: 40 s' });
      expect(await s.commands.finish('c-1', 'SUCCEEDED', 'restarted', T0 + 3)).toBe(true);
      expect(await s.commands.finish('c-1', 'FAILED', 'late', T0 + 4)).toBe(false);
      await s.commands.noteCause('c-1', 'ignored');
      expect(await s.commands.markSent('c-1', T0 + 5)).toBe(false); // acknowledged late: counted, state kept
      expect(await s.commands.get('c-1')).toMatchObject({ state: 'SUCCEEDED', cause: 'restarted', finishedAt: T0 + 3, attempts: 3, sentAt: T0 + 5 });
      await expect(s.commands.finish('c-1', 'SENT', '', T0)).rejects.toThrow(/not a final state/);
      expect(await s.commands.markSent('nope', T0)).toBe(false);
      expect(await s.commands.finish('nope', 'FAILED', '', T0)).toBe(false);
      // A PENDING command can finish without being sent (its deadline passed while the broker was down).
      await s.commands.insert(newCommand('c-2'));
      expect(await s.commands.finish('c-2', 'TIMED_OUT', 'no broker', T0 + 60_000)).toBe(true);
      expect(await s.commands.get('c-2')).toMatchObject({ state: 'TIMED_OUT', attempts: 0 });
    });

    it('records which controller sent a command\'s last attempt and under which lease epoch', async () => {
      await s.commands.insert(newCommand('c-1'));
      await s.commands.markSent('c-1', T0 + 1);
      expect((await s.commands.get('c-1'))!.sentBy).toBeUndefined();
      await s.commands.markSent('c-1', T0 + 2, { replicaId: 'ctl-b', leaseEpoch: 7 });
      await s.commands.markSent('c-1', T0 + 3);
      expect(await s.commands.get('c-1')).toMatchObject({ attempts: 3, sentBy: 'ctl-b', leaseEpoch: 7 });
      expect((await s.commands.list('', 1))[0]).toMatchObject({ sentBy: 'ctl-b', leaseEpoch: 7 });
    });

    it('keeps one outcome when two finishes race on one command', async () => {
      await s.commands.insert(newCommand('c-1'));
      await s.commands.markSent('c-1', T0 + 1);
      const won = await Promise.all([
        s.commands.finish('c-1', 'SUCCEEDED', 'a', T0 + 2), s.commands.finish('c-1', 'FAILED', 'b', T0 + 2), s.commands.finish('c-1', 'TIMED_OUT', 'c', T0 + 2),
      ]);
      expect(won.filter(Boolean)).toHaveLength(1);
      const stored = (await s.commands.get('c-1'))!;
      expect({ SUCCEEDED: 'a', FAILED: 'b', TIMED_OUT: 'c' }[stored.state as 'SUCCEEDED']).toBe(stored.cause);
    });

    it('notes an observed outcome beside the recorded state, once', async () => {
      await s.commands.insert(newCommand('c-1'));
      await s.commands.finish('c-1', 'TIMED_OUT', 'no result', T0 + 60_000);
      expect(await s.commands.annotateObserved('c-1', 'succeeded-observed', T0 + 61_000, 'uptime reset')).toBe(true);
      expect(await s.commands.annotateObserved('c-1', 'succeeded-observed', T0 + 62_000, 'again')).toBe(false);
      expect(await s.commands.get('c-1')).toMatchObject({ state: 'TIMED_OUT', observedOutcome: 'succeeded-observed', observedAt: T0 + 61_000, observedNote: 'uptime reset' });
    });

    it('lists commands newest first, per rig or all, and finds the unfinished ones oldest first', async () => {
      await s.commands.insert(newCommand('a', restart, 'rig-1', T0));
      await s.commands.insert(newCommand('b', restart, 'rig-2', T0 + 1000));
      await s.commands.insert(newCommand('c', restart, 'rig-1', T0 + 2000));
      await s.commands.finish('a', 'TIMED_OUT', 'no result', T0 + 60_000);
      await s.commands.markSent('c', T0 + 2000);
      expect((await s.commands.list('', 10)).map((c) => c.id)).toEqual(['c', 'b', 'a']);
      expect((await s.commands.list('rig-1', 10)).map((c) => c.id)).toEqual(['c', 'a']);
      expect((await s.commands.list('', 1)).map((c) => c.id)).toEqual(['c']);
      expect((await s.commands.unfinished()).map((c) => [c.id, c.state])).toEqual([['b', 'PENDING'], ['c', 'SENT']]);
    });

    it('gives the dashboard the event log by rig, severity, kind prefix, time and stream position', async () => {
      const ev = (id: string, rigId: string, kind: string, severity: string, at: number): RigEvent => ({ ...event(id, rigId, kind, at), severity });
      await s.events.recordEvent(ev('e1', 'r1', 'policy.switch-pool', 'warning', T0 + 1000), 'failover');
      await s.events.recordEvent(ev('e2', 'r2', 'safety.critical_temperature', 'critical', T0 + 2000), 'agent');
      await s.events.recordEvent(ev('e3', 'r1', 'policy_x.other', 'info', T0 + 3000), 'thermal');
      const ids = async (filter: Parameters<DashboardReadStore['events']>[0]): Promise<string[]> => (await s.dashboard.events(filter)).map((e) => e.eventId);
      expect(await ids({ limit: 10 })).toEqual(['e3', 'e2', 'e1']);
      expect(await ids({ rigId: 'r1', limit: 10 })).toEqual(['e3', 'e1']);
      expect(await ids({ severity: ['warning', 'critical'], limit: 10 })).toEqual(['e2', 'e1']);
      expect(await ids({ kindPrefix: 'policy_', limit: 10 })).toEqual(['e3']);
      expect(await ids({ kindPrefix: 'policy.', limit: 10 })).toEqual(['e1']);
      expect(await ids({ since: T0 + 2000, limit: 10 })).toEqual(['e3', 'e2']);
      expect(await ids({ limit: 1 })).toEqual(['e3']);
      const all = await s.dashboard.events({ limit: 10 });
      expect(all[0]).toMatchObject({ eventId: 'e3', rigId: 'r1', kind: 'policy_x.other', severity: 'info', at: T0 + 3000, source: 'thermal' });
      const first = all[2]!.seq;
      expect(await ids({ afterSeq: first, limit: 10 })).toEqual(['e2', 'e3']);
      expect(await s.dashboard.lastEventSeq()).toBe(all[0]!.seq);
    });

    it('gives the dashboard command results by stream position, and a rig\'s chart from raw snapshots or rollups', async () => {
      expect(await s.dashboard.lastCommandResultSeq()).toBe(0);
      expect(await s.dashboard.lastEventSeq()).toBe(0);
      await s.events.recordResult(CommandResult.fromPartial({ commandId: 'c1', rigId: 'r1', outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: 'x', durationMs: 3 }), T0);
      await s.events.recordResult(CommandResult.fromPartial({ commandId: 'c2', rigId: 'r2', outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: '', durationMs: 4, finishedAt: new Date(T0 + 5) }), T0 + 10);
      const results = await s.dashboard.commandResults({ limit: 10 });
      expect(results.map((r) => [r.commandId, r.outcome, r.durationMs, r.finishedAt, r.receivedAt])).toEqual([
        ['c2', 'COMMAND_OUTCOME_SUCCEEDED', 4, T0 + 5, T0 + 10], ['c1', 'COMMAND_OUTCOME_FAILED', 3, null, T0],
      ]);
      expect((await s.dashboard.commandResults({ afterSeq: results[1]!.seq, limit: 10 })).map((r) => r.commandId)).toEqual(['c2']);
      expect((await s.dashboard.commandResults({ rigId: 'r1', limit: 10 })).map((r) => r.commandId)).toEqual(['c1']);
      expect(await s.dashboard.lastCommandResultSeq()).toBe(results[0]!.seq);

      const at = (minerId: string, seq: number, ms: number, hashrate: number, extra: { powerW?: number; boards?: Array<{ index: number; boardTempC: number }>; fans?: Array<{ index: number; rpm: number }> } = {}): MinerSnapshot =>
        MinerSnapshot.fromPartial({ rigId: 'r1', minerId, seq, hashrate5sHs: hashrate, collectedAt: new Date(ms), agentId: 'a', ...extra });
      await s.rigs.writeSnapshots([
        at('a', 1, T0, 1e12, { boards: [{ index: 0, boardTempC: 61 }], fans: [{ index: 0, rpm: 5000 }] }),
        at('b', 2, T0 + 1, 2e12, { powerW: 3000, fans: [{ index: 0, rpm: 4000 }] }),
        at('a', 3, T0 + 30_000, 3e12, { boards: [{ index: 0, boardTempC: 65 }] }),
      ]);
      expect(await s.dashboard.series('r1', T0, T0 + 60_000, 'raw', 1)).toEqual([{ at: T0, hashrateHs: 4e12, tempMaxC: 65, powerW: 3000, fanMinRpm: 4000 }]);
      expect((await s.dashboard.series('r1', T0, T0 + 60_000, 'raw', 2)).map((p) => [p.at, p.hashrateHs])).toEqual([[T0, 3e12], [T0 + 30_000, 3e12]]);
      expect(await s.dashboard.series('r1', T0 + 120_000, T0 + 180_000, 'raw', 4)).toEqual([]);
      await s.rollups.rollUpAndPrune(T0 + 3 * 3_600_000, T0 - 3_600_000);
      expect(await s.dashboard.series('r1', T0, T0 + 3_600_000, '1m')).toEqual([
        { at: T0, hashrateHs: 2e12, tempMaxC: 65, powerW: null, fanMinRpm: null },
      ]);
    });

    it('tells the alert rules each rig\'s connectivity, all or some', async () => {
      await s.rigs.writeSnapshots([snap('r1', 1), snap('r2', 4)]);
      await s.rigs.writeState(RigState.fromPartial({ rigId: 'r3', agentId: 'a3', online: true, at: new Date(T0) }));
      await s.rigs.writeState(RigState.fromPartial({ rigId: 'r2', agentId: 'agent-1', online: false, at: new Date(T0 + 60_000) }));
      const byId = (rows: Awaited<ReturnType<RigPresenceStore['all']>>) => [...rows].sort((a, b) => a.rigId.localeCompare(b.rigId));
      expect(byId(await s.presence.all())).toEqual([
        { rigId: 'r1', online: true, lastSeen: T0 + 1000 }, { rigId: 'r2', online: false, lastSeen: T0 + 4000 }, { rigId: 'r3', online: true },
      ]);
      expect(byId(await s.presence.some(['r3', 'r1', 'nope']))).toEqual([{ rigId: 'r1', online: true, lastSeen: T0 + 1000 }, { rigId: 'r3', online: true }]);
      expect(await s.presence.some([])).toEqual([]);
      const many = Array.from({ length: 1200 }, (_, i) => `x${i}`);
      expect((await s.presence.some([...many, 'r2'])).map((p) => p.rigId)).toEqual(['r2']);
    });
  });
}
