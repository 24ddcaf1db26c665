import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MinerSnapshot } from '@rigwarden/protocol';
import { makeTempDir, startTestBroker, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { loadControllerConfig } from '../config/controller-config';
import { GetRigUseCase } from '../fleet/get-rig.usecase';
import { RigRepository } from '../persistence/rig-repository';
import { FleetViewService, type FleetChange } from './fleet-view.service';

const RIGS = 3000;
const snap = (i: number, seq: number): MinerSnapshot => MinerSnapshot.fromPartial({
  rigId: `fv-${String(i).padStart(5, '0')}`, minerId: 'm', seq, collectedAt: new Date(Date.now() - 1000 + seq), hashrate5sHs: seq * 1e12,
});

describe('FleetViewService: the dashboard read model', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: INestApplicationContext;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir('rigwarden-fleet-view-');
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await moduleRef.init();
    app = moduleRef;
  });
  afterAll(async () => {
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it('refreshes thousands of changed rigs in steps, the event loop getting turns in between', async () => {
    const rigs = app.get(RigRepository);
    const view = app.get(FleetViewService);
    view.windowMs = 10;
    for (let i = 0; i < RIGS; i += 1000) await rigs.writeSnapshots(Array.from({ length: 1000 }, (_, k) => snap(i + k, 1)));
    for (let i = 0; i < RIGS; i++) view.markDirty(snap(i, 1).rigId);
    await view.settled();
    expect(view.size).toBe(RIGS);

    // Every rig changes at once (a large farm where each rig reports within the same second).
    for (let i = 0; i < RIGS; i += 1000) await rigs.writeSnapshots(Array.from({ length: 1000 }, (_, k) => snap(i + k, 2)));
    const changes: FleetChange[] = [];
    const unsubscribe = view.subscribe((c) => changes.push(c));
    let turns = 0;
    let running = true;
    const tick = (): void => { if (running) { turns++; setImmediate(tick); } };
    // Each step's size, and how many turns the event loop had taken when it started (the real reads, observed).
    const steps: Array<{ rigs: number; turns: number }> = [];
    const reads = app.get(GetRigUseCase);
    const read = reads.executeMany.bind(reads);
    const spy = jest.spyOn(reads, 'executeMany').mockImplementation((ids) => { steps.push({ rigs: ids.length, turns }); return read(ids); });
    for (let i = 0; i < RIGS; i++) view.markDirty(snap(i, 2).rigId);
    setImmediate(tick);
    await view.settled();
    running = false;
    spy.mockRestore();
    unsubscribe();

    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ reload: true, changed: RIGS });
    const page = view.query({ sort: 'rigId', dir: 'asc', offset: 0, limit: 5 });
    expect(page.total).toBe(RIGS);
    expect(page.rigs.map((r) => r.hashrateHs)).toEqual([2e12, 2e12, 2e12, 2e12, 2e12]);
    // 3,000 rigs in steps of at most 250, and the event loop took a turn (ran other work) between every two steps.
    expect(steps.reduce((n, s) => n + s.rigs, 0)).toBe(RIGS);
    expect(Math.max(...steps.map((s) => s.rigs))).toBeLessThanOrEqual(250);
    for (let k = 1; k < steps.length; k++) expect(steps[k]!.turns).toBeGreaterThan(steps[k - 1]!.turns);
  });
});
