/**
 * Three controllers sharing one PostgreSQL database (--database, --replica-id) and one broker, with the real agent
 * and simulated miners whose active pool is silent. Each rig's failover is decided by one controller only, the one
 * holding its shard's lease, and its command carries that lease's epoch. Then one controller goes silent (its lease
 * rounds held back, as a killed or paused process): the others take its shards under higher epochs and fail over
 * its rigs; it acts on none of them.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandEnvelope } from '@rigwarden/protocol';
import { SecretBytes } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';
import { AppModule } from '../apps/controller/src/app.module';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { LEASE_STORE } from '../apps/controller/src/persistence/ports/lease.port';
import { PostgresLeaseStore } from '../apps/controller/src/persistence/postgres/postgres-lease.store';
import { openTestSchema, schemaUrl, type TestSchema } from '../apps/controller/src/persistence/postgres/postgres.testing';
import { STORAGE_BACKEND, type StorageBackend } from '../apps/controller/src/persistence/storage-backend';
import { RigReconciler } from '../apps/controller/src/reconcile/rig-reconciler.service';
import { GatedLeases } from '../apps/controller/src/ownership/lease-gate.testing';
import { shardOf } from '../apps/controller/src/ownership/rig-shard.policy';
import { ShardOwnership } from '../apps/controller/src/ownership/shard-ownership.service';

jest.setTimeout(60_000);
const TIMING = { leaseMs: 1500, renewMs: 200, marginMs: 300 };
const SILENT_AFTER_MS = 2000;
const CANDIDATES = Array.from({ length: 200 }, (_, i) => `sf-${String(i).padStart(3, '0')}`);

interface Replica { id: string; app: TestingModule; own: ShardOwnership; gate: GatedLeases }

describe('three controllers sharing the fleet through shard leases', () => {
  let pg: TestSchema;
  let broker: TestBroker;
  let dir: TempDir;
  let keysFile: string;
  let watcher: MqttClient;
  const replicas: Replica[] = [];
  const sims = new Map<string, CgminerSimulator>();
  const agents: Agent[] = [];
  /** Every command envelope seen on the broker, per rig: its lease epochs. */
  const epochsSeen = new Map<string, number[]>();

  beforeAll(async () => {
    pg = await openTestSchema();
    broker = await startTestBroker();
    dir = makeTempDir();
    keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(CANDIDATES.map((r) => [r, [{ id: 'k1', secret: SecretBytes.generate().expose().toString('base64url') }]])) }));
    const poolSim = new CgminerSimulator();
    await poolSim.start();
    sims.set('pools', poolSim);
    const fleetFile = join(dir.path, 'fleet.yaml');
    writeFileSync(fleetFile, [
      'groups:', '  - name: shared', '    match: { rigIdPrefix: "sf-" }', '    pools:',
      ...poolSim.state.pools.map((p) => `      - { url: "${p.url}", user: "${p.user}" }`),
      `    policy: { failover: { silentAfterMs: ${SILENT_AFTER_MS} } }`, '',
    ].join('\n'));
    // One secrets file for all: the API key pepper and the audit key must be the same on every controller of one database.
    const secretsFile = join(dir.path, 'controller-secrets.json');
    for (const id of ['ctl-a', 'ctl-b', 'ctl-c']) {
      const config = {
        ...loadControllerConfig(['--data-dir', join(dir.path, id), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--fleet', fleetFile, '--keys-file', keysFile,
          '--secrets-file', secretsFile, '--database', schemaUrl(pg.schema), '--replica-id', id], {
          MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `${id}-${broker.topicRoot}`,
        }),
        ownership: TIMING,
      };
      let gate: GatedLeases | undefined;
      const app = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] })
        .overrideProvider(LEASE_STORE).useFactory({
          inject: [STORAGE_BACKEND],
          factory: (b: StorageBackend) => (gate = new GatedLeases(new PostgresLeaseStore((b as Extract<StorageBackend, { kind: 'postgres' }>).postgres))),
        })
        .compile();
      await app.init();
      replicas.push({ id, app, own: app.get(ShardOwnership), gate: gate! });
    }
    watcher = await mqtt.connectAsync(broker.url, { clientId: `watch-${broker.topicRoot}` });
    watcher.on('message', (_topic, payload) => {
      const envelope = CommandEnvelope.fromJSON(JSON.parse(payload.toString('utf8')));
      epochsSeen.set(envelope.rigId, [...(epochsSeen.get(envelope.rigId) ?? []), envelope.leaseEpoch]);
    });
    await watcher.subscribeAsync(`${broker.topicRoot}/rigs/+/commands`, { qos: 1 });
  });

  afterAll(async () => {
    await watcher?.endAsync();
    for (const a of agents) await a.stop();
    for (const r of replicas) r.gate.unblock();
    for (const r of replicas) {
      await r.app.get(RigReconciler).idle();
      await r.app.close();
    }
    for (const s of sims.values()) await s.stop();
    await broker?.stop();
    dir?.remove();
    await pg?.drop();
  });

  const owner = (rigId: string): Replica[] => replicas.filter((r) => r.own.owns(rigId));

  /** Starts simulated miners for these rigs behind one agent. */
  async function farm(name: string, rigIds: string[]): Promise<void> {
    const miners = [];
    for (const rig of rigIds) {
      const sim = new CgminerSimulator();
      const { port } = await sim.start();
      sims.set(rig, sim);
      miners.push({ rig, host: '127.0.0.1', port, id: 'm1' });
    }
    const agent = new Agent(parseAgentConfig({
      agent: { id: `agent-${name}`, dataDir: join(dir.path, `agent-${name}`) },
      mqtt: { url: broker.url, clientId: `agent-${name}-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 400 }, security: { keysFile }, miners,
    }, join(dir.path, `agent-${name}.yaml`), {}), systemClock, createLogger('agent', { level: 'error' }));
    agents.push(agent);
    await agent.start();
  }

  async function decisions(rigIds: string[]): Promise<Array<{ rig_id: string; n: number }>> {
    return pg.db.all<{ rig_id: string; n: number }>(
      "SELECT rig_id, COUNT(*)::int AS n FROM events WHERE kind = 'policy.switch-pool' AND rig_id = ANY($1::text[]) GROUP BY rig_id ORDER BY rig_id", [rigIds]);
  }

  it('has each rig failed over by its owner only, under its owner\'s epoch; a silent controller\'s rigs by the others', async () => {
    await waitFor('the shards split over three controllers', () => (replicas.every((r) => r.own.view().held.length >= 21) ? true : undefined), 10_000, 20);
    const byOwner = (r: Replica): string[] => CANDIDATES.filter((rig) => owner(rig).length === 1 && owner(rig)[0] === r);
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const firstRigs = [...byOwner(a).slice(0, 2), ...byOwner(b).slice(0, 2), ...byOwner(c).slice(0, 2)];
    expect(firstRigs).toHaveLength(6);
    const ownerEpochs = new Map(firstRigs.map((rig) => [rig, owner(rig)[0]!.own.epochFor(rig)!]));
    const firstOwner = new Map(firstRigs.map((rig) => [rig, owner(rig)[0]!.id]));
    await farm('one', firstRigs);
    await waitFor('every rig moved to pool 1', () => (firstRigs.every((rig) => sims.get(rig)!.state.activePool === 1) ? true : undefined), 30_000, 100);
    await waitFor('six decisions stored', async () => ((await decisions(firstRigs)).length === 6 ? true : undefined), 10_000, 100);
    expect(await decisions(firstRigs)).toEqual(firstRigs.sort().map((rig) => ({ rig_id: rig, n: 1 })));
    for (const rig of firstRigs) expect(new Set(epochsSeen.get(rig))).toEqual(new Set([ownerEpochs.get(rig)]));
    // The query: each decision, its command, the one controller that sent it and the epoch it carried.
    const sentBy = await pg.db.all<{ rig_id: string; sent_by: string; lease_epoch: number }>(
      `SELECT e.rig_id, c.sent_by, c.lease_epoch FROM events e JOIN commands c ON c.id = e.command_id
        WHERE e.kind = 'policy.switch-pool' AND e.rig_id = ANY($1::text[]) ORDER BY e.rig_id`, [firstRigs]);
    expect(sentBy).toEqual(firstRigs.map((rig) => ({ rig_id: rig, sent_by: firstOwner.get(rig), lease_epoch: ownerEpochs.get(rig) })));

    // ctl-c goes silent: two more of its rigs come up; they are failed over by ctl-a or ctl-b, under newer epochs.
    const later = byOwner(c).slice(2, 4);
    const oldEpochs = new Map(later.map((rig) => [rig, c.own.epochFor(rig)!]));
    c.gate.block();
    const silentAt = performance.now();
    // Their miners start at once: their pools turn silent while ctl-c still holds the leases it no longer renews.
    const started = farm('two', later);
    await waitFor('ctl-c\'s rigs owned by the others', () => (later.every((rig) => owner(rig).length === 1 && owner(rig)[0] !== c) ? true : undefined), 10_000, 20);
    const takeoverMs = performance.now() - silentAt;
    expect(takeoverMs).toBeLessThan(TIMING.leaseMs + 3 * TIMING.renewMs + 1000);
    await started;
    await waitFor('the later rigs moved to pool 1', () => (later.every((rig) => sims.get(rig)!.state.activePool === 1) ? true : undefined), 30_000, 100);
    await waitFor('two more decisions', async () => ((await decisions(later)).length === 2 ? true : undefined), 10_000, 100);
    expect(await decisions(later)).toEqual(later.sort().map((rig) => ({ rig_id: rig, n: 1 })));
    for (const rig of later) {
      const seen = epochsSeen.get(rig)!;
      expect(seen.length).toBeGreaterThan(0);
      for (const epoch of seen) expect(epoch).toBeGreaterThan(oldEpochs.get(rig)!);
      expect(shardOf(rig, 64)).toBe(c.own.shardOf(rig));
    }
    // The silent controller sent the commands of its own two first rigs, and nothing after.
    expect(c.app.get(RigReconciler).counters.commands).toBe(2);
    expect(a.app.get(RigReconciler).counters.commands + b.app.get(RigReconciler).counters.commands).toBe(6);
  });

  it('a controller stopped cleanly gives its leases back before its database closes', async () => {
    const a = replicas.shift()!;
    expect((await pg.db.all("SELECT shard FROM shard_leases WHERE owner = 'ctl-a'")).length).toBeGreaterThan(0);
    await a.app.get(RigReconciler).idle();
    await a.app.close();
    expect(await pg.db.all("SELECT shard FROM shard_leases WHERE owner = 'ctl-a'")).toEqual([]);
    expect(await pg.db.all("SELECT replica_id FROM replicas WHERE replica_id = 'ctl-a'")).toEqual([]);
  });
});
