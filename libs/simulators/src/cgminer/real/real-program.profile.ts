/**
 * What three unmodified miner programs did on loopback (shared/fixtures/cgminer-real, shared/traces): the timings of
 * their own failover and failback, which pools they flag "Stratum Active", how fast they hash on a CPU, how they
 * restart. Each number names the recording it comes from; libs/simulators/testdata holds the copies the tests use.
 */
export type RealProgram = 'cgminer-4.11.1-no-devices' | 'cgminer-2.11.4-cpu' | 'bfgminer-5.5.0-cpu';

export const REAL_PROGRAMS: readonly RealProgram[] = ['cgminer-4.11.1-no-devices', 'cgminer-2.11.4-cpu', 'bfgminer-5.5.0-cpu'];

export interface RealProgramProfile {
  readonly program: RealProgram;
  /** VERSION's version and STATUS Description. */
  readonly software: string;
  readonly description: string;
  /**
   * Whether the miner leaves a dead pool by itself. cgminer 4.11.1 without devices never asks for work, so it never
   * switches (traces: it stays on pool A, Dead, for the whole outage).
   */
  readonly failsOver: boolean;
  /** After a dead pool is reachable again, how long until the API shows it Alive (traces: 5.1 s; 30.3 s; 40.4-42.4 s). */
  readonly aliveAfterReturnMs: number;
  /** How long before it turns Alive the returning pool already shows "Stratum Active" while Dead (2.11.4: one 250 ms poll). */
  readonly stratumBeforeAliveMs: number;
  /** How long a better pool must be Alive before the miner goes back to it (2.11.4: 27.8 s; bfgminer --failover-switch-delay 300 s). */
  readonly failbackAfterAliveMs: number;
  /** After its own failback, the pool it left keeps "Stratum Active": true (bfgminer: both pools true to the end of the trace). */
  readonly keepsLeftStratumOnFailback: boolean;
  /** After a switchpool, the pool it left keeps "Stratum Active" (4.11.1 and bfgminer: yes, fixtures 41-pools-after-switchpool-1; 2.11.4: no). */
  readonly keepsLeftStratumOnSwitch: boolean;
  /** A pool that answers nothing for this long is Dead (a hung pool: bfgminer alone took 233 s to the first share on the backup). */
  readonly silenceDeadMs: number;
  /** Hash rate on the recording machine's CPU: a log-normal random walk between min and max, one step per segment. */
  readonly hashrate: { readonly startHs: number; readonly minHs: number; readonly maxHs: number; readonly logStep: number; readonly segmentMs: number };
  /** The share difficulty the miner works at (the stub pools sent 0.0005; cgminer 2.11.4 works at 1: stats "Work Diff":1.00000000). */
  readonly workDifficulty: number;
  /** How long the API is away after `restart`; undefined: never back (2.11.4's re-exec failed: no API after 65.9 s). */
  readonly restartDownMs: number | undefined;
  /** The exact bytes of the reply to `restart` and `quit` (without the NUL); `{when}` is replaced by the time. */
  readonly restartReply: string;
  readonly quitReply: string;
}

export const REAL_PROGRAM_PROFILES: Readonly<Record<RealProgram, RealProgramProfile>> = {
  'cgminer-4.11.1-no-devices': {
    program: 'cgminer-4.11.1-no-devices', software: '4.11.1', description: 'cgminer 4.11.1',
    failsOver: false, aliveAfterReturnMs: 5_100, stratumBeforeAliveMs: 0, failbackAfterAliveMs: 0,
    keepsLeftStratumOnFailback: false, keepsLeftStratumOnSwitch: true, silenceDeadMs: 120_000,
    hashrate: { startHs: 0, minHs: 0, maxHs: 0, logStep: 0, segmentMs: 5_000 },
    workDifficulty: 0.0005, restartDownMs: 7_010,
    restartReply: '{"STATUS":"RESTART","id":1}', quitReply: '{"STATUS":"BYE","id":1}',
  },
  'cgminer-2.11.4-cpu': {
    program: 'cgminer-2.11.4-cpu', software: '2.11.4', description: 'cgminer 2.11.4',
    failsOver: true, aliveAfterReturnMs: 30_340, stratumBeforeAliveMs: 250, failbackAfterAliveMs: 27_840,
    keepsLeftStratumOnFailback: false, keepsLeftStratumOnSwitch: false, silenceDeadMs: 120_000,
    // 2.33 MH/s av after 68 s (fixture 55-summary-after-pool-ops), sse2_64 on two threads.
    hashrate: { startHs: 2.3e6, minHs: 1.6e6, maxHs: 2.6e6, logStep: 0.05, segmentMs: 5_000 },
    workDifficulty: 1, restartDownMs: undefined,
    restartReply: '{"RESTART","id":1}', quitReply: '{"BYE","id":1}',
  },
  'bfgminer-5.5.0-cpu': {
    program: 'bfgminer-5.5.0-cpu', software: '5.5.0', description: 'bfgminer 5.5.0',
    failsOver: true, aliveAfterReturnMs: 41_400, stratumBeforeAliveMs: 0, failbackAfterAliveMs: 300_000,
    keepsLeftStratumOnFailback: true, keepsLeftStratumOnSwitch: true, silenceDeadMs: 225_000,
    // "MHS 20s" between 0.04 and 1 on a busy CPU (issue 15; fixtures 0.131-0.277, "MHS av" 0.22-0.894).
    hashrate: { startHs: 0.5e6, minHs: 0.04e6, maxHs: 1e6, logStep: 0.45, segmentMs: 5_000 },
    workDifficulty: 0.0005, restartDownMs: 2_690,
    restartReply: '{"STATUS":[{"STATUS":"S","When":{when},"Code":257,"Msg":"RESTART","Description":"bfgminer 5.5.0"}],"id":1}',
    quitReply: '{"STATUS":[{"STATUS":"S","When":{when},"Code":257,"Msg":"BYE","Description":"bfgminer 5.5.0"}],"id":1}',
  },
};

export function isRealProgram(value: unknown): value is RealProgram {
  return typeof value === 'string' && (REAL_PROGRAMS as readonly string[]).includes(value);
}

/**
 * The profile with its delays (return to Alive, failback, silence, restart) divided by `factor`, for end-to-end
 * tests that cannot wait five minutes for bfgminer's failback. Hash rate and shares keep their real pace.
 */
export function compressedProfile(profile: RealProgramProfile, factor: number): RealProgramProfile {
  if (!(factor > 0) || factor === 1) return profile;
  const k = (ms: number): number => Math.round(ms / factor);
  return {
    ...profile,
    aliveAfterReturnMs: k(profile.aliveAfterReturnMs),
    stratumBeforeAliveMs: k(profile.stratumBeforeAliveMs),
    failbackAfterAliveMs: k(profile.failbackAfterAliveMs),
    silenceDeadMs: k(profile.silenceDeadMs),
    restartDownMs: profile.restartDownMs === undefined ? undefined : k(profile.restartDownMs),
  };
}
