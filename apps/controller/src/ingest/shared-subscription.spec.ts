import 'reflect-metadata';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { MinerSnapshot, RigState, RigTopics, encodeJson } from '@rigwarden/protocol';
import { makeTempDir, startMosquitto, waitFor, type TempDir, type TestMosquitto } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { ControllerConfigError, loadControllerConfig, type ControllerConfig } from '../config/controller-config';
import { EmbeddedBrokerService } from '../broker/embedded-broker.service';
import { EventRepository } from '../persistence/event-repository';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { TelemetryIngestService } from './telemetry-ingest.service';

// MQTT 5 shared subscriptions need a real MQTT 5 broker (startMosquitto): aedes, the embedded broker, has neither
// MQTT 5 nor shared subscriptions.

async function startController(config: ControllerConfig): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
  await moduleRef.init();
  return moduleRef;
}

function configFor(dir: string, env: NodeJS.ProcessEnv, extra: string[] = []): ControllerConfig {
  return loadControllerConfig(['--data-dir', dir, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', ...extra], env);
}

describe('ingest: MQTT 5 shared subscriptions (Mosquitto)', () => {
  const topicRoot = `test-shared-${randomBytes(6).toString('hex')}/v1`;
  const topics = new RigTopics(topicRoot);
  let dir: TempDir;
  let mosquitto: TestMosquitto;
  let publisher: MqttClient;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    dir = makeTempDir();
    mosquitto = await startMosquitto(dir.path);
    publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `pub-${topicRoot}`, reconnectPeriod: 0, connectTimeout: 3000 });
    // Retained before either controller subscribes: only a plain subscription receives it.
    await publisher.publishAsync(topics.rig('shared-state', 'state'),
      encodeJson(RigState, RigState.fromPartial({ rigId: 'shared-state', agentId: 'a', online: true, at: new Date(), labels: { row: '7' } })), { qos: 1, retain: true });
    for (const name of ['a', 'b']) {
      apps.push(await startController(configFor(join(dir.path, name), {
        MQTT_URL: mosquitto.url, RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${name}-${topicRoot}`,
      }, ['--mqtt-shared-group', 'ingest'])));
    }
  });

  afterAll(async () => {
    await publisher?.publishAsync(topics.rig('shared-state', 'state'), '', { qos: 1, retain: true });
    await publisher?.endAsync();
    for (const app of apps) await app.close();
    await mosquitto?.stop();
    dir?.remove();
  });

  it('splits telemetry between two controllers of one group: every snapshot stored once, none lost, none doubled', async () => {
    const rigs = 30;
    const perRig = 10;
    const sent: string[] = [];
    for (let seq = 1; seq <= perRig; seq++) {
      for (let r = 0; r < rigs; r++) {
        const rigId = `shared-${r}`;
        const snapshot = MinerSnapshot.fromPartial({ rigId, minerId: 'm1', seq, collectedAt: new Date(), hashrate5sHs: 1e12 });
        sent.push(`${rigId}/${seq}`);
        await publisher.publishAsync(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, snapshot), { qos: 1 });
      }
    }
    const ingests = apps.map((app) => app.get(TelemetryIngestService));
    await waitFor('all snapshots stored', () => (ingests.reduce((n, i) => n + i.counters.stored, 0) >= sent.length ? true : undefined));

    const stored = await Promise.all(apps.map(async (app) => (await app.get(SqliteDatabase).all<{ rig_id: string; seq: number }>(
      "SELECT rig_id, seq FROM snapshots WHERE rig_id LIKE 'shared-%'")).map((r) => `${r.rig_id}/${r.seq}`)));
    const [a, b] = stored as [string[], string[]];
    expect(a.length).toBeGreaterThan(0); // both took a share
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((k) => b.includes(k))).toEqual([]); // none doubled
    expect([...a, ...b].sort()).toEqual([...sent].sort()); // none lost
    expect(ingests.reduce((n, i) => n + i.counters.received, 0)).toBeGreaterThanOrEqual(sent.length);
  });

  it('gives every controller the retained rig states (a plain subscription, not shared)', async () => {
    for (const app of apps) {
      const rig = await waitFor('the retained state', () => app.get(RigRepository).getRig('shared-state'));
      expect(rig).toMatchObject({ online: true, labels: { row: '7' } });
    }
  });
});

describe('ingest: --mqtt-shared-group without an MQTT 5 broker', () => {
  let dir: TempDir;
  beforeAll(() => { dir = makeTempDir(); });
  afterAll(() => dir.remove());

  it('refuses the embedded broker at start-up, saying what to use instead', () => {
    expect(() => configFor(dir.path, { RIGWARDEN_MQTT_SHARED_GROUP: 'ingest' })).toThrow(ControllerConfigError);
    expect(() => configFor(dir.path, {}, ['--mqtt-shared-group', 'ingest'])).toThrow(/MQTT 5 broker .*Mosquitto 2.*--mqtt-url \/ MQTT_URL.*aedes/);
    expect(() => configFor(dir.path, { MQTT_URL: 'mqtt://127.0.0.1:1883' }, ['--mqtt-shared-group', 'a/b'])).toThrow(/--mqtt-shared-group.*"a\/b"/);
  });

  it('fails to start against an MQTT 3.1.1 broker (aedes at MQTT_URL) with a clear error', async () => {
    const broker = await Aedes.createBroker();
    const server: Server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const config = configFor(join(dir.path, 'aedes'), { MQTT_URL: url, RIGWARDEN_TOPIC_ROOT: `test-aedes-${randomBytes(4).toString('hex')}/v1` }, ['--mqtt-shared-group', 'ingest']);
      const db = await SqliteDatabase.open(join(dir.path, 'aedes.db'));
      const ingest = new TelemetryIngestService(config, new EmbeddedBrokerService(config), new RigRepository(db), new EventRepository(db));
      try {
        await expect(ingest.onModuleInit()).rejects.toThrow(/--mqtt-shared-group ingest: the broker at .* refused MQTT 5 .*Mosquitto 2/);
      } finally {
        await ingest.onModuleDestroy();
        await db.close();
      }
    } finally {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
