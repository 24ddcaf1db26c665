import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import mqtt, { type MqttClient } from 'mqtt';
import {
  FleetServiceClient, ListEventsRequest, ListRigsRequest, MinerSnapshot, RigEvent, RigState, RigTopics, encodeJson,
  type ListEventsResponse, type ListRigsResponse, type Rig,
} from '@rigwarden/protocol';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { FleetGrpcServer } from '../../api-grpc/fleet-grpc.server';
import { AppModule } from '../../app.module';
import { loadControllerConfig } from '../../config/controller-config';
import { onPostgres, openTestSchema, type TestSchema } from './postgres.testing';

function unary<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, auth: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, auth, (err, res) => (err ? reject(err) : resolve(res))));
}

/**
 * The real controller module with its whole storage on PostgreSQL (what `--database` selects): telemetry, retained
 * state and events an agent publishes over MQTT are served over gRPC from PostgreSQL.
 */
describe('controller on the PostgreSQL storage ports: MQTT ingest -> PostgreSQL -> gRPC', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let pg: TestSchema;
  let app: INestApplicationContext;
  let publisher: MqttClient;
  let client: InstanceType<typeof FleetServiceClient>;
  let topics: RigTopics;
  let auth: Metadata;

  beforeAll(async () => {
    pg = await openTestSchema();
    broker = await startTestBroker();
    dir = makeTempDir();
    topics = new RigTopics(broker.topicRoot);
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-pg-${broker.topicRoot}`,
    });
    const moduleRef = await onPostgres(Test.createTestingModule({ imports: [AppModule.forConfig(config)] }), pg.db)
      .compile();
    app = moduleRef;
    await moduleRef.init();
    auth = grpcAuth(readAdminToken(dir.path));
    client = new FleetServiceClient(app.get(FleetGrpcServer).address, credentials.createInsecure());
    publisher = await mqtt.connectAsync(broker.url, { clientId: `pub-pg-${broker.topicRoot}` });
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await publisher?.endAsync();
    await app?.close();
    await broker?.stop();
    dir?.remove();
    await pg?.drop();
  });

  const listRigs = (): Promise<ListRigsResponse> => unary(client.listRigs.bind(client), ListRigsRequest.fromPartial({}), auth);
  const getRig = (rigId: string): Promise<Rig> => unary(client.getRig.bind(client), { rigId }, auth);
  const listEvents = (rigId: string): Promise<ListEventsResponse> => unary(client.listEvents.bind(client), ListEventsRequest.fromPartial({ rigId }), auth);

  it('stores an agent\'s telemetry, state and events in PostgreSQL and serves ListRigs, GetRig and ListEvents from there', async () => {
    const sent = MinerSnapshot.fromPartial({
      rigId: 'rig-pg', minerId: '10.0.0.9:4028', host: '10.0.0.9', port: 4028, seq: 1, collectedAt: new Date(), hashrate5sHs: 1.1e14, agentId: 'agent-pg',
      boards: [{ index: 0, hashrateHs: 3e13, boardTempC: 61.5, chipTempC: 75, chips: 76, status: 1, phantomReason: '', pciBusId: '', name: '' }],
    });
    await publisher.publishAsync(topics.rig('rig-pg', 'state'), encodeJson(RigState, RigState.fromPartial({ rigId: 'rig-pg', agentId: 'agent-pg', online: true, at: new Date(), labels: { site: 'pg' } })), { qos: 1, retain: true });
    await publisher.publishAsync(topics.rig('rig-pg', 'telemetry'), encodeJson(MinerSnapshot, sent), { qos: 1 });
    const event = RigEvent.fromPartial({ eventId: 'pg-ev-1', rigId: 'rig-pg', kind: 'safety.critical_temperature', severity: 'critical', reason: 'local_watchdog_stop', message: 'hot', at: new Date() });
    await publisher.publishAsync(topics.rig('rig-pg', 'events'), encodeJson(RigEvent, event), { qos: 1 });

    // In PostgreSQL itself, not only in the controller's memory.
    await waitFor('the snapshot in PostgreSQL', async () => (await pg.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM snapshots WHERE rig_id = 'rig-pg'"))?.n === 1 || undefined);
    await waitFor('the event in PostgreSQL', async () => (await pg.db.get("SELECT event_id FROM events WHERE event_id = 'pg-ev-1'")));
    expect(await pg.db.get("SELECT labels FROM rigs WHERE rig_id = 'rig-pg'")).toEqual({ labels: '{"site":"pg"}' });

    const rig = await waitFor('rig-pg over gRPC', async () => (await listRigs()).rigs.find((r) => r.rigId === 'rig-pg'));
    expect(rig.miners).toEqual([sent]);
    expect(rig.labels).toEqual({ site: 'pg' });
    expect(await getRig('rig-pg')).toEqual(rig);
    const events = await waitFor('the event over gRPC', async () => (await listEvents('rig-pg')).events.find((e) => e.eventId === 'pg-ev-1'));
    expect(events).toMatchObject({ kind: 'safety.critical_temperature', reason: 'local_watchdog_stop' });
  });
});
