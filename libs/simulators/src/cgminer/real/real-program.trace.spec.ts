import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@rigwarden/testing';
import { CgminerSimulator, type SimPool } from '../../cgminer-simulator';
import { StratumPoolSimulator } from '../stratum-pool.simulator';
import type { RealProgram } from './real-program.profile';

/**
 * The simulated programs through the recorded kill of pool A (testdata/traces, copied from shared/traces): pool A
 * unreachable at t=0 and back at the trace's revive time, the miner's API polled every 250 ms on an injected clock
 * like the trace's poller did. The sequence of pool states must be the recorded one, each transition within
 * tolerance of the recorded time.
 */
const TRACES = join(__dirname, '../../../testdata/traces');
const RUNS = ['run1-kill--cgminer-4.11.1+bfgminer-5.5.0', 'run2-kill--cgminer-4.11.1+cgminer-2.11.4+bfgminer-5.5.0'];
const PROGRAM: Record<string, RealProgram> = { 'cgminer 4.11.1': 'cgminer-4.11.1-no-devices', 'cgminer 2.11.4': 'cgminer-2.11.4-cpu', 'bfgminer 5.5.0': 'bfgminer-5.5.0-cpu' };
/** How far a simulated transition may be from the recorded one: one 250 ms poll plus the spread between the two runs (2 s). */
const TOLERANCE_S = 2.5;

type PoolView = [number, string, boolean];
interface Transition { after_s: number; miner: string; current: string | null; 'pools[id,Status,StratumActive]': PoolView[] }
interface TraceFile { events: { ev: string; after_s: number }[]; transitions: Transition[]; polls: number; shares_seen_by_stub_pools: Record<string, { first_after_s: number }> }

function load(run: string): TraceFile {
  return JSON.parse(readFileSync(join(TRACES, run, 'transitions.json'), 'utf8')) as TraceFile;
}

interface Simulated { after_s: number; current: string | null; pools: PoolView[]; mhs: number; accepted: number[] }

/** What the trace's poller derived from one poll: lcd "Current Pool" when the miner has lcd, else the one Stratum Active pool. */
function view(sim: CgminerSimulator): { current: string | null; pools: PoolView[]; mhs: number; accepted: number[] } {
  const pools = (JSON.parse(sim.handle('{"command":"pools"}')) as { POOLS: { POOL: number; URL: string; Status: string; 'Stratum Active': boolean; Accepted: number }[] }).POOLS;
  const lcd = JSON.parse(sim.handle('{"command":"lcd"}')) as { LCD?: { 'Current Pool': string }[] };
  const active = pools.filter((p) => p['Stratum Active']);
  const current = lcd.LCD?.[0]?.['Current Pool'] ?? (active.length === 1 ? active[0]!.URL : null);
  const summary = JSON.parse(sim.handle('{"command":"summary"}')) as { SUMMARY: Record<string, number>[] };
  const s = summary.SUMMARY[0]!;
  return { current, pools: pools.map((p) => [p.POOL, p.Status, p['Stratum Active']]), mhs: s['MHS 20s'] ?? s['MHS 5s'] ?? s['MHS av'] ?? 0, accepted: pools.map((p) => p.Accepted) };
}

/** Runs one program through the trace's kill and revive, polling every 250 ms; returns every poll. */
function replayTrace(program: RealProgram, reviveS: number, endS: number, seed = 7): Simulated[] {
  const t0 = 1_795_322_286_979;
  const clock = { ms: t0 - 600_000 };
  const pools: SimPool[] = [0, 1].map((i) => ({ url: `stratum+tcp://127.0.0.1:${3333 + i}`, user: `w-${i}`, status: 'Alive', priority: i, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 }));
  const sim = new CgminerSimulator({ program, seed, now: () => clock.ms, state: { pools } });
  const polls: Simulated[] = [];
  let killed = false;
  let revived = false;
  for (let ms = -5_000; ms <= endS * 1000; ms += 250) {
    clock.ms = t0 + ms;
    if (!killed && ms >= 0) {
      killed = true;
      sim.setPoolReachable(0, false);
    }
    if (!revived && ms >= reviveS * 1000) {
      revived = true;
      clock.ms = t0 + reviveS * 1000;
      sim.setPoolReachable(0, true);
      clock.ms = t0 + ms;
    }
    polls.push({ after_s: ms / 1000 + 0.07, ...view(sim) }); // the trace's polls landed ~0.07 s after each 250 ms tick
  }
  return polls;
}

function transitionsOf(polls: Simulated[]): { after_s: number; current: string | null; pools: PoolView[] }[] {
  const out: { after_s: number; current: string | null; pools: PoolView[] }[] = [];
  let last = '';
  for (const p of polls) {
    const key = JSON.stringify([p.current, p.pools]);
    if (key !== last) out.push({ after_s: p.after_s, current: p.current, pools: p.pools });
    last = key;
  }
  return out;
}

describe.each(RUNS)('real-program traces: %s', (run) => {
  const trace = load(run);
  const reviveS = trace.events.find((e) => e.ev === 'revive-pool-a')!.after_s;
  const miners = [...new Set(trace.transitions.map((t) => t.miner))];
  const endS = (trace.polls / miners.length) * 0.25 - 5;

  it.each(miners)('real-program traces: %s goes through the recorded pool states at the recorded times', (miner) => {
    const recorded = trace.transitions.filter((t) => t.miner === miner);
    const simulated = transitionsOf(replayTrace(PROGRAM[miner]!, reviveS, endS));
    expect(simulated.map((t) => [t.current, t.pools])).toEqual(recorded.map((t) => [t.current, t['pools[id,Status,StratumActive]']]));
    simulated.forEach((t, i) => {
      const want = recorded[i]!.after_s;
      if (want < 0) return; // the state before the kill
      expect(Math.abs(t.after_s - want)).toBeLessThanOrEqual(TOLERANCE_S);
    });
  });
});

interface ReportEntry { miner: string; event: 'kill-pool-a' | 'revive-pool-a'; [k: string]: unknown }

/** report.json's numbers, computed the way the trace's tool did, from the simulated polls. */
function reportOf(polls: Simulated[], event: ReportEntry['event'], atS: number): Record<string, number | null> {
  const A = 'stratum+tcp://127.0.0.1:3333';
  const after = polls.filter((p) => p.after_s >= atS);
  const first = (probe: (p: Simulated) => boolean): number | null => {
    const hit = after.find(probe);
    return hit ? Math.round((hit.after_s - atS) * 1000) / 1000 : null;
  };
  if (event === 'kill-pool-a') {
    return { seconds_until_status_not_alive: first((p) => p.pools[0]![1] !== 'Alive'), seconds_until_current_moved_off: first((p) => p.current !== null && p.current !== A) };
  }
  return { seconds_until_status_alive: first((p) => p.pools[0]![1] === 'Alive'), seconds_until_current_back: first((p) => p.current === A) };
}

describe.each(RUNS)('real-program traces: report of %s', (run) => {
  const trace = load(run);
  const reviveS = trace.events.find((e) => e.ev === 'revive-pool-a')!.after_s;
  const report = JSON.parse(readFileSync(join(TRACES, run, 'failover-kill.report.json'), 'utf8')) as ReportEntry[];
  const endS = (trace.polls / new Set(report.map((r) => r.miner)).size) * 0.25 - 5;

  it.each(report.map((r) => [r.miner, r.event, r] as const))('real-program traces: %s %s: the report\'s seconds within 2.5 s, the same ones missing', (miner, event, entry) => {
    const polls = replayTrace(PROGRAM[miner]!, reviveS, endS);
    const got = reportOf(polls, event, event === 'kill-pool-a' ? 0 : reviveS);
    for (const [key, value] of Object.entries(got)) {
      const want = entry[key] as number | null;
      if (want === null) expect({ key, value }).toEqual({ key, value: null });
      else expect(Math.abs((value ?? Number.POSITIVE_INFINITY) - want)).toBeLessThanOrEqual(TOLERANCE_S);
    }
  });
});

describe('real-program traces: hash rate and shares', () => {
  const trace = load(RUNS[1]!);
  const reviveS = trace.events.find((e) => e.ev === 'revive-pool-a')!.after_s;

  it('real-program traces: bfgminer 5.5.0 hash rate swings between 0.04 and 1 MH/s', () => {
    const polls = replayTrace('bfgminer-5.5.0-cpu', reviveS, 538);
    const rates = polls.map((p) => p.mhs);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(0.04);
    expect(Math.max(...rates)).toBeLessThanOrEqual(1);
    expect(Math.max(...rates) / Math.max(Math.min(...rates), 0.001)).toBeGreaterThan(3);
  });

  it('real-program traces: bfgminer 5.5.0 finds its first share on B seconds after its failover and goes back to A about 300 s after A is Alive', () => {
    const polls = replayTrace('bfgminer-5.5.0-cpu', reviveS, 538);
    const firstOnB = polls.find((p) => (p.accepted[1] ?? 0) > 0)!.after_s;
    expect(firstOnB).toBeGreaterThan(0);
    expect(firstOnB).toBeLessThan(30); // recorded: 5.8 s and 11.8 s
    const aliveAgain = polls.find((p) => p.after_s > reviveS && p.pools[0]![1] === 'Alive')!.after_s;
    const beforeKill = polls.find((p) => p.after_s > 0)!.accepted[0]!;
    const firstOnA = polls.find((p) => p.after_s > reviveS && p.accepted[0]! > beforeKill)!.after_s;
    // recorded: the first share on A 352 s after A was Alive again (514.3 - 162.4), --failover-switch-delay 300 s
    expect(firstOnA - aliveAgain).toBeGreaterThanOrEqual(300);
    expect(firstOnA - aliveAgain).toBeLessThan(400);
  });

  it('real-program traces: cgminer 4.11.1 without devices never hashes, finds no share and never switches', () => {
    const polls = replayTrace('cgminer-4.11.1-no-devices', reviveS, 538);
    expect(polls.every((p) => p.mhs === 0 && p.accepted.every((a) => a === 0) && p.current === 'stratum+tcp://127.0.0.1:3333')).toBe(true);
  });

  it('real-program traces: the same seed gives the same hash rate and shares', () => {
    const a = replayTrace('bfgminer-5.5.0-cpu', reviveS, 200, 11).map((p) => [p.mhs, p.accepted]);
    const b = replayTrace('bfgminer-5.5.0-cpu', reviveS, 200, 11).map((p) => [p.mhs, p.accepted]);
    expect(a).toEqual(b);
  });
});

describe('real-program traces: over stratum', () => {
  it('real-program traces: bfgminer 5.5.0 sees a killed stratum pool Dead within one poll, is on B at once, and submits its shares to B', async () => {
    const poolA = new StratumPoolSimulator({ lifetimeMs: 60_000, difficulty: 0.0005 });
    const poolB = new StratumPoolSimulator({ lifetimeMs: 60_000, difficulty: 0.0005 });
    await poolA.start();
    await poolB.start();
    const pools: SimPool[] = [poolA, poolB].map((p, i) => ({ url: p.url, user: `bfg-${i}`, status: 'Alive', priority: i, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 }));
    const sim = new CgminerSimulator({ program: 'bfgminer-5.5.0-cpu', seed: 3, state: { pools }, lifetimeMs: 60_000 });
    await sim.start();
    sim.startMining();
    try {
      const pool = (i: number): { Status: string; 'Stratum Active': boolean; Accepted: number } =>
        (JSON.parse(sim.handle('{"command":"pools"}')) as { POOLS: { Status: string; 'Stratum Active': boolean; Accepted: number }[] }).POOLS[i]!;
      await waitFor('pool A alive and in use', () => (pool(0).Status === 'Alive' && pool(0)['Stratum Active'] ? true : undefined), 10_000);
      const killedAt = Date.now();
      await poolA.kill();
      await waitFor('pool A dead', () => (pool(0).Status === 'Dead' ? true : undefined), 5_000, 10);
      expect(Date.now() - killedAt).toBeLessThan(1_000);
      expect(pool(1)['Stratum Active']).toBe(true);
      expect(sim.state.activePool).toBe(1);
      expect(sim.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'miner' })]);
      await waitFor('a share accepted by pool B', () => (pool(1).Accepted > 0 ? true : undefined), 40_000, 100);
    } finally {
      await sim.stop();
      await poolA.stop();
      await poolB.stop();
    }
  }, 60_000);
});

describe('real-program traces: time compression for end-to-end tests', () => {
  it('real-program traces: compressed 10x, bfgminer is Alive 4.1 s after the pool returns and fails back 30 s later', () => {
    const clock = { ms: 1_795_322_286_979 };
    const pools: SimPool[] = [0, 1].map((i) => ({ url: `stratum+tcp://127.0.0.1:${3333 + i}`, user: `w-${i}`, status: 'Alive', priority: i, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 }));
    const sim = new CgminerSimulator({ program: 'bfgminer-5.5.0-cpu', programTimeCompression: 10, now: () => clock.ms, state: { pools } });
    sim.setPoolReachable(0, false);
    expect(sim.state.activePool).toBe(1);
    clock.ms += 12_000;
    sim.setPoolReachable(0, true);
    const returned = clock.ms;
    const when = (probe: () => boolean): number => {
      while (!probe()) {
        clock.ms += 250;
        sim.handle('{"command":"pools"}');
      }
      return clock.ms - returned;
    };
    expect(when(() => sim.state.pools[0]!.status === 'Alive')).toBe(4_250);
    expect(when(() => sim.state.activePool === 0)).toBe(4_250 + 30_000);
    expect(sim.poolSwitches.map((s) => s.by)).toEqual(['miner', 'miner']);
  });
});
