/**
 * An agent reporting three rigs dies (its TCP connection dropped, no MQTT DISCONNECT): the broker publishes the
 * connection's only last will, on the first rig's state. The controller (whole app, real SQLite file, in-process
 * broker) must take all three rigs offline with the reason, in the database, the API view and the events.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { AgentStatus, MinerSnapshot, PoolStatus, RigState, RigTopics, encodeJson } from '@rigwarden/protocol';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { loadControllerConfig } from '../config/controller-config';
import { GetRigUseCase } from '../fleet/get-rig.usecase';
import { EventRepository } from '../persistence/event-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { LivenessService } from './liveness.service';

jest.setTimeout(30_000);

const RIGS = ['k-1', 'k-2', 'k-3'];
const POLL_MS = 200;

describe('liveness scenario: an agent with 3 rigs is killed', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let controller: TestingModule;
  let agent: MqttClient;
  let timer: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    // Fast bounds for the test: cadence learned from 200 ms polls (floor 100 ms), a sweep every 50 ms.
    config.liveness = { minIntervalMs: 100, defaultIntervalMs: POLL_MS, graceMs: 200, sweepMs: 50 };
    controller = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await controller.init();
  });

  afterAll(async () => {
    clearInterval(timer);
    await agent?.endAsync(true).catch(() => undefined);
    await controller?.close();
    await broker?.stop();
    dir?.remove();
  });

  it('all three rigs go offline with the reason, not only the one with the last will', async () => {
    const topics = new RigTopics(broker.topicRoot);
    const state = (rigId: string, online: boolean): Buffer => encodeJson(RigState, RigState.fromPartial({ rigId, agentId: 'agent-k', online, agentVersion: 't', at: new Date() }));
    // As the real agent's publisher: one will per connection, the first rig's offline state.
    agent = await mqtt.connectAsync(broker.url, {
      clientId: `agent-k-${broker.topicRoot}`, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60,
      will: { topic: topics.rig(RIGS[0]!, 'state'), payload: state(RIGS[0]!, false), qos: 1, retain: true },
    });
    for (const rigId of RIGS) await agent.publishAsync(topics.rig(rigId, 'state'), state(rigId, true), { qos: 1, retain: true });
    await agent.publishAsync(topics.agentStatus('agent-k'), encodeJson(AgentStatus, AgentStatus.fromPartial({
      agentId: 'agent-k', online: true, at: new Date(), rigIds: RIGS, fieldWarnings: [{ rigId: 'k-2', field: 'summary.MHS 5s', reason: 'negative', count: 3 }],
    })), { qos: 1, retain: true });
    const seq = new Map(RIGS.map((r) => [r, 0]));
    const publishTelemetry = (): void => {
      for (const rigId of RIGS) {
        const n = seq.get(rigId)! + 1;
        seq.set(rigId, n);
        const snapshot = MinerSnapshot.fromPartial({
          rigId, minerId: `${rigId}-m`, seq: n, agentId: 'agent-k', collectedAt: new Date(), hashrate5sHs: 1e9, uptimeS: 100 + n,
          software: 'bfgminer', softwareVersion: '5.5.0', pools: [{ index: 0, url: 'stratum+tcp://p:3333', user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: true }],
        });
        agent.publish(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, snapshot), { qos: 1 });
      }
    };
    timer = setInterval(publishTelemetry, POLL_MS);
    const liveness = controller.get(LivenessService);
    await waitFor('three rigs online with a learned cadence', () => (RIGS.every((r) => liveness.get(r)?.state === 'online' && liveness.get(r)?.reason === 'telemetry-fresh') ? true : undefined), 10_000, 20);

    // Killed: the socket goes, no DISCONNECT; the broker sends the will.
    clearInterval(timer);
    const killedAt = Date.now();
    agent.stream.destroy();
    await waitFor('all three rigs offline', () => (RIGS.every((r) => liveness.get(r)?.state === 'offline') ? true : undefined), 10_000, 10);
    const tookMs = Date.now() - killedAt;
    // The will takes them all at once: well inside the telemetry-silence bound (6 x 200 ms + 200 ms).
    expect(tookMs).toBeLessThan(1400);
    for (const rigId of RIGS) expect(liveness.get(rigId)).toMatchObject({ state: 'offline', reason: 'agent-last-will', online: false, agentId: 'agent-k' });

    await liveness.idle();
    const db = controller.get(SqliteDatabase);
    const rows = await db.all<{ rig_id: string; online: number; liveness: string; liveness_reason: string }>('SELECT rig_id, online, liveness, liveness_reason FROM rigs ORDER BY rig_id');
    expect(rows).toEqual(RIGS.map((rigId) => ({ rig_id: rigId, online: 0, liveness: 'offline', liveness_reason: 'agent-last-will' })));
    const views = await controller.get(GetRigUseCase).executeMany(RIGS);
    // The agent's refused-value counts come with the rig they belong to.
    expect(views.map((r) => r.fieldWarningCounts.map((w) => `${w.field}:${w.reason}:${w.count}`))).toEqual([[], ['summary.MHS 5s:negative:3'], []]);
    for (const rig of views) {
      expect(rig).toMatchObject({ online: false, liveness: 'offline', livenessReason: 'agent-last-will', agentId: 'agent-k' });
      expect(rig.livenessMessage).toMatch(/^agent agent-k went offline at .* \(last will\)$/);
    }
    const events = controller.get(EventRepository);
    for (const rigId of RIGS) {
      const kinds = (await events.eventsForRig(rigId)).map((e) => `${e.kind}:${e.reason}:${e.source}`);
      expect(kinds).toContain('liveness.offline:agent-last-will:controller');
    }
  });
});
