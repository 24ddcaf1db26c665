import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { loadControllerConfig } from '../config/controller-config';
import { FleetSpecRepository } from '../persistence/fleet-spec.repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { FleetSpecService, fleetVersion } from './fleet-spec.service';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const MIN = 60_000;
const specWith = (prefix: string): string => `groups:\n  - name: g\n    match: { rigIdPrefix: "${prefix}" }\n`;

describe('FleetSpecService: which spec is in force at start', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let clock: ManualClock;
  const file = (): string => join(dir.path, 'fleet.yaml');

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'r.db'));
    await migrate(db);
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  /** A controller start at the clock's time, with or without --fleet. */
  async function start(withFile = true): Promise<FleetSpecService> {
    const config = loadControllerConfig(['--data-dir', dir.path, ...(withFile ? ['--fleet', file()] : [])], {});
    const service = new FleetSpecService(config, new FleetSpecRepository(db), new RigRepository(db));
    service.clock = clock;
    await service.onModuleInit();
    return service;
  }
  const writeFile = (text: string, changedAt: number): void => {
    writeFileSync(file(), text);
    utimesSync(file(), changedAt / 1000, changedAt / 1000);
  };
  const rows = () => db.all<{ version: string; applied_by: string }>('SELECT version, applied_by FROM fleet_specs ORDER BY id');

  it('puts the file in force and records it once, however often the controller restarts', async () => {
    writeFile(specWith('a-'), T0 - MIN);
    const first = await start();
    expect(first.inForce).toMatchObject({ version: fleetVersion(specWith('a-')), appliedBy: `file:${file()}` });
    expect(first.inForce.appliedAt!.getTime()).toBe(T0);
    clock.advance(MIN);
    expect((await start()).inForce.appliedAt!.getTime()).toBe(T0); // the stored one: same version
    expect(await rows()).toHaveLength(1);
  });

  it('keeps a spec applied through the API after the file last changed, until the file is edited again', async () => {
    writeFile(specWith('a-'), T0 - MIN);
    const service = await start();
    clock.advance(MIN);
    await service.apply(specWith('b-'), { dryRun: false, expectedVersion: '', appliedBy: 'apikey:k1' });

    const restarted = await start();
    expect(restarted.inForce).toMatchObject({ version: fleetVersion(specWith('b-')), appliedBy: 'apikey:k1' });
    expect(restarted.spec.groups[0]!.match.rigIdPrefix).toBe('b-');

    writeFile(specWith('c-'), T0 + 2 * MIN); // edited after the apply: the file wins
    clock.advance(2 * MIN);
    const edited = await start();
    expect(edited.inForce).toMatchObject({ version: fleetVersion(specWith('c-')), appliedBy: `file:${file()}` });
    expect((await rows()).map((r) => r.applied_by)).toEqual([`file:${file()}`, 'apikey:k1', `file:${file()}`]);
  });

  it('without --fleet, the newest stored spec; with nothing stored, no spec at all', async () => {
    expect((await start(false)).inForce).toMatchObject({ version: '', spec: { groups: [] } });
    writeFile(specWith('a-'), T0 - MIN);
    await start();
    expect((await start(false)).inForce.version).toBe(fleetVersion(specWith('a-')));
  });

  it('refuses to start with a bad file, naming the key path, even when a stored spec would win', async () => {
    writeFile(specWith('a-'), T0 - MIN);
    const service = await start();
    clock.advance(MIN);
    await service.apply(specWith('b-'), { dryRun: false, expectedVersion: '', appliedBy: 'apikey:k1' });
    writeFile('groups:\n  - name: g\n    match: {}\n', T0 - 2 * MIN);
    await expect(start()).rejects.toThrow(/fleet\.yaml: groups\[0\]\.match: needs rigIds, rigIdPrefix or labels/);
  });

  it('tells the rigs whose spec an apply changes, and only once it is applied', async () => {
    writeFile(specWith('a-'), T0 - MIN);
    const rigs = new RigRepository(db);
    await rigs.writeState({ rigId: 'a-1', agentId: 'x', online: true, agentVersion: '1', at: new Date(T0), labels: {} });
    await rigs.writeState({ rigId: 'b-1', agentId: 'x', online: true, agentVersion: '1', at: new Date(T0), labels: {} });
    const service = await start();
    const told: string[][] = [];
    service.onApplied((ids) => told.push(ids));
    const dry = await service.apply(specWith('b-'), { dryRun: true, expectedVersion: '', appliedBy: 'apikey:k1' });
    expect(dry).toMatchObject({ applied: false, affectedRigIds: ['a-1', 'b-1'] });
    expect(told).toEqual([]);
    await service.apply(specWith('b-'), { dryRun: false, expectedVersion: fleetVersion(specWith('a-')), appliedBy: 'apikey:k1' });
    expect(told).toEqual([['a-1', 'b-1']]);
  });
});
