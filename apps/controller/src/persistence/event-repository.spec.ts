import { join } from 'node:path';
import { RigEvent } from '@rigwarden/protocol';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { EventRepository } from './event-repository';
import { migrate } from './migrations';
import { SqliteDatabase } from './sqlite-database';
import { TelemetryQueryRepository } from './telemetry-query.repository';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const HOUR = 3_600_000;

describe('EventRepository: policy actions and quarantine state on a real SQLite file', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let events: EventRepository;
  let queries: TelemetryQueryRepository;
  let n = 0;

  const record = (rigId: string, kind: string, at: number, source = 'watchdog', commandId = ''): Promise<boolean> =>
    events.recordEvent(RigEvent.fromPartial({ eventId: `e${++n}`, rigId, kind, severity: 'info', reason: kind, message: kind, at: new Date(at) }), source, commandId);

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
    events = new EventRepository(db);
    queries = new TelemetryQueryRepository(db);
  });

  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('policyActionsForRig: decisions since the window, oldest first, plus the newest quarantine of any age', async () => {
    await record('r1', 'policy.restart-miner', T0 - 40 * HOUR);
    await record('r1', 'policy.quarantine', T0 - 30 * HOUR);
    await record('r1', 'policy.switch-pool', T0 - 2 * HOUR, 'failover');
    await record('r1', 'agent.local_watchdog_stop', T0 - HOUR, 'agent');
    await record('r1', 'policy.alert', T0 - HOUR);
    await record('r2', 'policy.restart-miner', T0 - HOUR);
    const rows = await events.policyActionsForRig('r1', T0 - 24 * HOUR);
    expect(rows.map((r) => [r.kind, r.at])).toEqual([['policy.quarantine', T0 - 30 * HOUR], ['policy.switch-pool', T0 - 2 * HOUR], ['policy.alert', T0 - HOUR]]);
  });

  it('policyActionsForRig: an old quarantine released since is not brought back, the release is', async () => {
    await record('r1', 'policy.quarantine', T0 - 30 * HOUR);
    await record('r1', 'operator.release', T0 - 29 * HOUR, 'operator');
    const rows = await events.policyActionsForRig('r1', T0 - 24 * HOUR);
    expect(rows.map((r) => r.kind)).toEqual(['operator.release']);
  });

  it('policyActionsForRig: joins the command state and payload', async () => {
    await db.transaction((tx) => tx.run(
      `INSERT INTO commands (id, rig_id, miner_id, type, payload, state, created_at, deadline, requested_by) VALUES ('c1', 'r1', 'm1', 'restart-miner', '{"restartMiner":{}}', 'SUCCEEDED', ?, ?, 'policy:watchdog')`,
      [T0, T0 + 60_000],
    ));
    await record('r1', 'policy.restart-miner', T0, 'watchdog', 'c1');
    expect(await events.policyActionsForRig('r1', 0)).toEqual([expect.objectContaining({ command_id: 'c1', command_state: 'SUCCEEDED', command_payload: '{"restartMiner":{}}' })]);
  });

  it('policyActionsForRig: a decision\'s parameters, its command\'s cause and observed outcome come back (schema v9, v10)', async () => {
    await db.transaction((tx) => tx.run(
      `INSERT INTO commands (id, rig_id, miner_id, type, payload, state, created_at, deadline, requested_by, cause, observed_outcome) VALUES ('c2', 'r1', 'm1', 'switch-pool', '{"switchPool":{"poolIndex":1}}', 'TIMED_OUT', ?, ?, 'policy:failover', 'no result', 'succeeded-observed')`,
      [T0, T0 + 60_000],
    ));
    await events.recordEvent(RigEvent.fromPartial({ eventId: 'p1', rigId: 'r1', kind: 'policy.switch-pool', severity: 'warning', reason: 'active-pool-dead', message: 'm', at: new Date(T0) }), 'failover', 'c2', '{"poolIndex":1,"fromUrl":"stratum+tcp://a:3333"}');
    expect(await events.policyActionsForRig('r1', 0)).toEqual([expect.objectContaining({
      command_id: 'c2', params: '{"poolIndex":1,"fromUrl":"stratum+tcp://a:3333"}', command_cause: 'no result', command_observed: 'succeeded-observed',
    })]);
  });

  it('quarantined: the latest quarantine against the latest release, per rig', async () => {
    await record('q', 'policy.quarantine', T0);
    await record('released', 'policy.quarantine', T0);
    await record('released', 'operator.release', T0 + 1, 'operator');
    await record('again', 'policy.quarantine', T0);
    await record('again', 'operator.release', T0 + 1, 'operator');
    await record('again', 'policy.quarantine', T0 + 2);
    await record('never', 'policy.restart-miner', T0);
    expect([...(await queries.quarantined(['q', 'released', 'again', 'never', 'unknown']))].sort()).toEqual(['again', 'q']);
  });
});
