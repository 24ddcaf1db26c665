import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgminerSimulator, type SimPool } from '../../cgminer-simulator';
import type { RealProgram } from './real-program.profile';
import { CgminerClientProbe } from './test-probe.util';

/**
 * The simulated programs against the exact bytes the real ones sent (testdata/cgminer-real, copied from
 * shared/fixtures/cgminer-real). Replies that do not depend on counters must be identical byte for byte, with the
 * recorded "When"; the others must have the same keys in the same order, the same strings and booleans, and every
 * number printed with the same number of decimals.
 */
const TESTDATA = join(__dirname, '../../../testdata/cgminer-real');

const FOLDER: Record<RealProgram, string> = {
  'cgminer-4.11.1-no-devices': 'cgminer-4.11.1',
  'cgminer-2.11.4-cpu': 'cgminer-2.11.4',
  'bfgminer-5.5.0-cpu': 'bfgminer-5.5.0',
};
const USERS: Record<RealProgram, [string, string]> = {
  'cgminer-4.11.1-no-devices': ['worker-a', 'worker-b'],
  'cgminer-2.11.4-cpu': ['cgminer2-a', 'cgminer2-b'],
  'bfgminer-5.5.0-cpu': ['bfgminer-a', 'bfgminer-b'],
};

function recorded(program: RealProgram, step: string): { request: string; response: string; when: number } {
  const dir = join(TESTDATA, FOLDER[program]);
  const response = readFileSync(join(dir, `${step}.response`), 'latin1');
  expect(response.endsWith('\u0000')).toBe(true);
  const when = Number(/"When":(\d+)/.exec(response)?.[1] ?? 0);
  return { request: readFileSync(join(dir, `${step}.request`), 'latin1'), response: response.slice(0, -1), when };
}

/** The real program's state at the fixture: its two pools (the first in use), the first with bfgminer's 5 shares. */
function simAt(program: RealProgram, whenS: number, poolCount = 2): { sim: CgminerSimulator; clock: { ms: number } } {
  const clock = { ms: (whenS - 20) * 1000 };
  const [ua, ub] = USERS[program];
  const pool = (i: number, user: string): SimPool => ({
    url: `stratum+tcp://127.0.0.1:${3333 + i}`, user, status: 'Alive', priority: i, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0,
  });
  const pools = [pool(0, ua), pool(1, ub), pool(2, 'worker-c')].slice(0, poolCount);
  if (program === 'bfgminer-5.5.0-cpu') Object.assign(pools[0]!, { accepted: 5, difficultyAccepted: 0.00250004, diff1Shares: 0.00250004, lastShareDifficulty: 0.00050001, lastShareTime: whenS - 3 });
  const sim = new CgminerSimulator({ program, now: () => clock.ms, state: { pools, accepted: program === 'bfgminer-5.5.0-cpu' ? 5 : 0 } });
  clock.ms = whenS * 1000;
  return { sim, clock };
}

/** Strings kept, each number replaced by its count of decimals: the formats, not the values. */
function skeleton(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.(\d+))?/g, (token, decimals: string | undefined) => (token.startsWith('"') ? token : `#${decimals?.length ?? 0}`));
}

const EXACT: Record<RealProgram, string[]> = {
  'cgminer-4.11.1-no-devices': ['01-version', '02-config', '05-devs', '06-edevs', '08-estats', '09-devdetails', '12-asccount', '13-pgacount', '15-usbstats', '19-privileged', '29-invalid-command', '35-switchpool-missing-param', '40-switchpool-1', '58-restart', '61-quit'],
  'cgminer-2.11.4-cpu': ['01-version', '02-config', '06-edevs', '08-estats', '09-devdetails', '12-asccount', '14-lcd', '15-usbstats', '19-privileged', '24-multi-summary+pools', '29-invalid-command', '35-switchpool-missing-param', '40-switchpool-1', '58-restart', '61-quit'],
  'bfgminer-5.5.0-cpu': ['01-version', '02-config', '06-edevs', '08-estats', '09-devdetails', '12-asccount', '14-lcd', '15-usbstats', '19-privileged', '29-invalid-command', '35-switchpool-missing-param', '40-switchpool-1', '58-restart', '61-quit'],
};
const SHAPE: Record<RealProgram, string[]> = {
  'cgminer-4.11.1-no-devices': ['03-summary', '04-pools', '07-stats', '10-coin', '14-lcd', '24-multi-summary+pools'],
  'cgminer-2.11.4-cpu': ['03-summary', '04-pools', '05-devs', '07-stats', '10-coin', '11-notify'],
  'bfgminer-5.5.0-cpu': ['03-summary', '04-pools', '05-devs', '07-stats', '10-coin', '11-notify', '24-multi-summary+pools'],
};

describe.each(Object.keys(FOLDER) as RealProgram[])('%s replies', (program) => {
  it.each(EXACT[program])('real-programs: %s is the recorded bytes', (step) => {
    const { request, response, when } = recorded(program, step);
    const { sim } = simAt(program, when);
    expect(sim.handle(request)).toBe(response);
  });

  it.each(SHAPE[program])('real-programs: %s has the recorded keys, order and number formats', (step) => {
    const { request, response, when } = recorded(program, step);
    const { sim } = simAt(program, when);
    expect(skeleton(sim.handle(request))).toBe(skeleton(response));
  });

  it('real-programs: pools after switchpool 1 flag Stratum Active as the real program did', () => {
    const { response, when } = recorded(program, '41-pools-after-switchpool-1');
    const { sim, clock } = simAt(program, when - 3);
    sim.handle('{"command":"switchpool","parameter":"1"}');
    clock.ms = when * 1000;
    expect(skeleton(sim.handle('{"command":"pools"}'))).toBe(skeleton(response));
  });

  it('real-programs: removepool of the active pool is refused with Code 67', () => {
    const { request, response, when } = recorded(program, '46-removepool-2-while-active');
    const { sim } = simAt(program, when, 3);
    sim.handle('{"command":"switchpool","parameter":"2"}');
    expect(sim.handle(request)).toBe(response);
    expect(sim.state.pools).toHaveLength(3);
  });
});

describe('real-programs: cgminer 2.11.4 phantom CPU', () => {
  it('real-programs: the second CPU carries the uninitialised values of the recording, byte for byte', () => {
    const { request, response, when } = recorded('cgminer-2.11.4-cpu', '05-devs');
    const { sim } = simAt('cgminer-2.11.4-cpu', when);
    const cpu1 = (text: string): string => text.slice(text.indexOf('{"CPU":1'));
    expect(cpu1(sim.handle(request))).toBe(cpu1(response));
  });
});

describe('real-programs: restart', () => {
  it.each([
    ['cgminer-4.11.1-no-devices', 7_010],
    ['bfgminer-5.5.0-cpu', 2_690],
  ] as const)('real-programs: %s API is back %d ms after restart', async (program, downMs) => {
    const clock = { ms: 1_795_320_000_000 };
    const sim = new CgminerSimulator({ program, now: () => clock.ms, lifetimeMs: 10_000 });
    const target = await sim.start();
    try {
      sim.handle('{"command":"restart"}');
      clock.ms += downMs - 10;
      expect(await CgminerClientProbe.answers(target)).toBe(false);
      clock.ms += 20;
      expect(await CgminerClientProbe.answers(target)).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('real-programs: cgminer 2.11.4 re-exec fails: the API does not come back until the process is started again', async () => {
    const clock = { ms: 1_795_320_000_000 };
    const sim = new CgminerSimulator({ program: 'cgminer-2.11.4-cpu', now: () => clock.ms, lifetimeMs: 10_000 });
    const target = await sim.start();
    try {
      expect(sim.handle('{"command":"restart"}')).toBe('{"RESTART","id":1}');
      clock.ms += 66_000;
      expect(await CgminerClientProbe.answers(target)).toBe(false);
    } finally {
      await sim.stop();
    }
  });
});
