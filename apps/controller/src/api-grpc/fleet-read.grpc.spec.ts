/**
 * FleetService over a real socket: a real broker carrying agents' payloads, the controller ingesting into a SQLite
 * file, and gRPC clients (plus a reflection client) calling WatchRigs, ListRigs with selectors, QueryTelemetry,
 * ListEvents, Get/ApplyFleetSpec and DryRunPolicies.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { Metadata, credentials, loadPackageDefinition, status, type CallOptions, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import mqtt, { type MqttClient } from 'mqtt';
import {
  ApplyFleetSpecRequest, DryRunPoliciesRequest, FleetServiceClient, ListEventsRequest, ListRigsRequest, MinerSnapshot, QueryTelemetryRequest,
  RigEvent, RigState, RigTopics, TelemetryResolution, WatchRigsRequest, encodeJson, type RigUpdate,
} from '@rigwarden/protocol';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { loadControllerConfig } from '../config/controller-config';
import { WatchRigsUseCase } from '../fleet/watch-rigs.usecase';
import { EventRepository } from '../persistence/event-repository';
import { RollupRepository } from '../persistence/rollup-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { FleetGrpcServer } from './fleet-grpc.server';

jest.setTimeout(20_000);

const SEC = 1000;
const MIN = 60 * SEC;
const POOL_A = 'stratum+tcp://a.pool.example:3333';
const POOL_B = 'stratum+tcp://b.pool.example:3333';
/** Whole minutes, far enough back that the live reconciler sees the story as stale and leaves it alone. */
const T0 = Math.floor((Date.now() - 40 * MIN) / MIN) * MIN;

const FLEET = `policy:
  failover: { silentAfterMs: 30000 }
groups:
  - name: row1
    match: { labels: { row: "1" } }
    pools:
      - { url: "${POOL_A}", user: "farm.w", password: "secret-a" }
      - { url: "${POOL_B}", user: "farm.w", password: "secret-b" }
  - name: sim
    match: { rigIdPrefix: "sim-" }
    pools:
      - { url: "${POOL_A}", user: "farm.w", password: "secret-a" }
      - { url: "${POOL_B}", user: "farm.w", password: "secret-b" }
`;

/** What an agent publishes for a miner hashing on pool 0; `accepted` is pool 0's share counter. */
function reading(rigId: string, seq: number, at: number, extra: Partial<MinerSnapshot> & { accepted?: number } = {}): MinerSnapshot {
  const { accepted = seq * 10, ...rest } = extra;
  return MinerSnapshot.fromPartial({
    rigId, minerId: 'm1', seq, collectedAt: new Date(at), agentId: 'agent-t', driver: 'cgminer', model: 'Antminer S19j Pro',
    hashrate5sHs: 100e12, uptimeS: 86_400 + seq * 10, accepted, rejected: 1, powerW: 3000 + seq,
    boards: [0, 1, 2].map((index) => ({ index, hashrateHs: 33e12, boardTempC: 60 + (seq % 5), chipTempC: 70, status: 1 })),
    fans: [{ index: 0, rpm: 5000 + seq }, { index: 1, rpm: 5200 }],
    pools: [
      { index: 0, url: POOL_A, user: 'farm.w', status: 1, active: true, priority: 0, accepted },
      { index: 1, url: POOL_B, user: 'farm.w', status: 1, active: false, priority: 1, accepted: 0 },
    ],
    ...rest,
  });
}

type Unary<Req, Res> = (req: Req, md: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown;

describe('FleetService over gRPC: watch, telemetry, fleet spec, dry run, reflection', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: TestingModule;
  let client: InstanceType<typeof FleetServiceClient>;
  let publisher: MqttClient;
  let topics: RigTopics;
  let auth: Metadata;
  let address: string;
  const fleetFile = (): string => join(dir.path, 'fleet.yaml');

  const call = <Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> =>
    new Promise((resolve, reject) => fn.call(client, req, auth, {}, (err, res) => (err ? reject(err) : resolve(res))));
  const publish = async (snapshots: MinerSnapshot[]): Promise<void> => {
    for (const s of snapshots) await publisher.publishAsync(topics.rig(s.rigId, 'telemetry'), encodeJson(MinerSnapshot, s), { qos: 1 });
  };
  const publishState = (rigId: string, labels: Record<string, string>, online = true): Promise<unknown> =>
    publisher.publishAsync(topics.rig(rigId, 'state'), encodeJson(RigState, { rigId, agentId: 'agent-t', online, agentVersion: '0.1.0', at: new Date(), labels }), { qos: 1 });
  const getRig = (rigId: string) => call(client.getRig, { rigId });

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    topics = new RigTopics(broker.topicRoot);
    writeFileSync(fleetFile(), FLEET);
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--fleet', fleetFile()], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    app = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await app.init();
    address = app.get(FleetGrpcServer).address;
    auth = grpcAuth(readAdminToken(dir.path));
    client = new FleetServiceClient(address, credentials.createInsecure());
    publisher = await mqtt.connectAsync(broker.url, { clientId: `pub-${broker.topicRoot}` });
  });

  afterAll(async () => {
    client?.close();
    await publisher?.endAsync();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it('WatchRigs: sends the rig as it is, then a change once an agent publishes, and lets go when the client cancels', async () => {
    await publish([reading('w-1', 1, Date.now())]);
    await waitFor('w-1 stored', () => getRig('w-1').catch(() => undefined));
    const updates: RigUpdate[] = [];
    const stream = client.watchRigs(WatchRigsRequest.fromPartial({ selector: { rigIds: ['w-1'] } }), auth);
    stream.on('data', (u: RigUpdate) => updates.push(u));
    stream.on('error', () => undefined); // CANCELLED at the end
    await waitFor('the initial state', () => (updates.length >= 1 ? true : undefined));
    expect(updates[0]).toMatchObject({ initial: true, rig: { rigId: 'w-1', lastSeq: 1, online: true } });

    await publish([reading('w-1', 2, Date.now()), reading('w-2', 1, Date.now())]); // w-2 is not selected
    const change = await waitFor('the change', () => updates.find((u) => !u.initial && u.rig!.lastSeq === 2));
    expect(change.rig!.miners[0]!.seq).toBe(2);
    expect(updates.every((u) => u.rig!.rigId === 'w-1')).toBe(true);

    // A quarantine decided by the watchdog ladder shows at once, without waiting for more telemetry.
    await app.get(EventRepository).recordEvent(RigEvent.fromPartial({
      eventId: 'w-1-q', rigId: 'w-1', kind: 'policy.quarantine', severity: 'critical', reason: 'ladder-exhausted', message: 'q', at: new Date(),
    }), 'watchdog');
    await waitFor('the quarantine', () => updates.find((u) => u.rig!.quarantined));

    const watches = app.get(WatchRigsUseCase);
    expect(watches.watching).toBeGreaterThanOrEqual(1);
    stream.cancel();
    await waitFor('the watch to stop', () => (watches.watching === 0 ? true : undefined));
  });

  it('WatchRigs: a client that stops reading holds back neither ingest nor memory: one pending entry per rig, the latest state once it reads again', async () => {
    const rigIds = Array.from({ length: 20 }, (_, i) => `slow-${String(i).padStart(2, '0')}`);
    // Big messages (60 boards), so the stream's buffers fill long before the updates run out.
    const big = (rigId: string, seq: number) => reading(rigId, seq, Date.now(), {
      boards: Array.from({ length: 60 }, (_, index) => ({ index, hashrateHs: 1e12, boardTempC: 60, chipTempC: 70, status: 1, phantomReason: '', name: `board-${index}-${'x'.repeat(40)}`, pciBusId: '' })),
    });
    await publish(rigIds.map((id) => big(id, 1)));
    await waitFor('the slow rigs stored', async () => ((await Promise.all(rigIds.map((id) => getRig(id).catch(() => undefined)))).every(Boolean) ? true : undefined));

    const latest = new Map<string, number>();
    const stream = client.watchRigs(WatchRigsRequest.fromPartial({ selector: { model: 'S19j' } }), auth);
    stream.on('data', (u: RigUpdate) => latest.set(u.rig!.rigId, u.rig!.lastSeq));
    stream.on('error', () => undefined);
    stream.pause();
    const watches = app.get(WatchRigsUseCase);
    for (let seq = 2; seq <= 15; seq++) await publish(rigIds.map((id) => big(id, seq)));
    // Ingest goes on while the client reads nothing.
    await waitFor('every update stored', async () => ((await Promise.all(rigIds.map((id) => getRig(id)))).every((r) => r.lastSeq === 15) ? true : undefined));
    const { backlog, stalls } = watches.stats();
    expect(stalls).toBeGreaterThan(0); // the stream's buffer filled: the watcher waited instead of buffering more
    expect(backlog).toBeLessThanOrEqual(rigIds.length); // 280 updates, coalesced to at most one entry per rig

    stream.resume();
    await waitFor('the latest state of every slow rig', () => (rigIds.every((id) => latest.get(id) === 15) ? true : undefined), 10_000);
    stream.cancel();
    await waitFor('the watch to stop', () => (watches.watching === 0 ? true : undefined));
  });

  it('ListRigs: labels from the retained state, the group they select, selector filters and paging', async () => {
    await publishState('lab-1', { row: '1', model: 'S19j Pro' });
    await publish([reading('lab-1', 1, Date.now()), ...['pg-0', 'pg-1', 'pg-2', 'pg-3', 'pg-4'].map((id) => reading(id, 1, Date.now(), { model: 'PG-9000' }))]);
    await waitFor('every rig stored', async () => ((await Promise.all(['lab-1', 'pg-0', 'pg-1', 'pg-2', 'pg-3', 'pg-4'].map((id) => getRig(id).catch(() => undefined)))).every(Boolean) ? true : undefined));
    await waitFor('lab-1 labels', async () => (Object.keys((await getRig('lab-1')).labels).length === 2 ? true : undefined));

    const lab = await getRig('lab-1');
    expect(lab).toMatchObject({ labels: { row: '1', model: 'S19j Pro' }, group: 'row1', quarantined: false });
    const byLabel = await call(client.listRigs, ListRigsRequest.fromPartial({ selector: { labels: { row: '1' } } }));
    expect(byLabel.rigs.map((r) => r.rigId)).toEqual(['lab-1']);
    const byGroup = await call(client.listRigs, ListRigsRequest.fromPartial({ selector: { group: 'row1', status: 'online' } }));
    expect(byGroup.rigs.map((r) => r.rigId)).toEqual(['lab-1']);

    const pages: string[][] = [];
    let pageToken = '';
    do {
      const page = await call(client.listRigs, ListRigsRequest.fromPartial({ pageSize: 2, pageToken, selector: { model: 'pg-9' } }));
      pages.push(page.rigs.map((r) => r.rigId));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(pages).toEqual([['pg-0', 'pg-1'], ['pg-2', 'pg-3'], ['pg-4']]);

    await expect(call(client.listRigs, ListRigsRequest.fromPartial({ selector: { status: 'up' } })))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('selector.status') });
    await expect(call(client.listRigs, ListRigsRequest.fromPartial({ pageToken: '!!' })))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('page_token') });
  });

  it('QueryTelemetry: raw points within the range (newest kept by limit), minute rollups, and the resolution picked from the range', async () => {
    await publish(Array.from({ length: 10 }, (_, i) => reading('q-1', i + 1, T0 + i * MIN, { hashrate5sHs: (i + 1) * 1e12 })));
    await waitFor('q-1 stored', async () => ((await getRig('q-1').catch(() => undefined))?.lastSeq === 10 ? true : undefined));
    const query = (partial: Partial<QueryTelemetryRequest>) => call(client.queryTelemetry, QueryTelemetryRequest.fromPartial({ rigId: 'q-1', ...partial }));

    const raw = await query({ from: new Date(T0 + 2 * MIN), to: new Date(T0 + 5 * MIN) });
    expect(raw.resolution).toBe(TelemetryResolution.TELEMETRY_RESOLUTION_RAW);
    expect(raw.points.map((p) => [p.at!.getTime() - T0, p.hashrateHs])).toEqual([[2 * MIN, 3e12], [3 * MIN, 4e12], [4 * MIN, 5e12]]);
    expect(raw.points[0]).toMatchObject({ powerW: 3003, fanMinRpm: 5003, tempMaxC: 70, accepted: 30, rejected: 1, samples: 1 });
    const newest = await query({ from: new Date(T0), to: new Date(T0 + 10 * MIN), limit: 2 });
    expect(newest.points.map((p) => p.hashrateHs)).toEqual([9e12, 10e12]);

    await app.get(RollupRepository).rollUpAndPrune(Date.now(), T0 - MIN);
    const minutes = await query({ from: new Date(T0), to: new Date(T0 + 3 * MIN), resolution: TelemetryResolution.TELEMETRY_RESOLUTION_MINUTE });
    expect(minutes.points.map((p) => [p.at!.getTime() - T0, p.hashrateHs, p.samples])).toEqual([[0, 1e12, 1], [MIN, 2e12, 1], [2 * MIN, 3e12, 1]]);
    const auto = await query({ from: new Date(T0 - 10 * 60 * MIN), to: new Date(T0 + 10 * MIN) });
    expect(auto.resolution).toBe(TelemetryResolution.TELEMETRY_RESOLUTION_MINUTE);
    expect(auto.points).toHaveLength(10);

    await expect(query({ from: new Date(T0), to: new Date(T0) })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('from') });
    await expect(query({ limit: 10_001 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('limit') });
    await expect(call(client.queryTelemetry, QueryTelemetryRequest.fromPartial({ rigId: 'nope' }))).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('ListEvents: only events since a time, each with the command its decision sent', async () => {
    await publish([reading('ev-1', 1, Date.now())]);
    await waitFor('ev-1 stored', () => getRig('ev-1').catch(() => undefined));
    const events = app.get(EventRepository);
    for (const [i, commandId] of ['', 'cmd-1', 'cmd-2'].entries()) {
      await events.recordEvent(RigEvent.fromPartial({
        eventId: `e-${i}`, rigId: 'ev-1', kind: 'policy.switch-pool', severity: 'warning', reason: 'active-pool-silent', message: `m${i}`, at: new Date(T0 + i * MIN),
      }), 'failover', commandId);
    }
    const all = await call(client.listEvents, ListEventsRequest.fromPartial({ rigId: 'ev-1' }));
    expect(all.events.map((e) => [e.eventId, e.commandId])).toEqual([['e-2', 'cmd-2'], ['e-1', 'cmd-1'], ['e-0', '']]);
    const since = await call(client.listEvents, ListEventsRequest.fromPartial({ rigId: 'ev-1', since: new Date(T0 + MIN) }));
    expect(since.events.map((e) => e.eventId)).toEqual(['e-2', 'e-1']);

    expect((await getRig('ev-1')).quarantined).toBe(false);
    await events.recordEvent(RigEvent.fromPartial({
      eventId: 'e-q', rigId: 'ev-1', kind: 'policy.quarantine', severity: 'critical', reason: 'ladder-exhausted', message: 'q', at: new Date(T0 + 3 * MIN),
    }), 'watchdog');
    expect((await getRig('ev-1')).quarantined).toBe(true);
  });

  it('Get/ApplyFleetSpec: the file at start, a dry run that changes nothing, a stale version refused, an apply that is kept', async () => {
    await publishState('lab-1', { row: '1', model: 'S19j Pro' });
    await waitFor('lab-1 in row1', async () => ((await getRig('lab-1').catch(() => undefined))?.group === 'row1' ? true : undefined));
    const start = await call(client.getFleetSpec, {});
    expect(start).toMatchObject({ yaml: FLEET, appliedBy: `file:${fleetFile()}` });
    expect(start.version).toMatch(/^[0-9a-f]{16}$/);

    const edited = FLEET.replace(`- { url: "${POOL_A}", user: "farm.w", password: "secret-a" }\n      - { url: "${POOL_B}"`, `- { url: "stratum+tcp://c.pool.example:3333", user: "farm.w", password: "secret-c" }\n      - { url: "${POOL_B}"`);
    expect(edited).not.toBe(FLEET);
    const dry = await call(client.applyFleetSpec, ApplyFleetSpecRequest.fromPartial({ yaml: edited, dryRun: true }));
    expect(dry.applied).toBe(false);
    expect(dry.changes).toEqual([
      { path: 'groups[row1].pools[0].url', change: 'changed', before: JSON.stringify(POOL_A), after: '"stratum+tcp://c.pool.example:3333"' },
      { path: 'groups[row1].pools[0].password', change: 'changed', before: '"***"', after: '"***"' },
    ]);
    expect(dry.affectedRigIds).toEqual(['lab-1']);
    expect((await call(client.getFleetSpec, {})).version).toBe(start.version);

    await expect(call(client.applyFleetSpec, ApplyFleetSpecRequest.fromPartial({ yaml: edited, expectedVersion: 'not-the-version' })))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('expected_version') });
    await expect(call(client.applyFleetSpec, ApplyFleetSpecRequest.fromPartial({ yaml: FLEET.replace('rigIdPrefix: "sim-"', 'rigIdPrefix: 7') })))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('groups[1].match.rigIdPrefix') });

    const applied = await call(client.applyFleetSpec, ApplyFleetSpecRequest.fromPartial({ yaml: edited, expectedVersion: start.version }));
    expect(applied).toMatchObject({ applied: true, version: dry.version, affectedRigIds: ['lab-1'] });
    const now = await call(client.getFleetSpec, {});
    expect(now).toMatchObject({ yaml: edited, version: dry.version, appliedBy: expect.stringMatching(/^apikey:/) });
    expect(await app.get(SqliteDatabase).all('SELECT version, applied_by FROM fleet_specs ORDER BY id')).toEqual([
      { version: start.version, applied_by: `file:${fleetFile()}` },
      { version: dry.version, applied_by: now.appliedBy },
    ]);
    // Put the original back for the other tests.
    await call(client.applyFleetSpec, ApplyFleetSpecRequest.fromPartial({ yaml: FLEET, expectedVersion: dry.version }));
  });

  it('DryRunPolicies: stored telemetry of a silent primary pool replays as a switch-pool 30 s after the last share, later with a proposed 60 s', async () => {
    // Shares every 10 s until T0 + 5 min, then none while the miner keeps hashing (accepted stays put).
    const story = Array.from({ length: 43 }, (_, i) => {
      const at = T0 + i * 10 * SEC;
      return reading('sim-silent', i + 1, at, { accepted: Math.min(at, T0 + 5 * MIN) / SEC - T0 / SEC + 100 });
    });
    await publish(story);
    await waitFor('the story stored', async () => ((await getRig('sim-silent').catch(() => undefined))?.lastSeq === 43 ? true : undefined));
    const range = { from: new Date(T0), to: new Date(T0 + 10 * MIN) };

    const result = await call(client.dryRunPolicies, DryRunPoliciesRequest.fromPartial({ rigId: 'sim-silent', ...range }));
    expect(result.snapshotsReplayed).toBe(43);
    expect(result.decisions[0]).toMatchObject({ policy: 'failover', kind: 'switch-pool', reason: 'active-pool-silent' });
    expect(result.decisions[0]!.at!.getTime() - T0).toBe(5 * MIN + 30 * SEC);

    const slower = FLEET.replace('silentAfterMs: 30000', 'silentAfterMs: 60000');
    const proposed = await call(client.dryRunPolicies, DryRunPoliciesRequest.fromPartial({ rigId: 'sim-silent', ...range, fleetYaml: slower }));
    expect(proposed.decisions[0]!.at!.getTime() - T0).toBe(6 * MIN);
    expect(proposed.decisions[0]!.reason).toBe('active-pool-silent');

    await expect(call(client.dryRunPolicies, DryRunPoliciesRequest.fromPartial({ rigId: 'sim-silent', fleetYaml: 'groups: [{ name: x }]' })))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('fleet_yaml: groups[0].match') });
    await expect(call(client.dryRunPolicies, DryRunPoliciesRequest.fromPartial({ rigId: 'sim-silent', fleetYaml: 'groups: [{ name: x, match: { rigIdPrefix: zzz } }]' })))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('no group of the proposed spec matches rig "sim-silent"') });
  });

  it('serves gRPC server reflection: ListServices names rigwarden.v1.FleetService, and its file can be fetched', async () => {
    const definition = loadSync(join(__dirname, '../../../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: true });
    const Reflection = (loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => {
        ServerReflectionInfo(md: Metadata): ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>; close(): void;
      } } } };
    }).grpc.reflection.v1.ServerReflection;
    const reflection = new Reflection(address, credentials.createInsecure());
    try {
      const ask = (request: Record<string, unknown>): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
        const stream = reflection.ServerReflectionInfo(auth);
        stream.once('data', (response) => { resolve(response); stream.end(); });
        stream.once('error', reject);
        stream.write(request);
      });
      const listed = await ask({ list_services: '*' });
      const names = (listed['list_services_response'] as { service: Array<{ name: string }> }).service.map((s) => s.name);
      expect(names).toContain('rigwarden.v1.FleetService');
      const file = await ask({ file_containing_symbol: 'rigwarden.v1.FleetService' });
      const descriptors = (file['file_descriptor_response'] as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
      expect(descriptors.length).toBeGreaterThan(0);
      expect(Buffer.concat(descriptors).toString('latin1')).toContain('DryRunPolicies');
    } finally {
      reflection.close();
    }
  });
});
