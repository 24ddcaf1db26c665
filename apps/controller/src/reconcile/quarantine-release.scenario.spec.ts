/**
 * A dead rig climbs the whole watchdog ladder (restart-miner, reboot-host, power-cycle, quarantine) with the default
 * parameters on a manual clock, in the real controller (SQLite file, broker, dispatcher, gRPC API with keys):
 * the operator releases the quarantine over gRPC and the ladder starts again at restart-miner; a controller
 * restarted mid-ladder on the same database continues where the last one stopped, and a quarantine outlives a
 * restart.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  FleetServiceClient, GetRigRequest, ListEventsRequest, MinerSnapshot, ReleaseQuarantineRequest, RigState,
  type Event, type ListEventsResponse, type Rig,
} from '@rigwarden/protocol';
import { SecretBytes } from '@rigwarden/security';
import { ManualClock } from '@rigwarden/shared';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, type TempDir, type TestBroker } from '@rigwarden/testing';
import { FleetGrpcServer } from '../api-grpc/fleet-grpc.server';
import { AppModule } from '../app.module';
import { AuditRepository } from '../audit/audit.repository';
import { loadControllerConfig } from '../config/controller-config';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { RigReconciler } from './rig-reconciler.service';

jest.setTimeout(30_000);

const RIG = 'dead-1';
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const STEP_MS = 30_000;
const SECRET = SecretBytes.generate().expose().toString('base64url');
const LADDER = ['policy.restart-miner', 'policy.reboot-host', 'policy.power-cycle', 'policy.quarantine'];

describe('quarantine: release over gRPC and the policy history across a controller restart', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: TestingModule | undefined;
  let client: InstanceType<typeof FleetServiceClient> | undefined;
  const clock = new ManualClock(T0);
  let seq = 0;

  const dataDir = (): string => join(dir.path, 'controller');

  async function startController(): Promise<void> {
    const fleetFile = join(dir.path, 'fleet.yaml');
    writeFileSync(fleetFile, ['groups:', '  - name: dead-rigs', '    match: { rigIdPrefix: "dead-" }', '    pools:', '      - { url: "stratum+tcp://pool.example:3333", user: "farm.dead", password: "x" }', ''].join('\n'));
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: SECRET }] } }));
    const config = loadControllerConfig(['--data-dir', dataDir(), '--grpc', '127.0.0.1:0', '--fleet', fleetFile, '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    app = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    app.get(RigReconciler).clock = clock;
    await app.init();
    client = new FleetServiceClient(app.get(FleetGrpcServer).address, credentials.createInsecure());
  }

  async function stopController(): Promise<void> {
    client?.close();
    client = undefined;
    await app?.get(RigReconciler).idle();
    await app?.close();
    app = undefined;
  }

  /** The miner API does not answer: one snapshot every 30 s of virtual time until `untilMs`, each reconciled. */
  async function deadFor(untilMs: number): Promise<void> {
    const rigs = app!.get(RigRepository);
    const reconciler = app!.get(RigReconciler);
    while (clock.now() < untilMs) {
      clock.advance(STEP_MS);
      const at = new Date(clock.now());
      await rigs.writeSnapshots([MinerSnapshot.fromPartial({
        rigId: RIG, minerId: 'm1', seq: ++seq, collectedAt: at, errors: [{ kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.7:4028' }],
      })]);
      await rigs.writeState(RigState.fromPartial({ rigId: RIG, agentId: 'agent-1', online: true, at }));
      await reconciler.reconcile(RIG);
      await reconciler.idle();
    }
  }

  async function policyKinds(): Promise<string[]> {
    // In the order written: a decision taken in the same millisecond as the release comes after it.
    const rows = await app!.get(SqliteDatabase).all<{ kind: string }>(
      `SELECT kind FROM events WHERE rig_id = ? AND (kind LIKE 'policy.%' OR kind = 'operator.release') ORDER BY at, rowid`, [RIG]);
    return rows.map((r) => r.kind);
  }

  function call<Res>(method: 'getRig' | 'listEvents' | 'releaseQuarantine', request: unknown): Promise<Res> {
    return new Promise((resolve, reject) => {
      const c = client as unknown as Record<string, (req: unknown, md: unknown, cb: (err: ServiceError | null, res: Res) => void) => void>;
      c[method]!.call(client, request, grpcAuth(readAdminToken(dataDir())), (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
  });

  afterAll(async () => {
    await stopController();
    await broker?.stop();
    dir?.remove();
  });

  it('a restarted controller continues the ladder with power-cycle, not restart-miner again', async () => {
    await startController();
    await deadFor(T0 + 7 * 60_000);
    expect(await policyKinds()).toEqual(['policy.restart-miner', 'policy.reboot-host']);
    await stopController();

    await startController();
    await deadFor(T0 + 20 * 60_000);
    expect(await policyKinds()).toEqual(['policy.restart-miner', 'policy.reboot-host', 'policy.power-cycle']);
  });

  it('a quarantine holds for the policies after a restart, and Rig.quarantined says so', async () => {
    await deadFor(T0 + 40 * 60_000);
    expect(await policyKinds()).toEqual(LADDER);
    await stopController();

    await startController();
    await deadFor(T0 + 70 * 60_000);
    expect(await policyKinds()).toEqual(LADDER); // no new remedy: still quarantined
    expect((await call<Rig>('getRig', GetRigRequest.fromPartial({ rigId: RIG }))).quarantined).toBe(true);
  });

  it('refuses a release without a reason, of an unknown rig, and of a rig not quarantined', async () => {
    const code = (request: unknown) => call<Event>('releaseQuarantine', request).then(() => status.OK, (err: ServiceError) => err.code);
    expect(await code(ReleaseQuarantineRequest.fromPartial({ rigId: RIG, reason: '  ' }))).toBe(status.INVALID_ARGUMENT);
    expect(await code(ReleaseQuarantineRequest.fromPartial({ rigId: 'never-seen', reason: 'fixed' }))).toBe(status.NOT_FOUND);
    await app!.get(RigRepository).writeSnapshots([MinerSnapshot.fromPartial({ rigId: 'healthy-1', minerId: 'm1', seq: 1, collectedAt: new Date(clock.now()) })]);
    await expect(call<Event>('releaseQuarantine', ReleaseQuarantineRequest.fromPartial({ rigId: 'healthy-1', reason: 'fixed' })))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('healthy-1') });
  });

  it('a release clears quarantined, is listed and audited, and the ladder starts again at restart-miner', async () => {
    const released = await call<Event>('releaseQuarantine', ReleaseQuarantineRequest.fromPartial({ rigId: RIG, reason: 'replaced the PSU' }));
    expect(released).toMatchObject({ rigId: RIG, kind: 'operator.release', source: 'operator', reason: 'replaced the PSU' });
    expect(released.at?.getTime()).toBe(clock.now());
    expect((await call<Rig>('getRig', GetRigRequest.fromPartial({ rigId: RIG }))).quarantined).toBe(false);
    // The reconcile the release queued may already have decided, in the same millisecond: look among the newest.
    const listed = await call<ListEventsResponse>('listEvents', ListEventsRequest.fromPartial({ rigId: RIG, limit: 3 }));
    expect(listed.events.find((e) => e.eventId === released.eventId)).toMatchObject({ kind: 'operator.release', source: 'operator', reason: 'replaced the PSU' });
    const audit = await app!.get(AuditRepository).query({});
    expect(audit.find((a) => a.action === 'FleetService/ReleaseQuarantine')).toMatchObject({ target: RIG, outcome: 'ok' });
    await expect(call<Event>('releaseQuarantine', ReleaseQuarantineRequest.fromPartial({ rigId: RIG, reason: 'again' })))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION });

    await app!.get(RigReconciler).idle();
    await deadFor(clock.now() + 2 * 60_000);
    expect(await policyKinds()).toEqual([...LADDER, 'operator.release', 'policy.restart-miner']);
  });
});
