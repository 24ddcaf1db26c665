/**
 * Real processes sharing one fleet: rigwarden-simfarm, N built controllers on one PostgreSQL schema of their own
 * (dropped afterwards; --database, --replica-id, one secrets and keys file), one broker (MQTT_URL, else an
 * in-process aedes) and the built agent reading the farm. The scale-out specs drive faults, kills and pauses
 * through it and read what happened from the database.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { farmControl, type FarmFault, type FarmSpec, type RigState } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, startTestBroker, waitFor, type RunningProcess, type TempDir, type TestBroker } from '@rigwarden/testing';
import { parsePrometheusText, type ParsedExposition } from '../apps/controller/src/metrics/prometheus-text.parser';
import { shardOf } from '../apps/controller/src/ownership/rig-shard.policy';
import { rowsInSchema } from './postgres-schema';
import { bin } from './scenario-harness';

export const SHARDS = 64;
/** The controller's lease time (it has no flag for shorter ones). */
export const LEASE_MS = 10_000;
/** The database's clock, in epoch ms: lease expiries are judged on it. */
export const NOW_MS = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint';

/** The test server (.ci/run exports RIGWARDEN_TEST_DATABASE_URL), else the local one with trust auth. */
const serverUrl = process.env['RIGWARDEN_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

export interface ScaleOutOptions {
  name: string;
  farm: FarmSpec;
  replicas: readonly string[];
  pollMs: number;
  /** A fleet file, given the farm's pool URLs by name and the pool user the miners work as. */
  fleet?: (pools: Record<string, string>, poolUser: string) => string;
}

interface FarmReady { control: string; pools: Record<string, string>; poolUser: string }

export class ScaleOut {
  readonly controllers = new Map<string, { proc: RunningProcess; grpc: string; http: string }>();
  agent: RunningProcess | undefined;
  private farm: RunningProcess | undefined;
  private fleetFile: string | undefined;
  control = '';

  private constructor(
    readonly options: ScaleOutOptions,
    readonly dir: TempDir,
    readonly broker: TestBroker,
    readonly schema: string,
    private readonly admin: pg.Pool,
  ) {}

  /** Starts the farm, the controllers (the first migrates the schema, the others join it) and the agent. */
  static async start(options: ScaleOutOptions): Promise<ScaleOut> {
    const dir = makeTempDir(`rigwarden-${options.name}-`);
    const broker = await startTestBroker();
    const schema = `e2e_${options.name.replace(/[^a-z0-9]/g, '_')}_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: serverUrl, max: 2 });
    const s = new ScaleOut(options, dir, broker, schema, admin);
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
      await s.startFarm();
      await s.startController(options.replicas[0]!);
      await Promise.all(options.replicas.slice(1).map((id) => s.startController(id)));
      s.agent = startNode(bin('rigwarden-agent'), ['run', '--config', join(dir.path, 'agent.yaml')], s.env());
      return s;
    } catch (err) {
      await s.stop();
      throw err;
    }
  }

  env(): Record<string, string> {
    return { RIGWARDEN_TOPIC_ROOT: this.broker.topicRoot, MQTT_URL: this.broker.url, LOG_LEVEL: process.env['SCENARIO_LOG_LEVEL'] ?? 'warn' };
  }

  private async startFarm(): Promise<void> {
    const { farm, pollMs } = this.options;
    const keys = Object.fromEntries(farm.rigs.map((r) => [r.id, [{ id: 'k1', secret: randomBytes(32).toString('base64url') }]]));
    writeFileSync(join(this.dir.path, 'keys.json'), JSON.stringify({ rigs: keys }), { mode: 0o600 });
    writeFileSync(join(this.dir.path, 'farm.json'), JSON.stringify(farm));
    const farmReady = join(this.dir.path, 'farm.ready.json');
    const proc = startNode(bin('rigwarden-simfarm'), ['--farm', join(this.dir.path, 'farm.json'), '--ready-file', farmReady, '--agent-config', join(this.dir.path, 'agent.yaml'),
      '--agent-id', `agent-${this.options.name}`, '--agent-data-dir', join(this.dir.path, 'agent'), '--interval-ms', String(pollMs), '--keys-file', join(this.dir.path, 'keys.json')], this.env());
    this.farm = proc;
    const ready = await waitFor('the simulated farm', async () => {
      if (proc.child.exitCode !== null) throw new Error(`the farm exited early:\n${proc.output()}`);
      return existsSync(farmReady) ? JSON.parse(readFileSync(farmReady, 'utf8')) as FarmReady : undefined;
    }, 20_000, 50);
    this.control = ready.control;
    if (this.options.fleet) {
      this.fleetFile = join(this.dir.path, 'fleet.yaml');
      writeFileSync(this.fleetFile, this.options.fleet(ready.pools, ready.poolUser));
    }
  }

  async startController(id: string): Promise<void> {
    const ready = join(this.dir.path, `${id}.ready.json`);
    const u = new URL(serverUrl);
    u.searchParams.set('options', `-c search_path=${this.schema}`);
    const proc = startNode(bin('rigwarden-controller'), ['--data-dir', join(this.dir.path, id), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', ready,
      '--keys-file', join(this.dir.path, 'keys.json'), '--secrets-file', join(this.dir.path, 'controller-secrets.json'), '--database', u.toString(), '--replica-id', id,
      ...(this.fleetFile ? ['--fleet', this.fleetFile] : [])],
    { ...this.env(), RIGWARDEN_CONTROLLER_ID: `${id}-${this.broker.topicRoot}` });
    this.controllers.set(id, { proc, grpc: '', http: '' });
    const endpoints = await waitFor(`controller ${id}`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`${id} exited early:\n${proc.output()}`);
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as { grpc: string; http: string } : undefined;
    }, 30_000, 50);
    Object.assign(this.controllers.get(id)!, { grpc: endpoints.grpc, http: endpoints.http });
  }

  rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return rowsInSchema<T>(this.admin, this.schema, sql, params);
  }

  /** Unexpired leases per owner (the database's clock). */
  async leased(): Promise<Map<string, number>> {
    const r = await this.rows<{ owner: string; n: number }>(`SELECT owner, COUNT(*)::int AS n FROM shard_leases WHERE owner IS NOT NULL AND expires_at > ${NOW_MS} GROUP BY owner`);
    return new Map(r.map((x) => [x.owner, x.n]));
  }

  async ownerOf(rigId: string): Promise<string> {
    const [r] = await this.rows<{ owner: string }>(`SELECT owner FROM shard_leases WHERE shard = $1 AND expires_at > ${NOW_MS}`, [shardOf(rigId, SHARDS)]);
    if (!r) throw new Error(`no live lease for the shard of ${rigId}`);
    return r.owner;
  }

  /** Until every shard is leased by `ids` (each holding at least `each`). */
  async leasedBy(ids: readonly string[], each: number, timeoutMs: number): Promise<Map<string, number>> {
    return this.until(`every shard leased by ${ids.join(', ')}`, async () => {
      const l = await this.leased();
      const total = ids.reduce((sum, id) => sum + (l.get(id) ?? 0), 0);
      return total === SHARDS && ids.every((id) => (l.get(id) ?? 0) >= each) ? l : undefined;
    }, timeoutMs);
  }

  rig<T extends RigState = RigState>(id: string): Promise<T> {
    return farmControl<T>(this.control, 'GET', `/rigs/${encodeURIComponent(id)}`);
  }

  async fault(fault: FarmFault): Promise<number> {
    await farmControl(this.control, 'POST', '/faults', fault);
    return Date.now();
  }

  /** waitFor with the processes' output in the timeout message. */
  until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    return waitFor(what, probe, timeoutMs, 100).catch((err: Error) => { throw new Error(`${err.message}\n${this.outputs()}`); });
  }

  outputs(): string {
    return [...this.controllers].map(([id, c]) => `--- ${id} ---\n${c.proc.output().slice(-4000)}`).join('\n') + `\n--- agent ---\n${this.agent?.output().slice(-2000) ?? ''}`;
  }

  private adminTokenFile(): string | undefined {
    return this.options.replicas.map((id) => join(this.dir.path, id, 'admin.token')).find((f) => existsSync(f));
  }

  async scrape(id: string): Promise<ParsedExposition> {
    const res = await fetch(`${this.controllers.get(id)!.http.replace(/\/$/, '')}/metrics`, { headers: { authorization: `Bearer ${readFileSync(this.adminTokenFile()!, 'utf8').trim()}` } });
    if (res.status !== 200) throw new Error(`/metrics of ${id}: HTTP ${res.status}`);
    return parsePrometheusText(await res.text());
  }

  rigctl(server: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const token = this.adminTokenFile();
    return runNode(bin('rigctl'), ['--server', server, ...args], token ? { RIGWARDEN_API_KEY_FILE: token } : {}, 15_000);
  }

  async stop(): Promise<void> {
    for (const c of this.controllers.values()) c.proc.child.kill('SIGCONT');
    this.agent?.child.kill('SIGCONT');
    await this.agent?.stop('SIGTERM', 5000);
    await this.farm?.stop('SIGTERM', 5000);
    await Promise.all([...this.controllers.values()].map((c) => c.proc.stop('SIGTERM', 5000)));
    await this.admin.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.admin.end();
    await this.broker.stop();
    this.dir.remove();
  }
}
