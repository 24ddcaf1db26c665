import 'reflect-metadata';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import mqtt, { type MqttClient } from 'mqtt';
import {
  AgentStatus, CommandOutcome, CommandResult, FleetServiceClient, MinerSnapshot, RigEvent, RigState, RigTopics, encodeJson,
  ListEventsRequest, ListRigsRequest, type ListRigsResponse, type Rig,
} from '@rigwarden/protocol';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { FleetGrpcServer } from './api-grpc/fleet-grpc.server';
import { AppModule } from './app.module';
import { EmbeddedBrokerService } from './broker/embedded-broker.service';
import { loadControllerConfig, type ControllerConfig } from './config/controller-config';
import { TelemetryIngestService } from './ingest/telemetry-ingest.service';
import { EventRepository } from './persistence/event-repository';
import { SqliteDatabase } from './persistence/sqlite-database';

function snapshot(rigId: string, seq: number, extra: Partial<MinerSnapshot> = {}): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: '10.0.0.9:4028', host: '10.0.0.9', port: 4028, seq, collectedAt: new Date(), hashrate5sHs: 1e12 * seq, ...extra,
  });
}

function unary<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, auth: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, auth, (err, res) => (err ? reject(err) : resolve(res))));
}

async function startController(config: ControllerConfig): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('controller: MQTT ingest -> SQLite -> gRPC', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: INestApplicationContext;
  let publisher: MqttClient;
  let client: InstanceType<typeof FleetServiceClient>;
  let topics: RigTopics;
  let ingest: TelemetryIngestService;
  let auth: Metadata;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    topics = new RigTopics(broker.topicRoot);
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    app = await startController(config);
    ingest = app.get(TelemetryIngestService);
    auth = grpcAuth(readAdminToken(dir.path));
    client = new FleetServiceClient(app.get(FleetGrpcServer).address, credentials.createInsecure());
    publisher = await mqtt.connectAsync(broker.url, { clientId: `pub-${broker.topicRoot}` });
  });

  afterAll(async () => {
    client?.close();
    await publisher?.endAsync();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  const listRigs = (pageSize = 0, pageToken = ''): Promise<ListRigsResponse> => unary(client.listRigs.bind(client), ListRigsRequest.fromPartial({ pageSize, pageToken }), auth);
  const getRig = (rigId: string): Promise<Rig> => unary(client.getRig.bind(client), { rigId }, auth);

  it('stores what an agent publishes and serves it over gRPC, field for field', async () => {
    const sent = snapshot('rig-a', 1, {
      vendor: 'antminer', model: 'S19', boards: [{ index: 0, hashrateHs: 3e13, boardTempC: 61.5, chipTempC: 75, chips: 76, status: 1, phantomReason: '', pciBusId: '', name: '' }],
      fans: [{ index: 1, rpm: 5400 }], pools: [{ index: 0, url: 'stratum+tcp://p:3333', user: 'w', status: 1, active: true, lastShareTime: undefined, activeEvidence: '' }],
    });
    await publisher.publishAsync(topics.rig('rig-a', 'telemetry'), encodeJson(MinerSnapshot, sent), { qos: 1 });
    const rig = await waitFor('rig-a over gRPC', async () => (await listRigs()).rigs.find((r) => r.rigId === 'rig-a'));
    expect(rig.miners).toEqual([sent]);
    expect(await getRig('rig-a')).toEqual(rig);
  });

  it('drops a replayed snapshot (same rig and seq)', async () => {
    const before = ingest.counters.duplicates;
    const original = snapshot('rig-dup', 1, { hashrate5sHs: 10 });
    await publisher.publishAsync(topics.rig('rig-dup', 'telemetry'), encodeJson(MinerSnapshot, original), { qos: 1 });
    await publisher.publishAsync(topics.rig('rig-dup', 'telemetry'), encodeJson(MinerSnapshot, { ...original, hashrate5sHs: 999 }), { qos: 1 });
    await waitFor('the duplicate to be counted', () => (ingest.counters.duplicates > before ? true : undefined));
    expect((await getRig('rig-dup')).miners[0]!.hashrate5sHs).toBe(10);
  });

  it('counts bad payloads, keeps running, and still stores the good ones', async () => {
    const before = ingest.counters.invalid;
    await publisher.publishAsync(topics.rig('rig-bad', 'telemetry'), 'not json', { qos: 1 });
    await publisher.publishAsync(topics.rig('rig-bad', 'telemetry'), encodeJson(MinerSnapshot, snapshot('someone-else', 1)), { qos: 1 });
    await publisher.publishAsync(topics.rig('rig-bad', 'telemetry'), JSON.stringify({ rigId: 'rig-bad', minerId: 'm', seq: 1, collectedAt: 'now' }), { qos: 1 });
    await publisher.publishAsync(topics.rig('rig-bad', 'telemetry'), encodeJson(MinerSnapshot, snapshot('rig-bad', 2)), { qos: 1 });
    await waitFor('rig-bad', async () => (await listRigs()).rigs.find((r) => r.rigId === 'rig-bad'));
    expect(ingest.counters.invalid - before).toBe(3);
    expect((await getRig('rig-bad')).lastSeq).toBe(2);
    await expect(getRig('someone-else')).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('keeps the snapshots of a batch whose write fails and stores them once SQLite takes writes again', async () => {
    const other = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    try {
      // A trigger on another connection makes every snapshot INSERT fail, as a full disk or a broken file would.
      await other.exec("CREATE TRIGGER refuse_snapshots BEFORE INSERT ON snapshots BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END");
      const errorsBefore = ingest.counters.flushErrors;
      const storedBefore = ingest.counters.stored;
      for (let seq = 1; seq <= 5; seq++) {
        await publisher.publishAsync(topics.rig('rig-retry', 'telemetry'), encodeJson(MinerSnapshot, snapshot('rig-retry', seq)), { qos: 1 });
      }
      await waitFor('a failed batch write', () => (ingest.counters.flushErrors > errorsBefore ? true : undefined));
      await waitFor('all five held for the next try', () => (ingest.pendingSnapshots === 5 ? true : undefined));
      expect(ingest.counters.stored).toBe(storedBefore);
      await other.exec('DROP TRIGGER refuse_snapshots');
      await waitFor('the kept batch to be stored', () => (ingest.counters.stored - storedBefore === 5 ? true : undefined), 10_000);
      expect(await other.all('SELECT seq FROM snapshots WHERE rig_id = ? ORDER BY seq', ['rig-retry'])).toEqual([1, 2, 3, 4, 5].map((seq) => ({ seq })));
      expect((await getRig('rig-retry')).lastSeq).toBe(5);
      expect(ingest.pendingSnapshots).toBe(0);
    } finally {
      await other.exec('DROP TRIGGER IF EXISTS refuse_snapshots');
      await other.close();
    }
  });

  it('marks a rig offline from its retained last-will state', async () => {
    await publisher.publishAsync(topics.rig('rig-will', 'telemetry'), encodeJson(MinerSnapshot, snapshot('rig-will', 1)), { qos: 1 });
    await waitFor('rig-will online', async () => ((await listRigs()).rigs.find((r) => r.rigId === 'rig-will')?.online ? true : undefined));
    await publisher.publishAsync(topics.rig('rig-will', 'state'),
      encodeJson(RigState, { rigId: 'rig-will', agentId: 'a', online: false, agentVersion: '0.1.0', at: new Date(Date.now() + 1000), labels: {} }), { qos: 1, retain: true });
    await waitFor('rig-will offline', async () => ((await getRig('rig-will')).online === false ? true : undefined));
    await publisher.publishAsync(topics.rig('rig-will', 'state'), '', { qos: 1, retain: true }); // clear the retained message
  });

  it('answers bad API calls with a status code and a message that says what to fix', async () => {
    await expect(getRig('no-such-rig')).rejects.toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining('no-such-rig') });
    await expect(getRig('bad/id')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('rig_id') });
    await expect(listRigs(10_001)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('page_size') });
    const listEvents = (rigId: string, limit = 0) => unary(client.listEvents.bind(client), ListEventsRequest.fromPartial({ rigId, limit }), auth);
    await expect(listEvents('no-such-rig')).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(listEvents('rig-a', 5000)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('limit') });
  });

  it('records agent events once, every command result, and the latest agent status', async () => {
    const events = app.get(EventRepository);
    const event = RigEvent.fromPartial({ eventId: 'ev-1', rigId: 'rig-ev', kind: 'safety.critical_temperature', severity: 'critical', reason: 'local_watchdog_stop', message: 'hot', at: new Date() });
    await publisher.publishAsync(topics.rig('rig-ev', 'events'), encodeJson(RigEvent, event), { qos: 1 });
    await publisher.publishAsync(topics.rig('rig-ev', 'events'), encodeJson(RigEvent, event), { qos: 1 }); // replayed from an outbox
    const result = CommandResult.fromPartial({ commandId: 'c-1', rigId: 'rig-ev', outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'ok', durationMs: 12, finishedAt: new Date() });
    await publisher.publishAsync(topics.rig('rig-ev', 'results'), encodeJson(CommandResult, result), { qos: 1 });
    const status = AgentStatus.fromPartial({ agentId: 'agent-7', agentVersion: '0.1.0', online: true, at: new Date(), rigIds: ['rig-ev'], outbox: { depth: 3 } });
    await publisher.publishAsync(topics.agentStatus('agent-7'), encodeJson(AgentStatus, status), { qos: 1, retain: true });
    await waitFor('the agent status', () => events.agentStatus('agent-7'));
    await waitFor('the result', async () => ((await events.resultsForCommand('c-1')).length === 1 ? true : undefined));
    await waitFor('both event copies', () => (ingest.counters.events >= 2 ? true : undefined));
    // rig-ev has no key: its unsigned event is accepted, marked unverified (docs/security.md, signed results and events).
    expect(await events.eventsForRig('rig-ev')).toEqual([expect.objectContaining({ event_id: 'ev-1', kind: 'safety.critical_temperature', severity: 'critical', source: 'agent-unverified' })]);
    expect(await events.resultsForCommand('c-1')).toEqual([{ outcome: 'COMMAND_OUTCOME_SUCCEEDED', cause: 'ok', duration_ms: 12 }]);
    expect((await events.agentStatus('agent-7'))!.outbox!.depth).toBe(3);
    await publisher.publishAsync(topics.agentStatus('agent-7'), '', { qos: 1, retain: true });
  });

  it('pages through rigs with next_page_token', async () => {
    for (const id of ['page-1', 'page-2', 'page-3']) {
      await publisher.publishAsync(topics.rig(id, 'telemetry'), encodeJson(MinerSnapshot, snapshot(id, 1)), { qos: 1 });
    }
    await waitFor('3 page rigs', async () => ((await listRigs()).rigs.filter((r) => r.rigId.startsWith('page-')).length === 3 ? true : undefined));
    const seen: string[] = [];
    let token = '';
    do {
      const page = await listRigs(2, token);
      expect(page.rigs.length).toBeLessThanOrEqual(2);
      seen.push(...page.rigs.map((r) => r.rigId));
      token = page.nextPageToken;
    } while (token !== '');
    expect(seen).toEqual([...seen].sort());
    expect(seen.filter((id) => id.startsWith('page-'))).toEqual(['page-1', 'page-2', 'page-3']);
  });
});

describe('controller: acknowledgements', () => {
  it('acknowledges every message of a burst: after a restart the broker sends none of them again', async () => {
    const broker = await startTestBroker();
    const dir = makeTempDir();
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-acks-${broker.topicRoot}`,
    });
    const topics = new RigTopics(broker.topicRoot);
    const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-acks-${broker.topicRoot}` });
    let app: INestApplicationContext | undefined;
    try {
      app = await startController(config);
      const burst = Array.from({ length: 600 }, (_, i) => pub.publishAsync(topics.rig(`ack-${i % 30}`, 'telemetry'), encodeJson(MinerSnapshot, snapshot(`ack-${i % 30}`, Math.floor(i / 30) + 1)), { qos: 1 }));
      await Promise.all(burst);
      const first = app.get(TelemetryIngestService);
      await waitFor('600 stored', () => (first.counters.stored === 600 ? true : undefined));
      await app.close();
      app = undefined;
      // The same client id resumes the session (clean: false): anything not acknowledged would come again now.
      app = await startController(config);
      const second = app.get(TelemetryIngestService);
      await pub.publishAsync(topics.rig('ack-marker', 'telemetry'), encodeJson(MinerSnapshot, snapshot('ack-marker', 1)), { qos: 1 });
      await waitFor('the marker', () => (second.counters.stored === 1 ? true : undefined));
      expect(second.counters).toMatchObject({ received: 1, duplicates: 0 });
    } finally {
      await app?.close();
      await pub.endAsync();
      await broker.stop();
      dir.remove();
    }
  });
});

describe('controller: embedded broker', () => {
  let blocker: Server;
  let dir: TempDir;

  beforeAll(async () => {
    dir = makeTempDir();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    dir.remove();
  });

  it('takes a free port when the default one is busy, and ingests through it', async () => {
    const busy = (blocker.address() as AddressInfo).port;
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'a'), '--grpc', '127.0.0.1:0'], {});
    // The test's publisher logs in anonymously: this test is about the port.
    config.embeddedBroker = { ...config.embeddedBroker, port: busy, fallbackToFreePort: true, allowAnonymous: true };
    const app = await startController(config);
    try {
      const url = app.get(EmbeddedBrokerService).listenUrl!;
      expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toContain(`:${busy}`);
      const pub = await mqtt.connectAsync(url);
      await pub.publishAsync(new RigTopics().rig('emb-1', 'telemetry'), encodeJson(MinerSnapshot, snapshot('emb-1', 1)), { qos: 1 });
      await pub.endAsync();
      const client = new FleetServiceClient(app.get(FleetGrpcServer).address, credentials.createInsecure());
      const rig = await waitFor('emb-1', () => unary<{ rigId: string }, Rig>(client.getRig.bind(client), { rigId: 'emb-1' }, grpcAuth(readAdminToken(join(dir.path, 'a')))).catch(() => undefined));
      client.close();
      expect(rig.lastSeq).toBe(1);
    } finally {
      await app.close();
    }
  });
});
