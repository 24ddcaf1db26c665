/**
 * The loop closed, in one process with real parts: a simulated miner whose active pool has gone silent, the
 * agent polling it over the cgminer API, a real broker, the controller ingesting into SQLite and reconciling
 * with the failover policy, a signed SwitchPool command back to the agent, and the miner switching.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { credentials } from '@grpc/grpc-js';
import { FleetServiceClient, ListEventsRequest, type ListEventsResponse } from '@rigwarden/protocol';
import { SecretBytes } from '@rigwarden/security';
import { FleetGrpcServer } from '../apps/controller/src/api-grpc/fleet-grpc.server';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';
import { AppModule } from '../apps/controller/src/app.module';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { EventRepository } from '../apps/controller/src/persistence/event-repository';
import { RigReconciler } from '../apps/controller/src/reconcile/rig-reconciler.service';

jest.setTimeout(60_000);

describe('failover scenario: silent primary pool', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: TestingModule;
  let agent: Agent | undefined;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const secret = SecretBytes.generate().expose().toString('base64url');
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'fo-1': [{ id: 'k1', secret }] } }));
    const fleetFile = join(dir.path, 'fleet.yaml');
    writeFileSync(fleetFile, [
      'groups:',
      '  - name: failover-test',
      '    match: { rigIdPrefix: "fo-" }',
      '    pools:',
      ...sim.state.pools.map((p) => `      - { url: "${p.url}", user: "${p.user}", password: "x" }`),
      '    policy:',
      '      failover: { silentAfterMs: 3000 }',
      '',
    ].join('\n'));
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--fleet', fleetFile, '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    controller = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await controller.init();
    agent = new Agent(parseAgentConfig({
      agent: { id: 'fo-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `fo-agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 500 },
      security: { keysFile },
      miners: [{ rig: 'fo-1', host: '127.0.0.1', port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.get(RigReconciler).idle();
    await controller?.close();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  it('switches the miner to the backup pool, explains why, and records the result', async () => {
    expect(sim.state.activePool).toBe(0); // the primary: alive, but no share accepted since start-up
    await waitFor('the miner to be switched to pool 1', () => (sim.state.activePool === 1 ? true : undefined), 30_000, 100);
    const events = controller.get(EventRepository);
    const decision = await waitFor('the decision event', async () => (await events.eventsForRig('fo-1')).find((e) => e.kind === 'policy.switch-pool'));
    expect(decision.reason).toBe('active-pool-silent');
    expect(decision.message).toMatch(/fo-1/);
    expect(decision.source).toBe('failover');
    // The operator sees the same explanation over gRPC (rigctl events fo-1).
    const client = new FleetServiceClient(controller.get(FleetGrpcServer).address, credentials.createInsecure());
    const listed = await new Promise<ListEventsResponse>((resolve, reject) => client.listEvents(ListEventsRequest.fromPartial({ rigId: 'fo-1', limit: 10 }), grpcAuth(readAdminToken(join(dir.path, 'controller'))), (err, res) => (err ? reject(err) : resolve(res))));
    client.close();
    expect(listed.events.find((e) => e.kind === 'policy.switch-pool')).toMatchObject({ reason: 'active-pool-silent', source: 'failover', severity: decision.severity });
    const reconciler = controller.get(RigReconciler);
    expect(reconciler.counters.commands).toBeGreaterThanOrEqual(1);
    expect(reconciler.counters.errors).toBe(0);
  });
});
