/**
 * Issue 7: "a rotation under continuous command load → no failed command". In one process with real parts: a real
 * broker, the controller (AppModule) with its own key file, the agent with ITS OWN key file and a simulated miner.
 * Commands are dispatched every 40 ms while AdminService.RotateRigKey delivers a new key over the signed channel,
 * switches to it and retires the old one. Every command succeeds; both key files end with the new key active and the
 * old one retired; the secret never appears on the wire in the clear. A rotation no agent confirms gives up and
 * leaves the controller's key file as it was.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { Test, type TestingModule } from '@nestjs/testing';
import mqtt from 'mqtt';
import { AdminServiceClient, RigTopics, RotateRigKeyRequest, type RotateRigKeyProgress } from '@rigwarden/protocol';
import { SecretBytes, findSecretLeaks, parseRigKeyFile } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';
import { FleetGrpcServer } from '../apps/controller/src/api-grpc/fleet-grpc.server';
import { AppModule } from '../apps/controller/src/app.module';
import { AuditRepository } from '../apps/controller/src/audit/audit.repository';
import { CommandDispatcher } from '../apps/controller/src/commands/command-dispatcher.service';
import type { CommandRecord } from '../apps/controller/src/commands/command-repository';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';

jest.setTimeout(60_000);

const RIG = 'rot-1';
const SILENT = 'rot-silent';

describe('rig key rotation under continuous command load', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: TestingModule;
  let agent: Agent | undefined;
  let controllerKeys: string;
  let agentKeys: string;
  const k1 = SecretBytes.generate();

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    // k0: left active by an interrupted rotation; k1 signs (it is newer). A rotation retires both.
    const k0 = { id: 'k0', secret: SecretBytes.generate().exposeBase64url(), notBefore: '2026-01-01T00:00:00Z' };
    const file = JSON.stringify({ rigs: { [RIG]: [k0, { id: 'k1', secret: k1.exposeBase64url(), notBefore: '2026-06-01T00:00:00Z' }] } });
    controllerKeys = join(dir.path, 'controller-keys.json');
    agentKeys = join(dir.path, 'agent-keys.json');
    // The controller also knows a rig no agent drives, to see a rotation that cannot be confirmed.
    writeFileSync(controllerKeys, JSON.stringify({ rigs: { [RIG]: [k0, { id: 'k1', secret: k1.exposeBase64url(), notBefore: '2026-06-01T00:00:00Z' }], [SILENT]: [{ id: 'k1', secret: SecretBytes.generate().exposeBase64url() }] } }), { mode: 0o600 });
    writeFileSync(agentKeys, file, { mode: 0o600 });
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--keys-file', controllerKeys], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    controller = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await controller.init();
    agent = new Agent(parseAgentConfig({
      agent: { id: 'rot-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `rot-agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 60_000 },
      security: { keysFile: agentKeys },
      miners: [{ rig: RIG, host: '127.0.0.1', port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    await agent.start();
    await waitFor('the agent to connect', () => (agent!.publisher.connected ? true : undefined));
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.close();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  it('delivers, switches and retires with zero failed commands', async () => {
    const dispatcher = controller.get(CommandDispatcher);
    const wire: Buffer[] = [];
    const spy = await mqtt.connectAsync(broker.url, { clientId: `spy-${broker.topicRoot}` });
    await spy.subscribeAsync(new RigTopics(broker.topicRoot).rig(RIG, 'commands'), { qos: 1 });
    spy.on('message', (_t, payload) => wire.push(Buffer.from(payload)));

    // Continuous load: a command every 40 ms until the rotation is over, then a few more on the new key.
    const finished: Array<Promise<CommandRecord | undefined>> = [];
    let loading = true;
    const load = (async () => {
      for (let i = 0, after = 0; after < 5; i++) {
        const record = await dispatcher.dispatch({
          rigId: RIG, minerId: 'm1', payload: { $case: 'switchPool', value: { poolIndex: i % 2 } }, reason: `load ${i}`, requestedBy: 'test:load', timeoutMs: 20_000,
        });
        finished.push(dispatcher.waitFor(record.id));
        await new Promise((resolve) => setTimeout(resolve, 40));
        if (!loading) after++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500)); // load running before the rotation starts

    const client = new AdminServiceClient(controller.get(FleetGrpcServer).address, credentials.createInsecure());
    const steps: RotateRigKeyProgress[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.rotateRigKey(RotateRigKeyRequest.fromPartial({ rigId: RIG, timeoutSeconds: 20 }), grpcAuth(readAdminToken(join(dir.path, 'controller'))));
        stream.on('data', (p: RotateRigKeyProgress) => steps.push(p));
        stream.on('error', reject);
        stream.on('end', () => resolve());
      });
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // keep loading on the new key for a while
    loading = false;
    await load;
    const outcomes = await Promise.all(finished);
    await spy.endAsync();

    expect(steps.map((s) => s.step)).toEqual(['delivering', 'confirmed', 'switched', 'retired']);
    const newKeyId = steps[0]!.newKeyId;
    expect(steps.every((s) => s.oldKeyId === 'k1' && s.newKeyId === newKeyId)).toBe(true);
    expect(outcomes.length).toBeGreaterThan(20);
    const notSucceeded = outcomes.filter((o) => o?.state !== 'SUCCEEDED').map((o) => `${o?.id}: ${o?.state} ${o?.cause}`);
    expect(notSucceeded).toEqual([]);

    // Both key files: the new key active and newest, k1 retired; the agent's copy came over the channel.
    for (const path of [controllerKeys, agentKeys]) {
      const { ring } = parseRigKeyFile(readFileSync(path, 'utf8'), path);
      expect(ring.signingKey(RIG, Date.now()).id).toBe(newKeyId);
      expect(ring.lookup(RIG, 'k1', Date.now())).toEqual({ ok: false, reason: 'retired_key' });
      expect(ring.lookup(RIG, 'k0', Date.now())).toEqual({ ok: false, reason: 'retired_key' });
    }
    const controllerRing = parseRigKeyFile(readFileSync(controllerKeys, 'utf8'), controllerKeys).ring;
    const newSecret = controllerRing.signingKey(RIG, Date.now()).secret;
    expect(parseRigKeyFile(readFileSync(agentKeys, 'utf8'), agentKeys).ring.signingKey(RIG, Date.now()).secret.expose().equals(newSecret.expose())).toBe(true);
    // The commands after the switch were signed with the new key; nothing on the wire holds either secret.
    const keyIds = wire.map((w) => (JSON.parse(w.toString('utf8')) as { keyId: string }).keyId);
    expect(keyIds).toContain('k1');
    expect(keyIds[keyIds.length - 1]).toBe(newKeyId);
    expect(findSecretLeaks(Buffer.concat(wire), { newSecret, k1 })).toEqual([]);
    // Each step is in the audit log.
    const audit = await controller.get(AuditRepository).query({ action: 'rigkey.rotate', target: RIG });
    expect(audit.map((a) => a.outcome).reverse()).toEqual(['delivering', 'confirmed', 'switched', 'retired']);
  });

  it('gives up when the agent does not confirm, and keeps signing with the old key', async () => {
    const before = readFileSync(controllerKeys, 'utf8');
    const client = new AdminServiceClient(controller.get(FleetGrpcServer).address, credentials.createInsecure());
    const steps: RotateRigKeyProgress[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.rotateRigKey(RotateRigKeyRequest.fromPartial({ rigId: SILENT, timeoutSeconds: 2 }), grpcAuth(readAdminToken(join(dir.path, 'controller'))));
        stream.on('data', (p: RotateRigKeyProgress) => steps.push(p));
        stream.on('error', reject);
        stream.on('end', () => resolve());
      });
    } finally {
      client.close();
    }
    expect(steps.map((s) => s.step)).toEqual(['delivering', 'failed']);
    expect(steps[1]!.message).toMatch(/the agent did not take key k-\S+ \(TIMED_OUT: .*\); k1 stays in use/);
    expect(readFileSync(controllerKeys, 'utf8')).toBe(before);
  });
});
