/**
 * The built controller on PostgreSQL (issue 18 item 1): `--database postgres://...` against the real server, a
 * simulated farm of three rigs read by the built agent, one rig's primary pool silenced. Telemetry, the failover
 * decision, its command with its state machine and the agent's result all land in PostgreSQL (a schema of their own,
 * dropped afterwards), rigctl reads them back through gRPC, and no SQLite file is made. An unreachable server fails
 * the start with the URL named, its password masked.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AsicRigState } from '@rigwarden/simulators';
import { makeTempDir, runNode, waitFor } from '@rigwarden/testing';
import { rowsInSchema } from './postgres-schema';
import { FAST_FRESHNESS, Scenario, bin, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const SILENT_AFTER_MS = 3000;
const RIGS = ['pg-01', 'pg-02', 'pg-03'];

/** The test server (.ci/run exports RIGWARDEN_TEST_DATABASE_URL), else the local one with trust auth. */
const serverUrl = process.env['RIGWARDEN_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

describe('controller on PostgreSQL with real processes (--database)', () => {
  const schema = `e2e_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: serverUrl, max: 1 });
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await scenario?.stop();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  /** Rows of `sql` in the test schema (one client, so the search_path holds for the query). */
  const rows = <T>(sql: string, params: unknown[] = []): Promise<T[]> => rowsInSchema<T>(admin, schema, sql, params);

  it('stores telemetry, the failover decision, its command and the agent\'s result in PostgreSQL, and serves them over gRPC', async () => {
    const started = Date.now();
    scenario = await Scenario.start('pg', {
      pollMs: POLL_MS,
      controllerArgs: ['--database', withSearchPath(serverUrl, schema)],
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }, { name: 'pool-b', notifyIntervalMs: 500 }],
        rigs: RIGS.map((id) => ({ id, kind: 'asic' as const, dialect: 'cgminer' as const, pools: ['pool-a', 'pool-b'] })),
        mining: { shareIntervalMs: 500, silenceTimeoutMs: 90_000 },
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: pg', '    match: { rigIds: [pg-01] }', '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        `    policy: { failover: { silentAfterMs: ${SILENT_AFTER_MS} } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    await s.waitForRig('shares on pool-a', 'pg-01', (r: AsicRigState) => (r.pools[0]!.accepted >= 2 ? r : undefined), 20_000);
    const perRig = await waitForRows(() => rows<{ rig_id: string; n: number }>('SELECT rig_id, COUNT(*)::int AS n FROM snapshots GROUP BY rig_id ORDER BY rig_id'),
      (r) => r.length === RIGS.length && r.every((x) => x.n >= 2), 'snapshots of every rig');
    expect(perRig.map((r) => r.rig_id)).toEqual(RIGS);

    const silencedAt = await s.fault({ fault: 'silence-pool', pool: 'pool-a' });
    await s.waitForRig('pg-01 on pool-b', 'pg-01', (r: AsicRigState) => (r.activePool === 1 ? r : undefined), 20_000);
    const tookMs = Date.now() - silencedAt;

    const [decision] = await waitForRows(() => rows<{ reason: string; source: string; command_id: string }>(
      "SELECT reason, source, command_id FROM events WHERE rig_id = 'pg-01' AND kind = 'policy.switch-pool'"), (r) => r.length === 1, 'the decision');
    expect(decision).toMatchObject({ reason: 'active-pool-silent', source: 'failover' });
    const [command] = await waitForRows(() => rows<{ state: string; type: string; attempts: number }>(
      "SELECT state, type, attempts FROM commands WHERE id = $1 AND state NOT IN ('PENDING', 'SENT')", [decision!.command_id]), (r) => r.length === 1, 'the command finished');
    expect(command).toMatchObject({ state: 'SUCCEEDED', type: 'switch-pool' });
    expect(command!.attempts).toBeGreaterThanOrEqual(1);
    expect(await rows('SELECT outcome FROM command_results WHERE command_id = $1', [decision!.command_id])).toEqual([{ outcome: 'COMMAND_OUTCOME_SUCCEEDED' }]);
    // The other rigs were left alone; the API key and the audit log live in PostgreSQL too; there is no SQLite file.
    expect(await rows("SELECT rig_id FROM commands WHERE rig_id <> 'pg-01'")).toEqual([]);
    expect((await rows<{ n: number }>('SELECT COUNT(*)::int AS n FROM api_keys'))[0]!.n).toBeGreaterThanOrEqual(1);
    expect((await rows<{ n: number }>("SELECT COUNT(*)::int AS n FROM audit WHERE action = 'command.switch-pool'"))[0]!.n).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(s.dir.path, 'rigwarden.db'))).toBe(false);

    const events = await s.events('pg-01');
    expect(events.filter((e) => e.kind === 'policy.switch-pool')).toEqual([expect.objectContaining({ reason: 'active-pool-silent', source: 'failover' })]);
    report('postgres-controller', { rigs: RIGS.length, silentToBackupMs: tookMs, totalMs: Date.now() - started });
  });

  it('refuses to start when PostgreSQL does not answer, naming the URL with its password masked', async () => {
    const dir = makeTempDir('rigwarden-pg-refuse-');
    try {
      const { code, stderr } = await runNode(bin('rigwarden-controller'), ['--database', 'postgres://rigwarden:s3cret-pw@127.0.0.1:1/fleet', '--grpc', '127.0.0.1:0',
        '--http', '127.0.0.1:0', '--data-dir', dir.path, ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], {}, 20_000);
      expect(code).toBe(1);
      // The URL is masked where the controller builds the message (***) and again by its logger ([redacted]).
      expect(stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/rigwarden:(\*\*\*|\[redacted\])@127\.0\.0\.1:1\/fleet: connect ECONNREFUSED/);
      expect(stderr).not.toContain('s3cret-pw');
    } finally {
      dir.remove();
    }
  });

  it('off a terminal its log is JSON lines (pino): the refusal is an error record with the URL masked', async () => {
    const dir = makeTempDir('rigwarden-pg-refuse-json-');
    try {
      const { code, stderr } = await runNode(bin('rigwarden-controller'), ['--database', 'postgres://rigwarden:s3cret-pw@127.0.0.1:1/fleet', '--grpc', '127.0.0.1:0',
        '--http', '127.0.0.1:0', '--data-dir', dir.path, ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], { LOG_FORMAT: '' }, 20_000);
      expect(code).toBe(1);
      const records = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) expect(r).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String), scope: expect.any(String), msg: expect.any(String) }));
      expect(records.some((r) => r['level'] === 'error' && /cannot connect to PostgreSQL at postgres:\/\/rigwarden:(\*\*\*|\[redacted\])@127\.0\.0\.1:1\/fleet/.test(JSON.stringify(r)))).toBe(true);
      expect(stderr).not.toContain('s3cret-pw');
    } finally {
      dir.remove();
    }
  });
});

/** Polls `read` until `done` holds for its rows (waitFor, with the last rows in the timeout message). */
async function waitForRows<T>(read: () => Promise<T[]>, done: (rows: T[]) => boolean, what: string, timeoutMs = 15_000): Promise<T[]> {
  let last: T[] = [];
  return waitFor(what, async () => {
    last = await read();
    return done(last) ? last : undefined;
  }, timeoutMs, 100).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(last).slice(0, 500)}`);
  });
}
