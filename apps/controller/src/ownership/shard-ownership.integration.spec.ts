import { waitFor } from '@rigwarden/testing';
import { PostgresLeaseStore } from '../persistence/postgres/postgres-lease.store';
import { openTestSchema, type TestSchema } from '../persistence/postgres/postgres.testing';
import { GatedLeases } from './lease-gate.testing';
import { ShardOwnership, type BrokerLink, type OwnershipTiming } from './shard-ownership.service';

/** Short leases so that takeovers happen within a test: 1 s leases renewed every 150 ms. */
const TIMING: OwnershipTiming = { leaseMs: 1000, renewMs: 150, marginMs: 200 };
const RIGS = Array.from({ length: 500 }, (_, i) => `rig-${String(i).padStart(4, '0')}`);

describe('shard leases in PostgreSQL (ShardOwnership on the real server)', () => {
  let pg: TestSchema;
  const replicas: Array<{ own: ShardOwnership; store: GatedLeases; clockOffset: number }> = [];

  async function start(id: string, broker?: BrokerLink): Promise<{ own: ShardOwnership; store: GatedLeases; clockOffset: number }> {
    const store = new GatedLeases(new PostgresLeaseStore(pg.db));
    const r = { own: new ShardOwnership({ replicaId: id, ownership: TIMING }, store, broker), store, clockOffset: 0 };
    r.own.monotonic = () => performance.now() + r.clockOffset;
    replicas.push(r);
    await r.own.onModuleInit();
    return r;
  }

  /** Every rig owned by exactly one replica (and never by two at once). */
  function owners(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const rig of RIGS) out.set(rig, replicas.filter((r) => r.own.owns(rig)).map((r) => r.own.replicaId!));
    return out;
  }
  function assertNoDoubleOwner(): void {
    const doubled = [...owners()].filter(([, o]) => o.length > 1);
    expect(doubled).toEqual([]);
  }

  beforeEach(async () => { pg = await openTestSchema(); });
  afterEach(async () => {
    for (const r of replicas.splice(0)) { r.store.unblock(); await r.own.stop(); }
    await pg.drop();
  });

  it('one replica takes every shard; a second and a third join and the shards split evenly, never owned twice', async () => {
    const a = await start('ctl-a');
    expect(a.own.view().held).toHaveLength(64);
    expect(RIGS.every((rig) => a.own.epochFor(rig) === 1)).toBe(true);
    await start('ctl-b');
    await start('ctl-c');
    await waitFor('an even split', () => {
      assertNoDoubleOwner();
      const counts = replicas.map((r) => r.own.view().held.length);
      const everyRigOwned = [...owners().values()].every((o) => o.length === 1);
      return counts.sort().join(',') === '21,21,22' && everyRigOwned ? counts : undefined;
    }, 8000, 20);
    // A shard that moved was taken under a new epoch: commands of its former owner are older.
    const moved = replicas.slice(1).flatMap((r) => r.own.view().held);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((l) => l.epoch >= 2)).toBe(true);
  });

  it('takes a silent replica\'s shards within the lease time plus a round, under higher epochs; the silent one stops acting first', async () => {
    const a = await start('ctl-a');
    const b = await start('ctl-b');
    const c = await start('ctl-c');
    await waitFor('an even split', () => (replicas.every((r) => r.own.view().held.length >= 21) ? true : undefined), 8000, 20);
    const before = new Map(c.own.view().held.map((l) => [l.shard, l.epoch]));
    const takenBefore = a.own.counters.takeovers + b.own.counters.takeovers;
    const itsRigs = RIGS.filter((rig) => c.own.owns(rig));
    // kill -9 as the others see it: no more rounds.
    c.store.block();
    const killedAt = performance.now();
    let selfLapseMs: number | undefined;
    await waitFor('its rigs owned again by the others', () => {
      if (selfLapseMs === undefined && itsRigs.every((rig) => !c.own.owns(rig))) selfLapseMs = performance.now() - killedAt;
      const byOthers = itsRigs.every((rig) => a.own.owns(rig) !== b.own.owns(rig));
      // Never two owners at once: the silent replica's own view lapses before the database lets others take over.
      for (const rig of itsRigs) expect(Number(a.own.owns(rig)) + Number(b.own.owns(rig)) + Number(c.own.owns(rig))).toBeLessThanOrEqual(1);
      return byOthers ? true : undefined;
    }, 5000, 10);
    const takeoverMs = performance.now() - killedAt;
    expect(selfLapseMs).toBeDefined();
    expect(selfLapseMs!).toBeLessThan(TIMING.leaseMs);
    expect(takeoverMs).toBeLessThan(TIMING.leaseMs + 3 * TIMING.renewMs + 500);
    for (const l of [...a.own.view().held, ...b.own.view().held]) {
      if (before.has(l.shard)) expect(l.epoch).toBeGreaterThan(before.get(l.shard)!);
    }
    expect(a.own.view().held.length + b.own.view().held.length).toBe(64);
    // /metrics counts each shard taken over once.
    expect(a.own.counters.takeovers + b.own.counters.takeovers - takenBefore).toBe(before.size);
    expect(c.own.counters.renewFailures).toBe(0);
  });

  it('counts a failed lease round as a renew failure', async () => {
    const failing = { round: () => Promise.reject(new Error('connection refused')), epochOf: () => Promise.resolve(0), leave: () => Promise.resolve() };
    const own = new ShardOwnership({ replicaId: 'ctl-x', ownership: TIMING }, failing);
    await own.round();
    await own.round();
    expect(own.counters).toEqual({ takeovers: 0, renewFailures: 2, brokerReleases: 0 });
    await own.stop();
  });

  it('a paused replica acts on no rig once its lease time has passed, before any round, and comes back with new epochs only', async () => {
    const a = await start('ctl-a');
    const b = await start('ctl-b');
    await waitFor('an even split', () => (a.own.view().held.length === 32 && b.own.view().held.length === 32 ? true : undefined), 8000, 20);
    const paused = RIGS.filter((rig) => b.own.owns(rig));
    const epochsBefore = new Map(paused.map((rig) => [rig, b.own.epochFor(rig)!]));
    // SIGSTOP: no round runs, and when it resumes its monotonic clock has moved on by the pause.
    b.store.block();
    b.clockOffset = 30_000;
    expect(paused.filter((rig) => b.own.owns(rig))).toEqual([]);
    // Nor does it send for them under another's epoch (an operator's command it had taken up) before a round runs.
    expect(b.own.lapsed()).toBe(true);
    await expect(b.own.currentEpoch(paused[0]!)).rejects.toThrow(/this controller \(ctl-b\) lapsed/);
    await waitFor('the paused replica\'s rigs taken over', () => (paused.every((rig) => a.own.owns(rig)) ? true : undefined), 5000, 20);
    // SIGCONT: its rounds run again; whatever it holds afterwards it took under a new epoch.
    b.store.unblock();
    await waitFor('an even split again', () => (a.own.view().held.length === 32 && b.own.view().held.length === 32 ? true : undefined), 8000, 20);
    assertNoDoubleOwner();
    expect(b.own.lapsed()).toBe(false);
    expect(await b.own.currentEpoch(paused[0]!)).toBe(a.own.epochFor(paused[0]!) ?? b.own.epochFor(paused[0]!));
    for (const rig of paused.filter((r) => b.own.owns(r))) expect(b.own.epochFor(rig)!).toBeGreaterThan(epochsBefore.get(rig)!);
  });

  it('a clean stop gives the leases back at once', async () => {
    const a = await start('ctl-a');
    const b = await start('ctl-b');
    await waitFor('an even split', () => (a.own.view().held.length === 32 ? true : undefined), 8000, 20);
    const stoppedAt = performance.now();
    await b.own.stop();
    await waitFor('every shard held by ctl-a', () => (a.own.view().held.length === 64 ? true : undefined), 3000, 10);
    expect(performance.now() - stoppedAt).toBeLessThan(TIMING.leaseMs);
  });

  it('a replica without the MQTT broker for the lease time gives its leases back; the others take its rigs; back with the broker, it takes a share under new epochs', async () => {
    const link = { brokerConnected: true };
    const a = await start('ctl-a');
    const b = await start('ctl-b', link);
    await waitFor('an even split', () => (a.own.view().held.length === 32 && b.own.view().held.length === 32 ? true : undefined), 8000, 20);
    const itsRigs = RIGS.filter((rig) => b.own.owns(rig));
    const epochsBefore = new Map(itsRigs.map((rig) => [rig, b.own.epochFor(rig)!]));
    const lost: number[] = [];
    b.own.onChange((c) => lost.push(...c.lost));
    link.brokerConnected = false;
    const downAt = performance.now();
    // A blip shorter than the grace changes nothing: its rounds go on.
    await b.own.round();
    expect(b.own.view().held).toHaveLength(32);
    await waitFor('ctl-b to give its leases back', () => (b.own.counters.brokerReleases === 1 ? true : undefined), 5000, 20);
    expect(performance.now() - downAt).toBeGreaterThanOrEqual(TIMING.leaseMs - 50);
    expect(itsRigs.filter((rig) => b.own.owns(rig))).toEqual([]);
    expect(lost.sort((x, y) => x - y)).toHaveLength(32);
    await waitFor('ctl-a to own every rig', () => (a.own.view().held.length === 64 ? true : undefined), 5000, 20);
    assertNoDoubleOwner();
    // Still without the broker: it stays out (not live, so the fair share is ctl-a's alone).
    await b.own.round();
    expect(b.own.view().held).toEqual([]);
    expect(b.own.counters.brokerReleases).toBe(1);
    link.brokerConnected = true;
    await waitFor('an even split again', () => (a.own.view().held.length === 32 && b.own.view().held.length === 32 ? true : undefined), 8000, 20);
    assertNoDoubleOwner();
    for (const rig of RIGS.filter((r) => b.own.owns(r) && epochsBefore.has(r))) expect(b.own.epochFor(rig)!).toBeGreaterThan(epochsBefore.get(rig)!);
  });
});
