/**
 * The command RPCs over a real grpc-js server and client on 127.0.0.1, backed by the real dispatcher, SQLite file and
 * broker, with a fake agent answering on MQTT: argument errors name the field, unknown rigs and commands are
 * NOT_FOUND, single commands run to a result, and a bulk command streams per-rig progress over 20 rigs.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { Server, ServerCredentials, credentials, status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import mqtt, { type MqttClient } from 'mqtt';
import {
  BulkCommandRequest, CommandOutcome, CommandResult, CommandState, FleetServiceClient, FleetServiceService, GetCommandRequest, ListCommandsRequest,
  MinerSnapshot, RigCommandRequest, RigState, RigTopics, SetPoolsRequest, ApplyProfileRequest, decodeCommandEnvelope, encodeJson,
  type BulkProgress, type CommandEnvelope, type CommandStatus, type ListCommandsResponse,
} from '@rigwarden/protocol';
import { RigKeyFile, RigMessageSigner, SecretBytes, openSetPools } from '@rigwarden/security';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { COMMAND_API_PROVIDERS } from '../commands/command.providers';
import { commandsTestModule } from '../commands/command-test.harness';
import { loadControllerConfig } from '../config/controller-config';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import { RigRepository } from '../persistence/rig-repository';
import { CommandRpcHandlers } from './command-rpc.handlers';

jest.setTimeout(20_000);

const RIGS = Array.from({ length: 20 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);

describe('command RPCs over gRPC', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: TestingModule;
  let server: Server;
  let client: InstanceType<typeof FleetServiceClient>;
  let agent: MqttClient;
  let auth: Metadata;
  const deliveries: CommandEnvelope[] = [];
  let keysPath = '';

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    const topics = new RigTopics(broker.topicRoot);
    const secret = SecretBytes.generate().expose().toString('base64url');
    const keysFile = (keysPath = join(dir.path, 'keys.json'));
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(['rig-a', ...RIGS].map((r) => [r, [{ id: 'k1', secret }]])) }));
    const dataDir = join(dir.path, 'controller');
    const config = loadControllerConfig(['--data-dir', dataDir, '--grpc', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    config.commands = { retryInitialMs: 300, retryMaxMs: 600, tickMs: 50 };
    app = await commandsTestModule(config, [FleetSpecService, ...COMMAND_API_PROVIDERS]);
    await app.init();

    const rigs = app.get(RigRepository);
    await rigs.writeSnapshots(['rig-a', ...RIGS].map((rigId) => MinerSnapshot.fromPartial({ rigId, minerId: 'm1', seq: 1, collectedAt: new Date(), model: rigId === 'bulk-03' ? 'Antminer S19' : 'L7' })));
    for (const [i, rigId] of RIGS.entries()) {
      await rigs.writeState(RigState.fromPartial({ rigId, agentId: 'a', online: true, at: new Date(), labels: { row: i < 10 ? 'r1' : 'r2' } }));
    }

    // The fake agent: bulk-07 fails, bulk-13 never answers, every other command succeeds.
    agent = await mqtt.connectAsync(broker.url, { clientId: `agent-${broker.topicRoot}` });
    const signer = new RigMessageSigner(() => new RigKeyFile(keysFile).keyRing()); // the controller refuses unsigned results
    agent.on('message', (_topic, payload) => {
      const envelope = decodeCommandEnvelope(payload);
      deliveries.push(envelope);
      if (envelope.rigId === 'bulk-13') return;
      const outcome = envelope.rigId === 'bulk-07' ? CommandOutcome.COMMAND_OUTCOME_FAILED : CommandOutcome.COMMAND_OUTCOME_SUCCEEDED;
      const result = CommandResult.fromPartial({ commandId: envelope.commandId, rigId: envelope.rigId, outcome, cause: outcome === CommandOutcome.COMMAND_OUTCOME_FAILED ? 'miner API refused' : `did ${envelope.payload!.$case}`, durationMs: 3, finishedAt: new Date() });
      void agent.publishAsync(topics.rig(envelope.rigId, 'results'), encodeJson(CommandResult, signer.signResult(result, Date.now())), { qos: 1 });
    });
    await agent.subscribeAsync(topics.allRigs('commands'), { qos: 1 });

    server = new Server();
    server.addService(FleetServiceService, app.get(CommandRpcHandlers).handlers());
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new FleetServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    auth = grpcAuth(readAdminToken(dataDir));
  });

  afterAll(async () => {
    client?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
    await agent?.endAsync();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  function unary<Req, Res>(method: 'setPools' | 'applyProfile' | 'restartMiner' | 'rebootRig' | 'powerCycle' | 'getCommand' | 'listCommands', req: Req): Promise<Res> {
    const fn = (client[method] as unknown as (r: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => void).bind(client);
    return new Promise((resolve, reject) => fn(req, auth, (err, res) => (err ? reject(err) : resolve(res))));
  }

  function bulk(request: Partial<BulkCommandRequest>): Promise<BulkProgress[]> {
    return new Promise((resolve, reject) => {
      const messages: BulkProgress[] = [];
      const stream = client.bulkCommand(BulkCommandRequest.fromPartial(request), auth);
      stream.on('data', (m: BulkProgress) => messages.push(m));
      stream.on('error', reject);
      stream.on('end', () => resolve(messages));
    });
  }

  const target = (rigId: string, extra: Partial<RigCommandRequest> = {}): RigCommandRequest => RigCommandRequest.fromPartial({ rigId, ...extra });
  const pool = (url: string, user = 'worker.1') => ({ url, user, password: 'x' });

  it.each([
    ['SetPools without a target', 'target', 'setPools', SetPoolsRequest.fromPartial({ pools: [pool('stratum+tcp://p:3333')] })],
    ['SetPools with an empty rig id', 'target.rig_id', 'setPools', SetPoolsRequest.fromPartial({ target: target(''), pools: [pool('stratum+tcp://p:3333')] })],
    ['SetPools with no pools', 'pools', 'setPools', SetPoolsRequest.fromPartial({ target: target('rig-a'), pools: [] })],
    ['SetPools with a bad second URL', 'pools[1].url', 'setPools', SetPoolsRequest.fromPartial({ target: target('rig-a'), pools: [pool('stratum+tcp://p:3333'), pool('http://p')] })],
    ['SetPools without a worker', 'pools[0].user', 'setPools', SetPoolsRequest.fromPartial({ target: target('rig-a'), pools: [pool('stratum+tcp://p:3333', ' ')] })],
    ['SetPools with a timeout over an hour', 'target.timeout_seconds', 'setPools', SetPoolsRequest.fromPartial({ target: target('rig-a', { timeoutSeconds: 7200 }), pools: [pool('stratum+tcp://p:3333')] })],
    ['ApplyProfile without a profile', 'profile', 'applyProfile', ApplyProfileRequest.fromPartial({ target: target('rig-a'), profile: '' })],
    ['RestartMiner with an invalid rig id', 'rig_id', 'restartMiner', target('bad/id')],
    ['RebootRig with a long reason', 'reason', 'rebootRig', target('rig-a', { reason: 'x'.repeat(501) })],
    ['GetCommand without an id', 'command_id', 'getCommand', GetCommandRequest.fromPartial({})],
    ['ListCommands over the limit', 'limit', 'listCommands', ListCommandsRequest.fromPartial({ limit: 5000 })],
  ] as const)('%s: INVALID_ARGUMENT naming %s', async (_label, field, method, request) => {
    const err = await unary(method, request).then(() => undefined, (e: ServiceError) => e);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    expect(err!.metadata.get('rigwarden-field')).toEqual([field]);
  });

  it.each([
    ['RestartMiner on an unknown rig', 'rig_id', 'restartMiner', target('no-such-rig')],
    ['SetPools to an unknown miner', 'target.miner_id', 'setPools', SetPoolsRequest.fromPartial({ target: target('rig-a', { minerId: 'm9' }), pools: [pool('stratum+tcp://p:3333')] })],
    ['GetCommand of an unknown id', 'command_id', 'getCommand', GetCommandRequest.fromPartial({ commandId: 'no-such-command' })],
    ['ListCommands of an unknown rig', 'rig_id', 'listCommands', ListCommandsRequest.fromPartial({ rigId: 'no-such-rig' })],
  ] as const)('%s: NOT_FOUND naming %s', async (_label, field, method, request) => {
    const err = await unary(method, request).then(() => undefined, (e: ServiceError) => e);
    expect(err).toMatchObject({ code: status.NOT_FOUND });
    expect(err!.metadata.get('rigwarden-field')).toEqual([field]);
  });

  it('RestartMiner with wait answers once the agent has, with who asked and why', async () => {
    const done: CommandStatus = await unary('restartMiner', target('rig-a', { reason: 'stuck at 0 H/s', wait: true, timeoutSeconds: 10 }));
    expect(done).toMatchObject({ rigId: 'rig-a', minerId: 'm1', type: 'restart-miner', state: CommandState.COMMAND_STATE_SUCCEEDED, attempts: 1, cause: 'did restartMiner', requestedBy: 'operator:anonymous', reason: 'stuck at 0 H/s' });
    expect(done.deadline!.getTime() - done.createdAt!.getTime()).toBe(10_000);
    expect(await unary('getCommand', GetCommandRequest.fromPartial({ commandId: done.commandId }))).toEqual(done);
  });

  it('SetPools answers once sent; GetCommand and ListCommands show it finished', async () => {
    const sent: CommandStatus = await unary('setPools', SetPoolsRequest.fromPartial({ target: target('rig-a'), pools: [pool('stratum+tcp://a.example:3333'), pool('stratum+ssl://b.example:443')] }));
    expect(sent).toMatchObject({ type: 'set-pools', state: CommandState.COMMAND_STATE_SENT, attempts: 1 });
    const finished = await waitFor('the set-pools result', async () => {
      const c: CommandStatus = await unary('getCommand', GetCommandRequest.fromPartial({ commandId: sent.commandId }));
      return c.state === CommandState.COMMAND_STATE_SUCCEEDED ? c : undefined;
    });
    expect(finished.finishedAt).toBeDefined();
    // The passwords travel sealed to the rig key; opened with it they are the ones asked for.
    const delivered = deliveries.find((d) => d.commandId === sent.commandId)!.payload;
    if (delivered?.$case !== 'setPools') throw new Error(`expected a set-pools delivery, got ${delivered?.$case}`);
    expect(delivered.value.pools.map((p) => p.password)).not.toContain(pool('x').password);
    expect(openSetPools(delivered.value, new RigKeyFile(keysPath), 'rig-a', sent.commandId, Date.now())).toEqual({ pools: [pool('stratum+tcp://a.example:3333'), pool('stratum+ssl://b.example:443')] });
    const list: ListCommandsResponse = await unary('listCommands', ListCommandsRequest.fromPartial({ rigId: 'rig-a' }));
    expect(list.commands[0]!.commandId).toBe(sent.commandId); // newest first
    expect(list.commands.every((c) => c.rigId === 'rig-a')).toBe(true);
  });

  it('BulkCommand over 20 rigs streams the total, each rig once as it finishes, and a summary', async () => {
    const started = Date.now();
    const messages = await bulk({ selector: { rigIds: [], group: '', labels: {}, status: '', model: '' }, reason: 'fleet restart', concurrency: 5, timeoutSeconds: 2, command: { $case: 'restartMiner', value: {} } });
    const elapsed = Date.now() - started;
    const perRig = messages.filter((m) => m.command);
    expect(messages[0]).toMatchObject({ total: 21, done: 0, finished: false });
    expect(perRig).toHaveLength(21);
    expect(perRig.map((m) => m.done)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(new Set(perRig.map((m) => m.command!.rigId))).toEqual(new Set(['rig-a', ...RIGS]));
    const byRig = new Map(perRig.map((m) => [m.command!.rigId, m.command!]));
    expect(byRig.get('bulk-07')).toMatchObject({ state: CommandState.COMMAND_STATE_FAILED, cause: 'miner API refused' });
    expect(byRig.get('bulk-13')).toMatchObject({ state: CommandState.COMMAND_STATE_TIMED_OUT });
    expect(byRig.get('bulk-13')!.attempts).toBeGreaterThanOrEqual(2);
    expect(byRig.get('bulk-00')).toMatchObject({ state: CommandState.COMMAND_STATE_SUCCEEDED, requestedBy: 'operator:anonymous', reason: 'fleet restart', type: 'restart-miner' });
    expect(messages[messages.length - 1]).toMatchObject({ total: 21, done: 21, succeeded: 19, failed: 2, finished: true, command: undefined });
    expect(elapsed).toBeLessThan(10_000);
  });

  it('BulkCommand selects by labels, model and rig ids, and a dry run sends nothing', async () => {
    const before = deliveries.length;
    const dry = await bulk({ selector: { rigIds: [], group: '', labels: { row: 'r2' }, status: 'online', model: '' }, dryRun: true, command: { $case: 'switchPool', value: { poolIndex: 1 } } });
    expect(dry.filter((m) => m.command).map((m) => m.command!.rigId)).toEqual(RIGS.slice(10));
    expect(dry.filter((m) => m.command).every((m) => m.command!.state === CommandState.COMMAND_STATE_UNSPECIFIED && m.command!.type === 'switch-pool')).toBe(true);
    expect(dry[dry.length - 1]).toMatchObject({ total: 10, done: 10, finished: true });
    expect(deliveries.length).toBe(before);

    const s19 = await bulk({ selector: { rigIds: [], group: '', labels: {}, status: '', model: 's19' }, command: { $case: 'applyProfile', value: { profile: 'eco' } } });
    expect(s19.filter((m) => m.command).map((m) => [m.command!.rigId, m.command!.state])).toEqual([['bulk-03', CommandState.COMMAND_STATE_SUCCEEDED]]);
    const two = await bulk({ selector: { rigIds: ['bulk-01', 'bulk-02'], group: '', labels: {}, status: '', model: '' }, command: { $case: 'restartMiner', value: {} } });
    expect(two[two.length - 1]).toMatchObject({ total: 2, succeeded: 2, finished: true });
  });

  it.each([
    ['no command', { selector: undefined }, status.INVALID_ARGUMENT, 'command'],
    ['a bad status', { selector: { rigIds: [], group: '', labels: {}, status: 'sleeping', model: '' }, command: { $case: 'restartMiner' as const, value: {} } }, status.INVALID_ARGUMENT, 'selector.status'],
    ['a bad pool URL', { command: { $case: 'setPools' as const, value: { pools: [pool('nope')] } } }, status.INVALID_ARGUMENT, 'set_pools.pools[0].url'],
    ['an unknown rig id', { selector: { rigIds: ['bulk-01', 'bulk-99'], group: '', labels: {}, status: '', model: '' }, command: { $case: 'restartMiner' as const, value: {} } }, status.NOT_FOUND, 'selector.rig_ids'],
  ])('BulkCommand with %s fails before anything is sent', async (_label, request, code, field) => {
    const before = deliveries.length;
    await expect(bulk(request)).rejects.toMatchObject({ code, details: expect.stringContaining(field) });
    expect(deliveries.length).toBe(before);
  });
});
