/**
 * Store-and-forward end to end: an agent polling two simulated miners, a real
 * broker reached through a proxy that the test cuts for 30 s, and the real
 * controller ingesting into SQLite. Every snapshot must arrive, none twice.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { CgminerSimulator } from '@rigwarden/simulators';
import { createLogger, systemClock } from '@rigwarden/shared';
import { TcpProxy, makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../apps/controller/src/app.module';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { SqliteDatabase } from '../apps/controller/src/persistence/sqlite-database';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';

jest.setTimeout(90_000);

/** The issue asks for 30 s; OUTAGE_MS shortens it while working on this test. */
const OUTAGE_MS = Number(process.env['OUTAGE_MS'] ?? 30_000);

describe('agent store-and-forward through a 30 s broker outage', () => {
  let broker: TestBroker;
  let proxy: TcpProxy;
  let dir: TempDir;
  let sims: CgminerSimulator[];
  let controller: TestingModule;
  let agent: Agent | undefined;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    const target = new URL(broker.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 1883));
    await proxy.start();
    sims = [new CgminerSimulator(), new CgminerSimulator()];
    const ports = await Promise.all(sims.map(async (s) => (await s.start()).port));

    const controllerConfig = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    controller = await Test.createTestingModule({ imports: [AppModule.forConfig(controllerConfig)] }).compile();
    await controller.init();

    const config = parseAgentConfig({
      agent: { id: 'outage-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: proxy.url, clientId: `agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 250, timeoutMs: 200, jitterMs: 0 },
      miners: ports.map((port, i) => ({ rig: `outage-${i + 1}`, host: '127.0.0.1', port })),
    }, join(dir.path, 'agent.yaml'), {});
    agent = new Agent(config, systemClock, createLogger('agent', { level: 'error' }));
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.close();
    await proxy?.stop();
    await Promise.all((sims ?? []).map((s) => s.stop()));
    await broker?.stop();
    dir?.remove();
  });

  it('delivers every snapshot exactly once into SQLite, in seq order per rig', async () => {
    await new Promise((r) => setTimeout(r, 1_500));
    await proxy.cut();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const queuedDuringOutage = agent!.outbox.depth;
    expect(queuedDuringOutage).toBeGreaterThan((OUTAGE_MS / 1000) * 8 * 0.6); // 2 miners x 4 polls/s, with slack for a loaded machine
    await proxy.restore();
    await waitFor('the outbox to drain', () => (agent!.outbox.depth === 0 && agent!.publisher.connected ? true : undefined), 30_000, 100);
    await new Promise((r) => setTimeout(r, 1_000));
    await agent!.stop();
    agent = undefined;

    const db = controller.get(SqliteDatabase);
    const lastSeqs = await waitFor('the controller to store the last snapshots', async () => {
      const rows = await db.all<{ rig_id: string; n: number; distinct_seq: number; min_seq: number; max_seq: number }>(
        `SELECT rig_id, COUNT(*) AS n, COUNT(DISTINCT seq) AS distinct_seq, MIN(seq) AS min_seq, MAX(seq) AS max_seq
           FROM snapshots WHERE rig_id LIKE 'outage-%' GROUP BY rig_id ORDER BY rig_id`);
      const rigs = await db.all<{ rig_id: string; last_seq: number }>("SELECT rig_id, last_seq FROM rigs_seen WHERE rig_id LIKE 'outage-%'");
      // A rig's first seq is the agent's clock in ms x 1000 (SeqStore), then one more per snapshot.
      const complete = rows.length === 2 && rows.every((r) => r.n === r.max_seq - r.min_seq + 1)
        && rigs.every((r) => rows.find((x) => x.rig_id === r.rig_id)?.max_seq === r.last_seq);
      return complete ? rows : undefined;
    }, 20_000, 200);
    for (const row of lastSeqs) {
      expect(row.n).toBe(row.distinct_seq); // none stored twice
      expect(row.n).toBe(row.max_seq - row.min_seq + 1); // no gaps: every seq from the first to the last is present
      expect(row.n).toBeGreaterThan(queuedDuringOutage / 2 - 10);
    }
    expect(proxy.connections).toBeGreaterThanOrEqual(2); // it really reconnected
  });
});
