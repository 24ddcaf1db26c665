/**
 * A broker that loses its state loses no telemetry (issue 16, item 1). The recorded failure: the broker was killed
 * before its first autosave and restarted empty; the agent reconnected first and replayed its outbox, the broker
 * acknowledged messages no one was subscribed to (the controller's session was gone), and the agent deleted them:
 * 297 of ~2,420 snapshots lost. Now the agent keeps every message until the controller's ingest receipt names it,
 * and sends again what is not confirmed.
 *
 * Real parts: an in-process aedes broker (stopped and restarted on the same port with none of its state), the real
 * controller (Nest app, SQLite file) and the agent's real publisher, outbox on disk and seq store.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { RigTopics } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { makeTempDir, startInProcessBroker, waitFor, type TempDir } from '@rigwarden/testing';
import { AppModule } from '../apps/controller/src/app.module';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { SqliteDatabase } from '../apps/controller/src/persistence/sqlite-database';
import { DiskQueue } from '../apps/agent/src/telemetry/disk-queue';
import { SeqStore } from '../apps/agent/src/telemetry/seq-store';
import { TelemetryPublisher } from '../apps/agent/src/telemetry/telemetry-publisher';

jest.setTimeout(90_000);

const RIGS = ['loss-1', 'loss-2', 'loss-3', 'loss-4'];
const TOPIC_ROOT = 'receipts-test/v1';

describe('ingest receipts: a broker restarted without its state', () => {
  let dir: TempDir;
  let broker: Awaited<ReturnType<typeof startInProcessBroker>> | undefined;
  let controller: TestingModule | undefined;
  let publisher: TelemetryPublisher | undefined;
  let timer: NodeJS.Timeout | undefined;

  afterAll(async () => {
    clearInterval(timer);
    await publisher?.close();
    await controller?.close();
    await broker?.stop();
    dir?.remove();
  });

  async function startController(url: string): Promise<TestingModule> {
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
      MQTT_URL: url, RIGWARDEN_TOPIC_ROOT: TOPIC_ROOT, RIGWARDEN_CONTROLLER_ID: 'receipts-controller',
    });
    const module = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await module.init();
    return module;
  }

  it('stores every snapshot the agent made, though the broker acknowledged some to no one', async () => {
    dir = makeTempDir();
    broker = await startInProcessBroker();
    const port = broker.port;
    controller = await startController(broker.url);

    const outbox = new DiskQueue(join(dir.path, 'agent', 'outbox'), { maxBytes: 64 << 20, maxAgeMs: 3600_000, clock: systemClock });
    publisher = new TelemetryPublisher({
      url: broker.url, clientId: 'receipts-agent', agentId: 'receipts-agent', agentVersion: 'test', rigIds: [...RIGS],
      clock: systemClock, logger: createLogger('agent', { level: 'error' }), seq: new SeqStore(join(dir.path, 'agent')),
      topics: new RigTopics(TOPIC_ROOT), outbox, resendAfterMs: 1000,
    });
    await publisher.connect();
    let made = 0;
    const publishRound = (): void => {
      for (const rigId of RIGS) {
        publisher!.publishOutcome({
          rigId, minerId: `${rigId}:4028`, driver: 'cgminer', host: '127.0.0.1', port: 4028, collectedAt: Date.now(),
          reading: { driver: 'cgminer', hashrate5sHs: 1e14, boards: [], fans: [], pools: [], errors: [], hashrateWindows: [], fieldWarnings: [] } as never,
          errors: [],
        });
        made++;
      }
    };
    timer = setInterval(publishRound, 10);

    const db = (): SqliteDatabase => controller!.get(SqliteDatabase);
    await waitFor('the controller to store the first snapshots', async () => ((await db().get<{ n: number }>('SELECT COUNT(*) AS n FROM snapshots'))!.n > 40 ? true : undefined), 20_000, 50);
    expect(publisher.counters.receipts).toBeGreaterThan(0);

    // The controller goes away; its persistent session keeps what the agent sends meanwhile...
    await controller.close();
    controller = undefined;
    const sentWhileAway = publisher.counters.published;
    await waitFor('the broker to acknowledge snapshots for the absent controller', () => (publisher!.counters.published > sentWhileAway + 200 ? true : undefined), 20_000, 20);
    // ...until the broker dies with it and comes back empty on the same port.
    await broker.stop();
    broker = await startInProcessBroker(port);
    // The agent is back first and sends everything unconfirmed to a broker that has no one to give it to.
    const beforeReconnect = publisher.counters.published;
    await waitFor('the agent to reconnect and send again', () => (publisher!.connected && publisher!.counters.published > beforeReconnect + 200 ? true : undefined), 20_000, 20);
    controller = await startController(broker.url);
    await waitFor('the agent to send the unconfirmed messages once more', () => (publisher!.counters.resent > 0 ? true : undefined), 20_000, 50);

    clearInterval(timer);
    timer = undefined;
    await waitFor('the outbox to be confirmed empty', () => (outbox.depth === 0 ? true : undefined), 30_000, 50);
    const rows = await db().all<{ rig_id: string; n: number; distinct_seq: number; min_seq: number; max_seq: number }>(
      `SELECT rig_id, COUNT(*) AS n, COUNT(DISTINCT seq) AS distinct_seq, MIN(seq) AS min_seq, MAX(seq) AS max_seq FROM snapshots GROUP BY rig_id`);
    const stored = rows.reduce((sum, r) => sum + r.distinct_seq, 0);
    expect(stored).toBe(made); // 0 lost
    for (const r of rows) {
      expect(r.n).toBe(r.distinct_seq); // none stored twice
      expect(r.max_seq - r.min_seq + 1).toBe(r.n); // no gap
    }
  });
});
