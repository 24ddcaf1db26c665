/**
 * The capability commands (SetPowerMode, SetFaultLight, SetPowerTarget) over a real grpc-js server and client on
 * 127.0.0.1, the real dispatcher, SQLite file and broker, and a fake agent on MQTT: a command the rig's latest
 * snapshot says the miner cannot do is FAILED_PRECONDITION naming the capability, and nothing is sent; one it can do
 * reaches the agent with its payload; an empty capability list (unknown) leaves the decision to the agent.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { Server, ServerCredentials, credentials, status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import mqtt, { type MqttClient } from 'mqtt';
import {
  CommandOutcome, CommandResult, CommandState, FleetServiceClient, FleetServiceService, MinerSnapshot, RigCommandRequest, RigTopics,
  SetFaultLightRequest, SetPowerModeRequest, SetPowerTargetRequest, decodeCommandEnvelope, encodeJson, type CommandEnvelope, type CommandStatus,
} from '@rigwarden/protocol';
import { RigKeyFile, RigMessageSigner, SecretBytes } from '@rigwarden/security';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { COMMAND_API_PROVIDERS } from '../commands/command.providers';
import { commandsTestModule } from '../commands/command-test.harness';
import { loadControllerConfig } from '../config/controller-config';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import { RigRepository } from '../persistence/rig-repository';
import { CommandRpcHandlers } from './command-rpc.handlers';

jest.setTimeout(20_000);

const SNAPSHOTS: Record<string, Partial<MinerSnapshot>> = {
  // A Whatsminer v3 without a password: reads only.
  'wm-readonly': { driver: 'whatsminer-v3', capabilities: ['read'] },
  'wm-admin': { driver: 'whatsminer-v3', capabilities: ['read', 'set-pools', 'restart', 'reboot', 'power-mode', 'power-target', 'fault-light'] },
  // A T-Rex rig that cannot restart.
  'trex': { driver: 't-rex', capabilities: ['read'] },
  // An older agent: no list, the agent decides.
  'old-agent': { driver: 'cgminer', capabilities: [] },
};

describe('capability command RPCs over gRPC', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: TestingModule;
  let server: Server;
  let client: InstanceType<typeof FleetServiceClient>;
  let agent: MqttClient;
  let auth: Metadata;
  const deliveries: CommandEnvelope[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    const topics = new RigTopics(broker.topicRoot);
    const secret = SecretBytes.generate().expose().toString('base64url');
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(Object.keys(SNAPSHOTS).map((r) => [r, [{ id: 'k1', secret }]])) }));
    const dataDir = join(dir.path, 'controller');
    const config = loadControllerConfig(['--data-dir', dataDir, '--grpc', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    config.commands = { retryInitialMs: 300, retryMaxMs: 600, tickMs: 50 };
    app = await commandsTestModule(config, [FleetSpecService, ...COMMAND_API_PROVIDERS]);
    await app.init();
    await app.get(RigRepository).writeSnapshots(Object.entries(SNAPSHOTS).map(([rigId, s]) =>
      MinerSnapshot.fromPartial({ rigId, minerId: 'm1', seq: 1, collectedAt: new Date(), ...s })));

    agent = await mqtt.connectAsync(broker.url, { clientId: `agent-${broker.topicRoot}` });
    const signer = new RigMessageSigner(() => new RigKeyFile(keysFile).keyRing());
    agent.on('message', (_topic, payload) => {
      const envelope = decodeCommandEnvelope(payload);
      deliveries.push(envelope);
      const result = CommandResult.fromPartial({
        commandId: envelope.commandId, rigId: envelope.rigId, outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: `did ${envelope.payload!.$case}`,
        durationMs: 3, finishedAt: new Date(),
      });
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

  type Method = 'setPowerMode' | 'setFaultLight' | 'setPowerTarget' | 'restartMiner';
  function unary<Req>(method: Method, req: Req): Promise<CommandStatus> {
    const fn = (client[method] as unknown as (r: Req, md: Metadata, cb: (err: ServiceError | null, res: CommandStatus) => void) => void).bind(client);
    return new Promise((resolve, reject) => fn(req, auth, (err, res) => (err ? reject(err) : resolve(res))));
  }
  const target = (rigId: string): RigCommandRequest => RigCommandRequest.fromPartial({ rigId, wait: true, timeoutSeconds: 10 });

  it.each([
    ['SetPowerMode on a Whatsminer v3 without a password', 'setPowerMode', SetPowerModeRequest.fromPartial({ target: target('wm-readonly'), mode: 'low' }), 'power-mode', 'options.password'],
    ['SetFaultLight on a Whatsminer v3 without a password', 'setFaultLight', SetFaultLightRequest.fromPartial({ target: target('wm-readonly'), on: true }), 'fault-light', 'options.password'],
    ['SetPowerTarget on a T-Rex rig', 'setPowerTarget', SetPowerTargetRequest.fromPartial({ target: target('trex'), watts: 900 }), 'power-target', 'driver t-rex offers no power-target'],
    ['RestartMiner on a T-Rex rig that cannot restart', 'restartMiner', target('trex'), 'restart', 'driver t-rex offers no restart'],
  ] as const)('%s: FAILED_PRECONDITION naming the capability, nothing sent', async (_label, method, request, capability, hint) => {
    const before = deliveries.length;
    const err = await unary(method, request).then(() => undefined, (e: ServiceError) => e);
    expect(err).toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining(`(capability "${capability}" missing)`) });
    expect(err!.details).toContain(hint);
    expect(deliveries.length).toBe(before);
  });

  it.each([
    ['SetPowerMode with a mode no firmware has', 'setPowerMode', SetPowerModeRequest.fromPartial({ target: target('wm-admin'), mode: 'turbo' }), 'mode'],
    ['SetPowerTarget of 0 W', 'setPowerTarget', SetPowerTargetRequest.fromPartial({ target: target('wm-admin'), watts: 0 }), 'watts'],
  ] as const)('%s: INVALID_ARGUMENT naming the field', async (_label, method, request, field) => {
    const err = await unary(method, request).then(() => undefined, (e: ServiceError) => e);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(err!.metadata.get('rigwarden-field')).toEqual([field]);
  });

  it.each([
    ['setPowerMode', SetPowerModeRequest.fromPartial({ target: target('wm-admin'), mode: 'low' }), 'set-power-mode', { $case: 'setPowerMode', value: { mode: 'low' } }],
    ['setFaultLight', SetFaultLightRequest.fromPartial({ target: target('wm-admin'), on: true }), 'set-fault-light', { $case: 'setFaultLight', value: { on: true } }],
    ['setPowerTarget', SetPowerTargetRequest.fromPartial({ target: target('wm-admin'), watts: 3000 }), 'set-power-target', { $case: 'setPowerTarget', value: { watts: 3000 } }],
    ['setPowerMode', SetPowerModeRequest.fromPartial({ target: target('old-agent'), mode: 'sleep' }), 'set-power-mode', { $case: 'setPowerMode', value: { mode: 'sleep' } }],
  ] as const)('%s on a miner that can (or whose agent lists nothing) reaches the agent and succeeds', async (method, request, type, payload) => {
    const done = await unary(method, request);
    expect(done).toMatchObject({ type, state: CommandState.COMMAND_STATE_SUCCEEDED, cause: `did ${payload.$case}` });
    const sent = await waitFor('the delivered envelope', () => deliveries.find((d) => d.commandId === done.commandId));
    expect(sent.payload).toEqual(payload);
  });
});
