/**
 * The dashboard's actions against the miner's capabilities, over a real socket with the controller's app module (test
 * broker, SQLite in a temp dir, real API keys and dispatcher): an action the rig's latest snapshot lacks the
 * capability for is 409 naming it and nothing is sent; one it has goes out as a signed command.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { MinerSnapshot, RigTopics, decodeCommandEnvelope, encodeJson, type CommandEnvelope } from '@rigwarden/protocol';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { loadControllerConfig } from '../config/controller-config';
import { ApiKeyService } from '../security/api-key.service';
import { DashboardHttpServer } from './dashboard-http.server';
import { FleetViewService } from './fleet-view.service';

interface Reply { status: number; body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown> }

const CAPABILITIES: Record<string, string[]> = {
  'cap-trex': ['read'],
  'cap-wm': ['read', 'set-pools', 'restart', 'reboot', 'power-mode', 'power-target', 'fault-light'],
};

describe('dashboard actions and capabilities', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: INestApplicationContext;
  let base: string;
  let publisher: MqttClient;
  let agent: MqttClient;
  let operateKey: string;
  const received: CommandEnvelope[] = [];

  const call = async (path: string, body: unknown): Promise<Reply> => {
    const res = await fetch(`${base}${path.replace(/^\//, '')}`, {
      method: 'POST', headers: { authorization: `Bearer ${operateKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as Reply['body'] };
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir('rigwarden-dash-caps-');
    const topics = new RigTopics(broker.topicRoot);
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(Object.keys(CAPABILITIES).map((r) => [r, [{ id: 'k1', secret: randomBytes(32).toString('base64url') }]])) }), { mode: 0o600 });
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await moduleRef.init();
    app = moduleRef;
    app.get(FleetViewService).windowMs = 100;
    base = app.get(DashboardHttpServer).url;
    operateKey = (await app.get(ApiKeyService).create({ name: 'caps-operator', scopes: ['operate'] })).token.reveal();
    agent = await mqtt.connectAsync(broker.url, { clientId: `agent-${broker.topicRoot}` });
    agent.on('message', (_t, payload) => received.push(decodeCommandEnvelope(payload)));
    await agent.subscribeAsync(topics.allRigs('commands'), { qos: 1 });
    publisher = await mqtt.connectAsync(broker.url, { clientId: `pub-${broker.topicRoot}` });
    for (const [rigId, capabilities] of Object.entries(CAPABILITIES)) {
      const snap = MinerSnapshot.fromPartial({ rigId, minerId: 'm1', seq: 1, collectedAt: new Date(), hashrate5sHs: 1e12, capabilities });
      await publisher.publishAsync(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, snap), { qos: 1 });
    }
    await waitFor('both rigs with their capabilities in the dashboard', () =>
      Object.keys(CAPABILITIES).every((r) => (app.get(FleetViewService).rig(r)?.miners[0]?.capabilities.length ?? 0) > 0) || undefined);
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await agent?.endAsync();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['restart', { action: 'restart' }, 'restart'],
    ['fault-light', { action: 'fault-light', on: true }, 'fault-light'],
    ['power-mode', { action: 'power-mode', mode: 'low' }, 'power-mode'],
  ])('%s on a rig that cannot: 409 naming the capability, nothing sent', async (_name, body, capability) => {
    const before = received.length;
    const r = await call('/api/rigs/cap-trex/actions', body);
    expect(r.status).toBe(409);
    expect(r.body.error?.message).toContain(`(capability "${capability}" missing)`);
    expect(received.length).toBe(before);
  });

  it.each<[string, Record<string, unknown>, CommandEnvelope['payload']]>([
    ['fault-light', { action: 'fault-light', on: true }, { $case: 'setFaultLight', value: { on: true } }],
    ['power-mode', { action: 'power-mode', mode: 'sleep' }, { $case: 'setPowerMode', value: { mode: 'sleep' } }],
  ])('%s on a rig that can goes out as a signed command', async (_name, body, payload) => {
    const r = await call('/api/rigs/cap-wm/actions', body);
    expect(r.status).toBe(202);
    const id = (r.body['command'] as { commandId: string }).commandId;
    expect((await waitFor('the command on MQTT', () => received.find((e) => e.commandId === id))).payload).toEqual(payload);
  });

  it('refuses a power mode no firmware has with 400 naming mode', async () => {
    const r = await call('/api/rigs/cap-wm/actions', { action: 'power-mode', mode: 'turbo' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_argument', field: 'mode' });
  });
});
