/**
 * Telemetry the broker acknowledged is never lost by a controller crash (issue 16, item 1): the controller sends its
 * PUBACK only after the SQLite commit that holds the message, so a kill -9 between the two leaves the message with
 * the broker, which sends it again on the next connection of the controller's persistent session.
 *
 * A publisher stands in for the agents and does NOT resend anything (no receipts): only the controller's own
 * acknowledgements are tested. The real controller process is killed with SIGKILL 20 times under load (about 400
 * snapshots a second), then started once more; every snapshot the broker acknowledged must be in SQLite, once.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import sqlite3 from 'sqlite3';
import { makeTempDir, startNode, startTestBroker, waitFor, type RunningProcess, type TempDir, type TestBroker } from '@rigwarden/testing';

jest.setTimeout(240_000);

const root = join(__dirname, '..');
const KILLS = 20;
const RIGS = 40;

function count(dbFile: string): Promise<{ rows: number; distinct: number }> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(dbFile, sqlite3.OPEN_READONLY, (err) => {
      if (err) { reject(err); return; }
      db.get<{ rows: number; distinct_rows: number }>(
        "SELECT COUNT(*) AS rows, COUNT(DISTINCT rig_id || '/' || seq) AS distinct_rows FROM snapshots WHERE rig_id LIKE 'kill-%'",
        (e, row) => { db.close(); if (e) reject(e); else resolve({ rows: row!.rows, distinct: row!.distinct_rows }); },
      );
    });
  });
}

describe('controller kill -9 under load', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let controller: RunningProcess | undefined;
  let publisher: MqttClient | undefined;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/controller/main.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does)');
    broker = await startTestBroker();
    dir = makeTempDir('rigwarden-kill-');
  });

  afterAll(async () => {
    await publisher?.endAsync(true);
    await controller?.stop('SIGKILL');
    await broker?.stop();
    dir?.remove();
  });

  async function startController(): Promise<RunningProcess> {
    const readyFile = join(dir.path, 'ready.json');
    rmSync(readyFile, { force: true });
    const child = startNode(join(root, 'bin/rigwarden-controller.js'), [
      '--data-dir', join(dir.path, 'data'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', readyFile,
    ], { MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `kill-${broker.topicRoot}`, LOG_LEVEL: 'error' });
    await waitFor('the controller to be ready', () => {
      if (child.child.exitCode !== null) throw new Error(`the controller exited: ${child.output()}`);
      return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { db: string } : undefined;
    }, 30_000, 25);
    return child;
  }

  it('loses none of the snapshots the broker acknowledged through 20 kills', async () => {
    // The controller's persistent session must exist before the load starts, so the broker queues for it.
    controller = await startController();
    publisher = await mqtt.connectAsync(broker.url, { clientId: `kill-load-${broker.topicRoot}`, reconnectPeriod: 0 });
    const seqs = new Array<number>(RIGS).fill(0);
    let acknowledged = 0;
    let failed = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const sends: Array<Promise<unknown>> = [];
        for (let i = 0; i < 8; i++) {
          const r = (acknowledged + failed + sends.length) % RIGS;
          const seq = ++seqs[r]!;
          const snapshot = { rigId: `kill-${r}`, minerId: `10.0.0.${r}:4028`, agentId: 'kill-load', seq, collectedAt: new Date().toISOString(), hashrate5sHs: 1e14 };
          sends.push(publisher!.publishAsync(`${broker.topicRoot}/rigs/kill-${r}/telemetry`, JSON.stringify(snapshot), { qos: 1 })
            .then(() => { acknowledged++; }, () => { failed++; }));
        }
        await Promise.all(sends);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    for (let kill = 0; kill < KILLS; kill++) {
      // Let it ingest for a while (a different moment of its batch cycle each time), then kill it mid-stream.
      const ranFor = 150 + ((kill * 137) % 500);
      await new Promise((r) => setTimeout(r, ranFor));
      await controller.stop('SIGKILL');
      controller = await startController();
    }
    running = false;
    await load;
    expect(failed).toBe(0);
    expect(acknowledged).toBeGreaterThan(KILLS * 40);

    const dbFile = join(dir.path, 'data', 'rigwarden.db');
    await waitFor('every acknowledged snapshot to be stored', async () => ((await count(dbFile)).distinct >= acknowledged ? true : undefined), 30_000, 250)
      .catch(() => undefined); // the counts below say how many are missing
    const stored = await count(dbFile);
    expect(stored.distinct).toBe(acknowledged); // none lost
    expect(stored.rows).toBe(stored.distinct); // none twice
  });
});
