import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandOutcome, CommandResult, MinerSnapshot, RigTopics, encodeJson } from '@rigwarden/protocol';
import { makeTempDir, startMosquitto, waitFor, type TempDir, type TestMosquitto } from '@rigwarden/testing';
import { AppModule } from '../../app.module';
import { loadControllerConfig } from '../../config/controller-config';
import { TelemetryIngestService } from '../../ingest/telemetry-ingest.service';
import { LivenessService } from '../../liveness/liveness.service';
import { RIG_STATUS_STORE, type RigStatusStore } from '../ports/rig-status.port';
import { openTestSchema, schemaUrl, type TestSchema } from './postgres.testing';

/**
 * Two controllers of one MQTT 5 shared group on one PostgreSQL schema: each telemetry message reaches one of them, and
 * the ingest feed (LISTEN/NOTIFY) tells the other, so both serve every rig's newest status and judge every rig by
 * telemetry that arrived, whichever of them took it.
 */
describe('shared ingest on PostgreSQL: what one controller stores, the others hear of', () => {
  const topicRoot = `test-feed-${randomBytes(6).toString('hex')}/v1`;
  const topics = new RigTopics(topicRoot);
  let pg: TestSchema;
  let dir: TempDir;
  let mosquitto: TestMosquitto;
  let publisher: MqttClient;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    pg = await openTestSchema();
    dir = makeTempDir();
    mosquitto = await startMosquitto(dir.path);
    publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `pub-${topicRoot}`, reconnectPeriod: 0, connectTimeout: 3000 });
    for (const name of ['a', 'b']) {
      const config = loadControllerConfig([
        '--data-dir', join(dir.path, name), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0',
        '--database', schemaUrl(pg.schema), '--replica-id', `ctl-${name}`, '--mqtt-shared-group', 'ingest',
        '--secrets-file', join(dir.path, 'controller-secrets.json'), // one pepper and audit key for the shared database
      ], { MQTT_URL: mosquitto.url, RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${name}-${topicRoot}` });
      const app = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
      await app.init();
      apps.push(app);
    }
  });

  afterAll(async () => {
    await publisher?.endAsync();
    for (const app of apps) await app.close();
    await mosquitto?.stop();
    dir?.remove();
    await pg?.drop();
  });

  it('stores each snapshot once, and both controllers serve every rig\'s newest seq and count it as telemetry', async () => {
    const rigs = 20;
    const perRig = 5;
    for (let seq = 1; seq <= perRig; seq++) {
      for (let r = 0; r < rigs; r++) {
        const rigId = `feed-${r}`;
        const snapshot = MinerSnapshot.fromPartial({ rigId, agentId: 'feed-agent', minerId: 'm1', seq, collectedAt: new Date(), hashrate5sHs: 1e12 + seq });
        await publisher.publishAsync(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, snapshot), { qos: 1 });
      }
    }
    const ingests = apps.map((app) => app.get(TelemetryIngestService));
    await waitFor('all snapshots stored', () => (ingests.reduce((n, i) => n + i.counters.stored, 0) >= rigs * perRig ? true : undefined), 20_000);
    const rows = await pg.db.all<{ n: number; distinct_keys: number }>("SELECT COUNT(*) AS n, COUNT(DISTINCT (rig_id, seq)) AS distinct_keys FROM snapshots WHERE rig_id LIKE 'feed-%'");
    expect(rows[0]).toEqual({ n: rigs * perRig, distinct_keys: rigs * perRig });
    for (const ingest of ingests) {
      expect(ingest.counters.stored).toBeGreaterThan(0); // both took a share
      expect(ingest.counters.heardElsewhere).toBeGreaterThan(0); // and heard of the other's
    }
    for (const [i, app] of apps.entries()) {
      const store = app.get<RigStatusStore>(RIG_STATUS_STORE);
      const liveness = app.get(LivenessService);
      for (let r = 0; r < rigs; r++) {
        const rigId = `feed-${r}`;
        // Read once before the newest seq lands too: a cached status must be forgotten when the other stores.
        await waitFor(`controller ${i} to serve ${rigId} at seq ${perRig}`, async () => ((await store.getRig(rigId))?.lastSeq === perRig ? true : undefined), 10_000);
        await waitFor(`controller ${i} to judge ${rigId} online on its telemetry`, () => (liveness.get(rigId)?.state === 'online' && liveness.get(rigId)?.reason !== 'awaiting-telemetry' ? true : undefined));
      }
    }
  });

  it('forgets a status it cached once the other controller stores a newer snapshot of the rig', async () => {
    const rigId = 'feed-0';
    const stores = apps.map((app) => app.get<RigStatusStore>(RIG_STATUS_STORE));
    for (const s of stores) expect((await s.getRig(rigId))?.lastSeq).toBe(5); // cached in both
    for (let seq = 6; seq <= 12; seq++) {
      await publisher.publishAsync(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ rigId, agentId: 'feed-agent', minerId: 'm1', seq, collectedAt: new Date(), hashrate5sHs: 2e12 })), { qos: 1 });
    }
    for (const [i, s] of stores.entries()) {
      await waitFor(`controller ${i} to serve seq 12`, async () => ((await s.getRig(rigId))?.lastSeq === 12 ? true : undefined), 10_000);
    }
  });

  it('gives every controller each command result (not shared) and keeps it once in the store', async () => {
    const result = CommandResult.fromPartial({ commandId: `cmd-${topicRoot}`, rigId: 'feed-1', outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: '', durationMs: 12, finishedAt: new Date() });
    const before = apps.map((app) => app.get(TelemetryIngestService).counters.results);
    await publisher.publishAsync(topics.rig('feed-1', 'results'), encodeJson(CommandResult, result), { qos: 1 });
    for (const [i, app] of apps.entries()) {
      await waitFor(`controller ${i} to take the result`, () => (app.get(TelemetryIngestService).counters.results > before[i]! ? true : undefined));
    }
    await waitFor('the result stored', async () => ((await pg.db.all('SELECT 1 FROM command_results WHERE command_id = $1', [result.commandId])).length > 0 ? true : undefined));
    for (const app of apps) await app.get(TelemetryIngestService).flush();
    expect(await pg.db.all('SELECT outcome FROM command_results WHERE command_id = $1', [result.commandId])).toEqual([{ outcome: 'COMMAND_OUTCOME_SUCCEEDED' }]);
  });
});
