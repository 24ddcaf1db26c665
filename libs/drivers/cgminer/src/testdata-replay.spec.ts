import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FixtureReplaySimulator } from '@rigwarden/simulators';
import { DriverError, driverRegistry, type MinerReading } from '@rigwarden/drivers-core';
import { CgminerFamilyDriver } from './cgminer.driver';
import './index';

const TESTDATA = join(__dirname, '..', 'testdata');
const folders = readdirSync(TESTDATA, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'real-sessions').map((d) => d.name).sort();

/** Recorded replies by command, scenario-less captures only ("stats.raw.txt" -> stats). */
function recorded(folder: string): Record<string, string> {
  const replies: Record<string, string> = {};
  for (const file of readdirSync(join(TESTDATA, folder))) {
    const m = /^([a-z+_-]+?)\.(json|raw\.txt)$/.exec(file);
    if (!m || file.endsWith('.source.txt')) continue;
    const command = m[1]!.replace(/^http-/, '');
    const text = readFileSync(join(TESTDATA, folder, file), 'latin1');
    replies[command] = text;
    if (command.includes('+') && file.endsWith('.json')) {
      // A recorded multi-command also answers its parts asked one by one.
      const joined = JSON.parse(text) as Record<string, unknown[]>;
      for (const part of command.split('+')) if (replies[part] === undefined && joined[part]?.[0]) replies[part] = JSON.stringify(joined[part][0]);
    }
  }
  return replies;
}

/** Folders recorded with enough commands for a full collect by the identified dialect. */
const COMPLETE: Record<string, string> = {
  'antminer-s9-bmminer-2.0.0': 'auto:antminer',
  'antminer-s19pro-bmminer-1.0.0': 'auto:antminer',
  'antminer-s19xp-vnish-1.2.0': 'auto:antminer',
  'antminer-l3plus-cgminer-4.9.0': 'auto:antminer',
  'whatsminer-m31s-btminer-20201202': 'auto:whatsminer',
  'whatsminer-m20s-cgminer-4.9.2': 'auto:whatsminer',
  'avalon-10xx-cgminer-4.11.1': 'auto:avalon',
  'braiins-s9-bosminer-0.2.0': 'auto:braiins',
  'innosilicon-a9-innominer-1.1.0': 'auto:cgminer (partially supported)',
  'hammer-d10-ccminer-2.3.3': 'auto:antminer (partially supported)',
};

describe('every recorded firmware through the auto driver over a real socket', () => {
  for (const folder of folders) {
    it(`${folder}: a reading or a typed error, never a crash`, async () => {
      const sim = new FixtureReplaySimulator({ replies: recorded(folder), lifetimeMs: 10_000 });
      const endpoint = await sim.start();
      try {
        const driver = driverRegistry.create('auto', endpoint) as CgminerFamilyDriver;
        let outcome: MinerReading | DriverError;
        try {
          outcome = await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
        } catch (err) {
          expect(err).toBeInstanceOf(DriverError);
          outcome = err as DriverError;
        }
        expect(sim.requests[0]).toBe('{"command":"version+summary+pools+devs+stats"}');
        if (COMPLETE[folder]) {
          expect(outcome).not.toBeInstanceOf(DriverError);
          expect((outcome as MinerReading).driver).toBe(COMPLETE[folder]);
        }
      } finally {
        await sim.stop();
      }
    });
  }

  it('older btminer without edevs: the driver asks devs instead', async () => {
    const sim = new FixtureReplaySimulator({ replies: recorded('whatsminer-m20s-cgminer-4.9.2'), lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const driver = driverRegistry.create('whatsminer', endpoint);
      const reading = await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
      expect(reading.boards.map((b) => b.boardTempC)).toEqual([71.5, 68.5, expect.any(Number)]);
      expect(sim.requests).toContain('{"command":"devs"}');
      expect(reading.errors).toEqual([]);
      // Next time: devs straight away inside the joined request, and devdetails (unknown here) no more.
      sim.requests.length = 0;
      await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
      expect(sim.requests).toEqual(['{"command":"summary+pools+devs"}']);
    } finally {
      await sim.stop();
    }
  });

  it('an unknown fork is re-identified on every collect, never cached as sure', async () => {
    const sim = new FixtureReplaySimulator({ replies: recorded('innosilicon-a9-innominer-1.1.0'), lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const driver = driverRegistry.create('auto', endpoint) as CgminerFamilyDriver;
      const ctx = { signal: AbortSignal.timeout(5000), deadlineMs: 5000 };
      expect((await driver.collect(ctx)).driver).toBe('auto:cgminer (partially supported)');
      expect((await driver.collect(ctx)).driver).toBe('auto:cgminer (partially supported)');
      expect(driver.identification).toMatchObject({ support: 'partial' });
      expect(sim.requests.filter((r) => r === '{"command":"version+summary+pools+devs+stats"}')).toHaveLength(2);
    } finally {
      await sim.stop();
    }
  });

  it('the whatsminer M31S replay reads the same values as the parser tests', async () => {
    const sim = new FixtureReplaySimulator({ replies: recorded('whatsminer-m31s-btminer-20201202'), lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const reading = await driverRegistry.create('whatsminer', endpoint).collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
      expect(reading.powerW).toBe(3553);
      expect(reading.pools.map((p) => p.index)).toEqual([1, 2, 3]);
      expect(reading.boards.map((b) => b.chips)).toEqual([105, 105, 105]);
      // devdetails was not recorded: Code 14 is "unsupported", not a collect error.
      expect(reading.errors).toEqual([]);
    } finally {
      await sim.stop();
    }
  });
});
