/**
 * The failover loop with the controller's storage ports on PostgreSQL: a simulated miner whose active pool is
 * silent, the real agent polling it, a real broker, the controller ingesting into PostgreSQL and reconciling with the
 * failover policy; the decision's event, its command and the agent's result are in PostgreSQL, served over gRPC.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { FleetServiceClient, ListEventsRequest, ListRigsRequest, type ListEventsResponse, type ListRigsResponse, type Rig } from '@rigwarden/protocol';
import { SecretBytes } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';
import { FleetGrpcServer } from '../apps/controller/src/api-grpc/fleet-grpc.server';
import { AppModule } from '../apps/controller/src/app.module';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { RigReconciler } from '../apps/controller/src/reconcile/rig-reconciler.service';
import { onPostgres, openTestSchema, type TestSchema } from '../apps/controller/src/persistence/postgres/postgres.testing';

jest.setTimeout(60_000);

function unary<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, auth: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, auth, (err, res) => (err ? reject(err) : resolve(res))));
}

describe('failover with the controller on PostgreSQL', () => {
  let pg: TestSchema;
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: TestingModule;
  let agent: Agent | undefined;
  let client: InstanceType<typeof FleetServiceClient>;
  let auth: Metadata;

  beforeAll(async () => {
    pg = await openTestSchema();
    broker = await startTestBroker();
    dir = makeTempDir();
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const secret = SecretBytes.generate().expose().toString('base64url');
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'pgfo-1': [{ id: 'k1', secret }] } }));
    const fleetFile = join(dir.path, 'fleet.yaml');
    writeFileSync(fleetFile, [
      'groups:',
      '  - name: failover-pg',
      '    match: { rigIdPrefix: "pgfo-" }',
      '    pools:',
      ...sim.state.pools.map((p) => `      - { url: "${p.url}", user: "${p.user}", password: "x" }`),
      '    policy:',
      '      failover: { silentAfterMs: 3000 }',
      '',
    ].join('\n'));
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--fleet', fleetFile, '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-pg-${broker.topicRoot}`,
    });
    controller = await onPostgres(Test.createTestingModule({ imports: [AppModule.forConfig(config)] }), pg.db).compile();
    await controller.init();
    auth = grpcAuth(readAdminToken(join(dir.path, 'controller')));
    client = new FleetServiceClient(controller.get(FleetGrpcServer).address, credentials.createInsecure());
    agent = new Agent(parseAgentConfig({
      agent: { id: 'pgfo-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `pgfo-agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 500 },
      security: { keysFile },
      miners: [{ rig: 'pgfo-1', host: '127.0.0.1', port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    await agent.start();
  });

  afterAll(async () => {
    client?.close();
    await agent?.stop();
    await controller?.get(RigReconciler).idle();
    await controller?.close();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
    await pg?.drop();
  });

  it('ingests the agent\'s telemetry into PostgreSQL, serves the rig from there, and records the switch decision there', async () => {
    const rig = await waitFor('pgfo-1 with its miner over gRPC', async () => (await unary<ListRigsRequest, ListRigsResponse>(client.listRigs.bind(client), ListRigsRequest.fromPartial({}), auth)).rigs.find((r) => r.rigId === 'pgfo-1' && r.miners.length > 0));
    expect(rig.miners.map((m) => m.minerId)).toEqual(['m1']);
    expect(await pg.db.get<{ agent_id: string }>("SELECT agent_id FROM rigs WHERE rig_id = 'pgfo-1'")).toEqual({ agent_id: 'pgfo-agent' });
    expect((await pg.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM snapshots WHERE rig_id = 'pgfo-1'"))!.n).toBeGreaterThanOrEqual(1);
    const got = await unary<{ rigId: string }, Rig>(client.getRig.bind(client), { rigId: 'pgfo-1' }, auth);
    expect(got.rigId).toBe('pgfo-1');

    await waitFor('the miner to be switched to pool 1', () => (sim.state.activePool === 1 ? true : undefined), 30_000, 100);
    const stored = await waitFor('the decision in PostgreSQL', async () =>
      pg.db.get<{ reason: string; source: string; command_id: string }>("SELECT reason, source, command_id FROM events WHERE rig_id = 'pgfo-1' AND kind = 'policy.switch-pool'"));
    expect(stored).toMatchObject({ reason: 'active-pool-silent', source: 'failover' });
    expect(stored.command_id).not.toBe('');
    // The command, its state machine and the agent's result are in PostgreSQL too.
    const command = await waitFor('the command finished in PostgreSQL', async () =>
      pg.db.get<{ state: string; type: string }>("SELECT state, type FROM commands WHERE id = $1 AND state NOT IN ('PENDING', 'SENT')", [stored.command_id]));
    expect(command).toEqual({ state: 'SUCCEEDED', type: 'switch-pool' });
    expect(await pg.db.all('SELECT outcome FROM command_results WHERE command_id = $1', [stored.command_id])).toEqual([{ outcome: 'COMMAND_OUTCOME_SUCCEEDED' }]);
    const listed = await unary<ListEventsRequest, ListEventsResponse>(client.listEvents.bind(client), ListEventsRequest.fromPartial({ rigId: 'pgfo-1', limit: 10 }), auth);
    expect(listed.events.find((e) => e.kind === 'policy.switch-pool')).toMatchObject({ reason: 'active-pool-silent', source: 'failover' });
  });
});
