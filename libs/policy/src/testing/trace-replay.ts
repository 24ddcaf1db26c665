/**
 * Loads the recorded failover traces (testdata/traces, README there) and turns each poll into the
 * RigObservation the controller would build from the agent's snapshot of that reply. Test-only: reads files.
 */
// Test-only and the one exception in this lib: the recorded traces are gzipped files (no JSON import can read
// them), read once per spec. Nothing outside the specs imports this module.
// eslint-disable-next-line no-restricted-imports
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BoardObservation, EpochMs, HashrateWindowObservation, PoolObservation, PoolState, RigObservation, RigSpec } from '../policy-types';

export const TRACES_DIR = join(__dirname, '..', '..', 'testdata', 'traces');
export const RUN1 = 'run1-kill--cgminer-4.11.1+bfgminer-5.5.0';
export const RUN2 = 'run2-kill--cgminer-4.11.1+cgminer-2.11.4+bfgminer-5.5.0';

/** Both stub pools' share difficulty (their "listening" lines in the share logs). */
export const STUB_POOL_DIFFICULTY = 0.0005;
const HASHES_PER_DIFF1 = 4_294_967_296;

export type TraceMiner = 'cgminer 4.11.1' | 'cgminer 2.11.4' | 'bfgminer 5.5.0';

export interface TracePool {
  readonly id: number;
  readonly url: string;
  readonly status: string;
  readonly prio: number;
  /** The miner's "Stratum Active". */
  readonly active: boolean;
  readonly acc: number;
  readonly rej: number;
}

export interface TracePoll {
  readonly t: EpochMs;
  readonly port: number;
  readonly ok: boolean;
  readonly miner: TraceMiner;
  readonly current: string | null;
  readonly pools: readonly TracePool[];
}

export interface Trace {
  readonly run: string;
  readonly killAt: EpochMs;
  readonly reviveAt: EpochMs;
  readonly polls: readonly TracePoll[];
  /** Seconds after the kill of the first share each stub pool saw from each worker (transitions.json). */
  readonly firstShareAfterS: Readonly<Record<string, number>>;
}

export function loadTrace(run: string): Trace {
  const dir = join(TRACES_DIR, run);
  const lines = gunzipSync(readFileSync(join(dir, 'failover-kill.polls.jsonl.gz'))).toString('utf8').split('\n').filter((l) => l.trim() !== '');
  const events = readFileSync(join(dir, 'failover-kill.events.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { t: number; ev: string });
  const transitions = JSON.parse(readFileSync(join(dir, 'transitions.json'), 'utf8')) as {
    shares_seen_by_stub_pools: Record<string, { first_after_s: number }>;
  };
  const firstShareAfterS: Record<string, number> = {};
  for (const [k, v] of Object.entries(transitions.shares_seen_by_stub_pools)) firstShareAfterS[k] = v.first_after_s;
  return {
    run,
    killAt: events.find((e) => e.ev === 'kill-pool-a')!.t,
    reviveAt: events.find((e) => e.ev === 'revive-pool-a')!.t,
    polls: lines.map((l) => JSON.parse(l) as TracePoll).sort((a, b) => a.t - b.t),
    firstShareAfterS,
  };
}

export function pollsOf(trace: Trace, miner: TraceMiner): TracePoll[] {
  return trace.polls.filter((p) => p.miner === miner);
}

/** The fleet spec a new user writes for these miners: pool A, then pool B. */
export function traceSpec(miner: TraceMiner): RigSpec {
  return {
    rigId: miner.replace(/[^a-z0-9.]+/gi, '-'),
    kind: 'asic',
    pools: [
      { url: 'stratum+tcp://127.0.0.1:3333', user: 'worker-a' },
      { url: 'stratum+tcp://127.0.0.1:3334', user: 'worker-b' },
    ],
    profiles: [],
  };
}

function poolState(status: string): PoolState {
  return status === 'Alive' ? 'alive' : status === 'Dead' ? 'dead' : status === 'Disabled' ? 'disabled' : status === 'Rejecting' ? 'rejecting' : 'unknown';
}

/**
 * The driver's `active` guess and its evidence, as libs/drivers/cgminer mapPools makes it: lcd when the miner has
 * it, else the only Stratum Active pool, else (several) the best priority among them. The trace has no last share
 * times, so the driver's "last-share" case cannot arise.
 */
function driverActive(poll: TracePoll, lcd: string | undefined): { index: number | undefined; evidence: string } {
  if (lcd) {
    const named = poll.pools.find((p) => p.url === lcd);
    if (named) return { index: named.id, evidence: 'lcd-current-pool' };
  }
  const flagged = poll.pools.filter((p) => p.active && p.status !== 'Disabled');
  if (flagged.length === 1) return { index: flagged[0]!.id, evidence: 'stratum-active' };
  const candidates = flagged.length > 1 ? flagged : poll.pools.filter((p) => p.status === 'Alive');
  const best = [...candidates].sort((a, b) => a.prio - b.prio)[0];
  return { index: best?.id, evidence: best ? 'priority' : '' };
}

export interface ReplayOptions {
  /** Replaces the accepted count of a pool from a time on (a hung pool: no share answered). */
  readonly freezeAccepted?: { readonly poolId: number; readonly from: EpochMs };
  /** A current hashrate window to report (e.g. "20s") instead of the rebuilt "av" only. */
  readonly currentWindow?: HashrateWindowObservation;
  /** Leave out "Diff1 Shares", as firmwares without it (the Poisson rule on the hashrate decides alone). */
  readonly withoutDiff1?: boolean;
}

/**
 * One RigObservation per poll of one miner. Hashrates (not in the traces), per miner:
 * - cgminer 4.11.1: every window 0.00, no devices (its 03-summary and 05-devs "No ASCs");
 * - cgminer 2.11.4: "MHS av" 0.00 and CPU 0 at "MHS 5s" 0.00 (03-summary, 05-devs; the phantom CPU 1 left out);
 * - bfgminer 5.5.0: an "av" window rebuilt from its accepted shares since the first poll (shares x difficulty x
 *   2^32 / elapsed, from 60 s on), one CPU without a rate; share difficulty 0.0005 once a share is accepted.
 */
export function observationsOf(trace: Trace, miner: TraceMiner, options: ReplayOptions = {}): RigObservation[] {
  const polls = pollsOf(trace, miner);
  const spec = traceSpec(miner);
  const first = polls[0];
  if (!first) return [];
  const startAcc = first.pools.reduce((n, p) => n + p.acc, 0);
  const frozen = new Map<number, number>();
  return polls.map((poll, seq) => {
    const lcd = miner === 'cgminer 4.11.1' && poll.current ? poll.current : undefined;
    const guess = driverActive(poll, lcd);
    const pools: PoolObservation[] = poll.pools.map((p) => {
      let acc = p.acc;
      const freeze = options.freezeAccepted;
      if (freeze && freeze.poolId === p.id && poll.t >= freeze.from) {
        if (!frozen.has(p.id)) frozen.set(p.id, acc);
        acc = frozen.get(p.id)!;
      }
      const bfg = miner === 'bfgminer 5.5.0';
      return {
        index: p.id,
        url: p.url,
        user: spec.pools[p.id]?.user ?? '',
        state: poolState(p.status),
        active: p.id === guess.index,
        priority: p.prio,
        accepted: acc,
        rejected: p.rej,
        stratumActive: p.active,
        activeEvidence: guess.evidence,
        ...(bfg && acc > 0 ? { lastShareDifficulty: STUB_POOL_DIFFICULTY, difficultyAccepted: acc * STUB_POOL_DIFFICULTY } : {}),
        // "Diff1 Shares" counts the work the miner found, before the pool answers (bfgminer's 04-pools: 0.0025 after
        // 5 shares at 0.0005): on a hung pool it goes on with the shares the miner submitted, the recorded ones.
        ...(options.withoutDiff1 ? {} : { diff1Shares: p.acc * STUB_POOL_DIFFICULTY }),
      };
    });
    return {
      at: poll.t,
      seq,
      rigId: spec.rigId,
      minerId: `127.0.0.1:${poll.port}`,
      reachable: poll.ok,
      errorKinds: poll.ok ? [] : ['timeout'],
      software: miner.split(' ')[0]!,
      ...minerRates(miner, poll, first.t, startAcc, pools, options),
      ...(lcd ? { currentPoolUrl: lcd } : {}),
      fans: [],
      pools,
    };
  });
}

function minerRates(
  miner: TraceMiner,
  poll: TracePoll,
  firstAt: EpochMs,
  startAcc: number,
  pools: readonly PoolObservation[],
  options: ReplayOptions,
): Pick<RigObservation, 'hashrateWindows' | 'hashrateAvgHs' | 'hashrateHs' | 'boards'> {
  if (miner === 'cgminer 4.11.1') {
    const windows = [
      { label: '5s', windowS: 5, hashrateHs: 0 },
      { label: '1m', windowS: 60, hashrateHs: 0 },
      { label: '5m', windowS: 300, hashrateHs: 0 },
      { label: '15m', windowS: 900, hashrateHs: 0 },
      { label: 'av', hashrateHs: 0 },
    ];
    return { hashrateWindows: windows, hashrateAvgHs: 0, hashrateHs: 0, boards: [] };
  }
  if (miner === 'cgminer 2.11.4') {
    const cpu: BoardObservation = { index: 0, state: 'ok', hashrateHs: 0, name: 'CPU' };
    return { hashrateWindows: [{ label: 'av', hashrateHs: 0 }], hashrateAvgHs: 0, boards: [cpu] };
  }
  const elapsedS = (poll.t - firstAt) / 1000;
  const shares = pools.reduce((n, p) => n + (p.accepted ?? 0), 0) - startAcc;
  const av = elapsedS >= 60 ? (shares * STUB_POOL_DIFFICULTY * HASHES_PER_DIFF1) / elapsedS : undefined;
  const windows: HashrateWindowObservation[] = [
    ...(options.currentWindow ? [options.currentWindow] : []),
    ...(av !== undefined ? [{ label: 'av', hashrateHs: av }] : []),
  ];
  const cpu: BoardObservation = { index: 0, state: 'ok', name: 'CPU' };
  return {
    ...(windows.length > 0 ? { hashrateWindows: windows } : {}),
    ...(av !== undefined ? { hashrateAvgHs: av } : {}),
    ...(options.currentWindow ? { hashrateHs: options.currentWindow.hashrateHs } : {}),
    boards: [cpu],
  };
}

/** The mean hashrate implied by a pool's accepted shares between two times of the trace (for one miner). */
export function hashrateFromShares(trace: Trace, miner: TraceMiner, poolId: number, from: EpochMs, to: EpochMs): number {
  const polls = pollsOf(trace, miner).filter((p) => p.t >= from && p.t <= to);
  const acc = (p: TracePoll) => p.pools.find((x) => x.id === poolId)?.acc ?? 0;
  const shares = acc(polls[polls.length - 1]!) - acc(polls[0]!);
  return (shares * STUB_POOL_DIFFICULTY * HASHES_PER_DIFF1) / ((polls[polls.length - 1]!.t - polls[0]!.t) / 1000);
}
