import { FailoverPolicy } from './failover.policy';
import { EMPTY_HISTORY, actionFromDecision, appendAction, appendObservation } from './rig-history';
import type { ActionRecord, PolicyInput, PoolObservation, RigObservation } from './policy-types';
import {
  MIN,
  POLL,
  POOLS,
  SEC,
  T0,
  acceptedAt,
  action,
  hashing,
  input,
  obs,
  poolsOf,
  rigSpec,
  series,
} from './testing/policy-fixtures';

const policy = new FailoverPolicy();
const spec = rigSpec();
const A = POOLS[0]!.url;
const B = POOLS[1]!.url;

/** Pool 0 hashing until `since`, then no progress (same counter) until T0. */
function silentFor(ms: number, every = POLL, extra: Parameters<typeof hashing>[2] = () => ({})): RigObservation[] {
  const since = T0 - ms;
  return [
    ...hashing(T0 - 10 * MIN, since, extra, every),
    ...series(since + every, T0, (at, i) => ({ accepted: acceptedAt(since), ...extra(at, i) }), every),
  ];
}

/** On pool `active` (hashing), with per-pool states from `states(at)`. */
function onPool(active: number, from: number, to: number, states: (at: number) => Partial<Record<number, PoolObservation['state']>> = () => ({})) {
  return series(from, to, (at) => ({ active, accepted: acceptedAt(at), states: states(at) }));
}

function switchedAway(at: number, fromUrl: string, reason = 'active-pool-dead'): ActionRecord {
  return action(at, 'switch-pool', 'failover', { fromUrl }, { reason });
}

/** cgminer 4.11.1 without devices: every window 0.00, lcd names pool 0, no share ever (its 03-summary, 14-lcd). */
function noDevices(at: number, states: Partial<Record<number, PoolObservation['state']>> = {}): RigObservation {
  const o = obs(at, { boards: [], hashrateHs: 0, accepted: 0, states });
  return {
    ...o,
    hashrateWindows: [{ label: '5s', windowS: 5, hashrateHs: 0 }, { label: '1m', windowS: 60, hashrateHs: 0 }, { label: 'av', hashrateHs: 0 }],
    hashrateAvgHs: 0,
    currentPoolUrl: A,
    pools: o.pools.map((p) => ({ ...p, stratumActive: false, activeEvidence: 'lcd-current-pool' })),
  };
}

/**
 * bfgminer-like on a CPU: pools A and B both Stratum Active (the driver's guess: pool 0 on priority), shares of
 * difficulty 0.0005 on `on`; its 20 s window at `rateHs(at)`; `accepted(at)` on that pool.
 */
function cpuMiner(at: number, on: number, accepted: number, rateHs: number, states: Partial<Record<number, PoolObservation['state']>> = {}): RigObservation {
  const o = obs(at, { boards: [{ index: 0, state: 'ok', name: 'CPU' }], hashrateHs: rateHs, states });
  return {
    ...o,
    hashrateWindows: [{ label: '20s', windowS: 20, hashrateHs: rateHs }],
    pools: o.pools.slice(0, 2).map((p) => ({
      ...p,
      active: p.index === 0,
      activeEvidence: 'priority',
      stratumActive: p.state !== 'dead',
      accepted: p.index === on ? accepted : 0,
      ...(p.index === on ? { lastShareDifficulty: 0.0005 } : {}),
    })),
  };
}
const twoPools = rigSpec({ pools: POOLS.slice(0, 2) });
/** A share every 2.1 s at 1 MH/s and difficulty 0.0005, none from `silentFrom` on. */
const cpuShares = (at: number, silentFrom = Number.POSITIVE_INFINITY) => Math.floor((Math.min(at, silentFrom) - (T0 - 20 * MIN)) / 2150);

interface Scenario {
  readonly name: string;
  readonly input: () => PolicyInput;
  readonly now?: number;
  /** The one expected decision (a subset of it), or null for none. */
  readonly expected: null | { kind: string; reason: string; params?: Record<string, unknown> };
}

const scenarios: Scenario[] = [
  {
    name: 'healthy primary accepting shares makes no decision',
    input: () => input(spec, hashing(T0 - 10 * MIN, T0)),
    expected: null,
  },
  {
    name: 'dead primary switches to the backup on the first reading',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1, url: B, fromUrl: A, fromPoolIndex: 0 } },
  },
  {
    name: 'disabled primary switches to the backup',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'disabled' } })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
  {
    name: 'primary the miner reports as rejecting switches to the backup',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'rejecting' } })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-rejecting', params: { poolIndex: 1 } },
  },
  {
    name: 'primary rejecting half the shares over 5 min switches to the backup',
    input: () => input(spec, series(T0 - 10 * MIN, T0, (_at, i) => ({ accepted: 1000 + i * 3, rejected: i * 3 }))),
    expected: { kind: 'switch-pool', reason: 'active-pool-rejecting', params: { poolIndex: 1 } },
  },
  {
    name: 'reject ratio over too few shares is no verdict',
    input: () => input(spec, series(T0 - 10 * MIN, T0, (_at, i) => ({ accepted: Math.floor(i / 10), rejected: Math.floor(i / 10) }))),
    expected: null,
  },
  {
    name: 'reject ratio under 10 % keeps the primary',
    input: () => input(spec, series(T0 - 10 * MIN, T0, (_at, i) => ({ accepted: 1000 + i * 20, rejected: i }))),
    expected: null,
  },
  {
    // Was 30 s: a hung pool must be left fast enough for the first share on the backup within 30 s (issue 15).
    name: 'silent primary for 10 s keeps the primary (default 12 s)',
    input: () => input(spec, silentFor(10 * SEC, 5 * SEC)),
    expected: null,
  },
  {
    name: 'silent primary for 15 s at 100 TH/s and a share a second, without Diff1 Shares, is not yet silent (18.4 intervals)',
    input: () => input(spec, silentFor(15 * SEC, 5 * SEC)),
    expected: null,
  },
  {
    name: 'silent primary for 20 s at 100 TH/s and a share a second switches to the backup',
    input: () => input(spec, silentFor(20 * SEC, 5 * SEC)),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1, fromPoolIndex: 0, confidence: 'confident' } },
  },
  {
    name: 'silent primary for 15 s at 100 TH/s while Diff1 Shares shows the miner found shares nobody answered switches to the backup',
    // The miner goes on finding shares (acceptedAt keeps counting them) at difficulty 1; the pool answers none.
    input: () => input(spec, silentFor(15 * SEC, 5 * SEC).map((o) => ({ ...o, pools: o.pools.map((p) => (p.active ? { ...p, lastShareDifficulty: 1, difficultyAccepted: p.accepted, diff1Shares: acceptedAt(o.at) } : p)) }))),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1, fromPoolIndex: 0, confidence: 'confident' } },
  },
  {
    name: 'a switch refused by a read-only miner (Code 45) 20 s ago is not tried again within the cooldown',
    input: () => input(spec, silentFor(90 * SEC), [action(T0 - 20 * SEC, 'switch-pool', 'failover', { fromUrl: A, poolIndex: 1 }, { reason: 'active-pool-silent', outcome: 'failed', cause: "Access denied to 'switchpool' command (Code 45)" })]),
    expected: null,
  },
  {
    name: 'a switch that failed is tried again once the cooldown has passed',
    input: () => input(spec, silentFor(3 * MIN), [action(T0 - 70 * SEC, 'switch-pool', 'failover', { fromUrl: A, poolIndex: 1 }, { reason: 'active-pool-silent', outcome: 'failed' })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1 } },
  },
  {
    name: 'silent primary for 30 s switches to the backup',
    input: () => input(spec, silentFor(30 * SEC)),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1, fromPoolIndex: 0 } },
  },
  {
    name: 'silent primary for 25 s switches to backup with silentAfterMs 20 s',
    input: () => input(rigSpec({ policy: { failover: { silentAfterMs: 20 * SEC } } }), silentFor(25 * SEC, 5 * SEC)),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1 } },
  },
  {
    name: 'silent primary for 25 s keeps the primary with silentAfterMs 30 s',
    input: () => input(rigSpec({ policy: { failover: { silentAfterMs: 30 * SEC } } }), silentFor(25 * SEC, 5 * SEC)),
    expected: null,
  },
  {
    name: 'a slow rig with a share every 20 s is not silent after 60 s without one',
    input: () => input(spec, series(T0 - 15 * MIN, T0, (at) => ({ accepted: Math.floor(Math.min(at, T0 - 60 * SEC) / (20 * SEC)) }))),
    expected: null,
  },
  {
    name: 'a slow rig with a share every 20 s is silent after 18.4 share intervals without one',
    input: () => input(spec, series(T0 - 15 * MIN, T0, (at) => ({ accepted: Math.floor(Math.min(at, T0 - 390 * SEC) / (20 * SEC)) }))),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1 } },
  },
  {
    name: 'a slow rig just moved to the backup keeps its slow share rate: not silent after 60 s there',
    input: () => input(spec, [
      ...series(T0 - 15 * MIN, T0 - 100 * SEC, (at) => ({ accepted: Math.floor(at / (20 * SEC)) })),
      ...series(T0 - 90 * SEC, T0, (at) => ({ active: 1, accepted: 7 + Math.floor(Math.min(at, T0 - 70 * SEC) / (20 * SEC)) - Math.floor((T0 - 90 * SEC) / (20 * SEC)) })),
    ], [switchedAway(T0 - 95 * SEC, A)]),
    expected: null,
  },
  {
    name: 'a changing last-share time counts as progress',
    input: () => input(spec, series(T0 - 10 * MIN, T0, (at) => ({
      pools: poolsOf({ accepted: 5 }).map((p) => (p.active ? { ...p, lastShareAt: at - 3 * SEC } : p)),
    }))),
    expected: null,
  },
  {
    name: 'a firmware without share counters is judged on the last-share time alone',
    input: () => input(spec, series(T0 - 10 * MIN, T0, (at) => ({
      pools: poolsOf().map((p) => (p.active ? { ...p, accepted: undefined, lastShareAt: Math.min(at, T0 - 40 * SEC) } : p)),
    }))),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1 } },
  },
  {
    name: 'an operator switch 30 s ago starts the cooldown too',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })],
      [action(T0 - 30 * SEC, 'switch-pool', 'operator', { fromUrl: B })]),
    expected: null,
  },
  {
    name: 'silent primary is not judged during the first 12 s after a miner start',
    input: () => input(spec, silentFor(60 * SEC, POLL, () => ({ startedAt: T0 - 10 * SEC }))),
    expected: null,
  },
  {
    name: 'silent primary with every board dead is left to the watchdog',
    input: () => input(spec, silentFor(60 * SEC, POLL, () => ({
      boards: [0, 1, 2].map((index) => ({ index, state: 'dead' as const })),
    }))),
    expected: null,
  },
  {
    name: 'silent primary 10 s after our miner restart is not judged yet',
    input: () => input(spec, silentFor(60 * SEC), [action(T0 - 10 * SEC, 'restart-miner', 'watchdog')]),
    expected: null,
  },
  {
    name: 'silent primary with a dead backup switches to the third pool',
    input: () => input(spec, silentFor(40 * SEC, POLL, () => ({ states: { 1: 'dead' } }))),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 2 } },
  },
  {
    name: 'dead primary with every other pool dead raises one alert',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead', 1: 'dead', 2: 'disabled' } })]),
    expected: { kind: 'alert', reason: 'no-healthy-pool', params: { subject: 'active-pool-dead' } },
  },
  {
    name: 'no-healthy-pool alert is not repeated within 15 min',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead', 1: 'dead', 2: 'dead' } })],
      [action(T0 - 14 * MIN, 'alert', 'failover', {}, { reason: 'no-healthy-pool' })]),
    expected: null,
  },
  {
    name: 'a backup that rejected half its shares minutes ago is passed over',
    input: () => {
      // On B from -5 min to -2 min, rejecting half its shares (ending at 154 accepted, 54 rejected); then on A.
      const bAsLeft = (p: PoolObservation) => (p.index === 1 ? { ...p, accepted: 154, rejected: 54 } : p);
      return input(spec, [
        ...series(T0 - 5 * MIN, T0 - 2 * MIN, (_at, i) => ({ active: 1, accepted: 100 + i * 3, rejected: i * 3 })),
        ...series(T0 - 110 * SEC, T0 - POLL, (at) => ({ pools: poolsOf({ accepted: acceptedAt(at) }).map(bAsLeft) })),
        obs(T0, { pools: poolsOf({ accepted: acceptedAt(T0), states: { 0: 'dead' } }).map(bAsLeft) }),
      ]);
    },
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 2 } },
  },
  {
    name: 'with under 5 min of share history the silence threshold is the plain 30 s',
    input: () => input(spec, series(T0 - 100 * SEC, T0, (at) => ({ accepted: Math.floor(Math.min(at - (T0 - 100 * SEC), 60 * SEC) / (20 * SEC)) }))),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1 } },
  },
  {
    name: 'a quarantine that failed is not in force',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead' } })],
      [action(T0 - 5 * MIN, 'quarantine', 'watchdog', {}, { outcome: 'failed' })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
  {
    name: 'a pool unknown to the miner status is still a candidate after the alive ones',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead', 1: 'unknown' } })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 2 } },
  },
  {
    name: 'backup dying 30 s after our switch waits for the 60 s cooldown',
    input: () => input(spec, [
      ...hashing(T0 - 10 * MIN, T0 - 40 * SEC),
      ...onPool(1, T0 - 30 * SEC, T0, (at) => (at >= T0 - 10 * SEC ? { 0: 'dead', 1: 'dead' } : { 0: 'dead' })),
    ], [switchedAway(T0 - 35 * SEC, A)]),
    expected: null,
  },
  {
    name: 'backup dead after the cooldown switches to the third pool',
    now: T0 + 40 * SEC,
    input: () => input(spec, [
      ...hashing(T0 - 10 * MIN, T0 - 40 * SEC),
      ...onPool(1, T0 - 30 * SEC, T0 + 40 * SEC, (at) => (at >= T0 - 10 * SEC ? { 0: 'dead', 1: 'dead' } : { 0: 'dead' })),
    ], [switchedAway(T0 - 35 * SEC, A)]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 2, fromPoolIndex: 1 } },
  },
  {
    name: 'the miner failing over to a healthy backup by itself is left alone',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - 20 * SEC), ...onPool(1, T0 - 10 * SEC, T0, () => ({ 0: 'dead' }))]),
    expected: null,
  },
  {
    name: 'the miner failing back early to a healthy primary by itself is not undone',
    input: () => input(spec, [
      ...onPool(1, T0 - 10 * MIN, T0 - 60 * SEC, () => ({ 0: 'dead' })),
      ...hashing(T0 - 50 * SEC, T0),
    ]),
    expected: null,
  },
  {
    name: 'a switch the miner made itself starts the cooldown',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - 20 * SEC), ...onPool(1, T0 - 10 * SEC, T0, (at) => (at === T0 ? { 0: 'dead', 1: 'dead' } : { 0: 'dead' }))]),
    expected: null,
  },
  {
    name: 'primary alive for 5 min and left 10 min ago is failed back to',
    input: () => input(spec, onPool(1, T0 - 10 * MIN, T0), [switchedAway(T0 - 10 * MIN, A)]),
    expected: { kind: 'switch-pool', reason: 'preferred-pool-stable', params: { poolIndex: 0, url: A, fromPoolIndex: 1 } },
  },
  {
    name: 'primary alive for only 4 min is not failed back to',
    input: () => input(spec, onPool(1, T0 - 10 * MIN, T0, (at) => (at < T0 - 4 * MIN ? { 0: 'dead' } : {})), [switchedAway(T0 - 10 * MIN, A)]),
    expected: null,
  },
  {
    name: 'primary left 4 min ago is not failed back to even when it looks alive (a silent pool looks alive)',
    input: () => input(spec, onPool(1, T0 - 10 * MIN, T0), [switchedAway(T0 - 4 * MIN, A, 'active-pool-silent')]),
    expected: null,
  },
  {
    name: 'primary that failed twice within the hour needs 10 min of stability',
    input: () => input(spec, onPool(1, T0 - 15 * MIN, T0, (at) => (at < T0 - 8 * MIN ? { 0: 'dead' } : {})),
      [switchedAway(T0 - 50 * MIN, A, 'active-pool-silent'), switchedAway(T0 - 20 * MIN, A, 'active-pool-silent')]),
    expected: null,
  },
  {
    name: 'primary that failed twice within the hour is failed back to after 10 min of stability',
    input: () => input(spec, onPool(1, T0 - 15 * MIN, T0, (at) => (at < T0 - 10 * MIN ? { 0: 'dead' } : {})),
      [switchedAway(T0 - 50 * MIN, A, 'active-pool-silent'), switchedAway(T0 - 20 * MIN, A, 'active-pool-silent')]),
    expected: { kind: 'switch-pool', reason: 'preferred-pool-stable', params: { poolIndex: 0 } },
  },
  {
    name: 'a pool left for a problem 3 min ago is chosen after a clean one',
    input: () => input(spec, [...hashing(T0 - 3 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead' } })],
      [switchedAway(T0 - 3 * MIN, B, 'active-pool-silent')]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 2 } },
  },
  {
    // Was a switch to the first pool: with nothing saying which pool is in use, a switch would be a guess (issue 15).
    name: 'a firmware flagging no pool active for 30 s after shares on pool 0 is no verdict: no switch on a guess',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - 40 * SEC), ...series(T0 - 30 * SEC, T0, () => ({ active: null }))]),
    expected: null,
  },
  {
    name: 'no pool flagged active and every pool dead raises one alert',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - 40 * SEC), ...series(T0 - 30 * SEC, T0, () => ({ active: null, states: { 0: 'dead', 1: 'dead', 2: 'disabled' } }))]),
    expected: { kind: 'alert', reason: 'no-healthy-pool', params: { subject: 'no-active-pool' } },
  },
  {
    name: 'no active pool reported while a pool keeps accepting shares is no verdict (firmware without the flag)',
    input: () => input(spec, series(T0 - 10 * MIN, T0, (at) => ({
      pools: poolsOf({ active: null }).map((p) => (p.index === 0 ? { ...p, accepted: acceptedAt(at) } : p)),
    }))),
    expected: null,
  },
  {
    name: 'no active pool for 20 s is not judged yet',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - 30 * SEC), ...series(T0 - 20 * SEC, T0, () => ({ active: null }))]),
    expected: null,
  },
  {
    name: 'hashing on a pool outside the group list switches to the preferred pool',
    input: () => {
      const rogue: PoolObservation = { index: 3, url: 'stratum+tcp://rogue.example:3333', user: 'x', state: 'alive', active: true, accepted: 5 };
      const pools = [...poolsOf({ active: null }), rogue];
      return input(spec, series(T0 - 10 * MIN, T0, () => ({ pools })));
    },
    expected: { kind: 'switch-pool', reason: 'active-pool-not-in-spec', params: { poolIndex: 0, fromPoolIndex: 3 } },
  },
  {
    name: 'pools missing on the miner are set without their passwords',
    input: () => input(spec, hashing(T0 - 10 * MIN, T0, (at) => ({ pools: poolsOf({ accepted: acceptedAt(at) }).slice(0, 2) }))),
    expected: {
      kind: 'set-pools',
      reason: 'spec-pools-missing',
      params: { pools: POOLS.map((p) => ({ url: p.url, user: p.user })), missing: [POOLS[2]!.url] },
    },
  },
  {
    name: 'pools missing on the miner are set at most once per 10 min',
    input: () => input(spec, hashing(T0 - 10 * MIN, T0, (at) => ({ pools: poolsOf({ accepted: acceptedAt(at) }).slice(0, 2) })),
      [action(T0 - 9 * MIN, 'set-pools', 'failover')]),
    expected: null,
  },
  {
    name: 'a set-pools the miner refused (read-only API) 1 min ago is not sent again on the next reconcile',
    input: () => input(spec, hashing(T0 - 10 * MIN, T0, (at) => ({ pools: poolsOf({ accepted: acceptedAt(at) }).slice(0, 2) })),
      [action(T0 - MIN, 'set-pools', 'failover', {}, { outcome: 'failed', cause: "Access denied to 'addpool' command (Code 45)" })]),
    expected: null,
  },
  {
    name: 'after two refused set-pools in a row the next waits twice the cooldown (15 min is too soon)',
    input: () => input(spec, hashing(T0 - 10 * MIN, T0, (at) => ({ pools: poolsOf({ accepted: acceptedAt(at) }).slice(0, 2) })),
      [action(T0 - 30 * MIN, 'set-pools', 'failover', {}, { outcome: 'failed' }), action(T0 - 15 * MIN, 'set-pools', 'failover', {}, { outcome: 'rejected' })]),
    expected: null,
  },
  {
    name: 'a refused set-pools is tried again once the cooldown has passed',
    input: () => input(spec, hashing(T0 - 10 * MIN, T0, (at) => ({ pools: poolsOf({ accepted: acceptedAt(at) }).slice(0, 2) })),
      [action(T0 - 11 * MIN, 'set-pools', 'failover', {}, { outcome: 'failed' })]),
    expected: { kind: 'set-pools', reason: 'spec-pools-missing' },
  },
  {
    name: 'a reading whose pools command failed is no verdict on the pools',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { pools: [], errorKinds: ['miner_error'] })]),
    expected: null,
  },
  {
    name: 'a miner with no pool configured at all gets the group list',
    input: () => input(spec, series(T0 - 2 * MIN, T0, () => ({ pools: [] }))),
    expected: { kind: 'set-pools', reason: 'spec-pools-missing', params: { missing: POOLS.map((p) => p.url) } },
  },
  {
    name: 'pool URLs match regardless of scheme, case and trailing slash',
    input: () => {
      const pools = poolsOf({ accepted: 1, states: { 0: 'dead' } }).map((p) => ({ ...p, url: p.url.replace('stratum+tcp://', '').toUpperCase() + '/' }));
      return input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { pools })]);
    },
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
  {
    name: 'stale data (latest reading 40 s old) makes no decision',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - 50 * SEC), obs(T0 - 40 * SEC, { states: { 0: 'dead' } })]),
    expected: null,
  },
  {
    name: 'a reading stamped 3 s ahead of the controller clock (agent clock skew) is acted on',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0 + 3 * SEC, { states: { 0: 'dead' } })]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
  {
    name: 'a reading stamped 60 s ahead of the controller clock is left out',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0 + 60 * SEC, { states: { 0: 'dead' } })]),
    expected: null,
  },
  {
    name: 'an offline agent makes no decision',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead' } })], [], false),
    expected: null,
  },
  {
    name: 'an unreachable miner makes no decision',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { reachable: false })]),
    expected: null,
  },
  {
    name: 'a quarantined rig makes no decision',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead' } })], [action(T0 - 5 * MIN, 'quarantine', 'watchdog')]),
    expected: null,
  },
  {
    name: 'a released quarantine lets failover act again',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead' } })],
      [action(T0 - 5 * MIN, 'quarantine', 'watchdog'), action(T0 - 2 * MIN, 'release', 'operator')]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
  {
    name: 'a rig stopped for temperature makes no decision',
    input: () => input(spec, silentFor(2 * MIN), [action(T0 - 3 * MIN, 'stop-mining', 'thermal')]),
    expected: null,
  },
  {
    name: 'disabled by its parameters, failover makes no decision',
    input: () => input(rigSpec({ policy: { failover: { enabled: false } } }), [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { states: { 0: 'dead' } })]),
    expected: null,
  },
  {
    name: 'a miner without devices at 0 H/s on a dead pool its lcd still names gets no switch (cgminer 4.11.1)',
    input: () => input(spec, series(T0 - 10 * MIN, T0).map((o) => noDevices(o.at, o.at >= T0 - 2 * MIN ? { 0: 'dead' } : {}))),
    expected: null,
  },
  {
    name: 'a miner without devices at 0 H/s is never called silent (cgminer 4.11.1)',
    input: () => input(spec, series(T0 - 10 * MIN, T0).map((o) => noDevices(o.at))),
    expected: null,
  },
  {
    // A dead until 3 min ago, then both Stratum Active: what bfgminer shows for minutes after its own failover.
    name: 'both pools Stratum Active, shares moving on B and pool 0 guessed by priority: on B already, no switch (bfgminer)',
    input: () => input(twoPools, series(T0 - 10 * MIN, T0, () => ({}), 5 * SEC)
      .map((o) => cpuMiner(o.at, 1, cpuShares(o.at), 1e6, o.at < T0 - 3 * MIN ? { 0: 'dead' } : {}))),
    expected: null,
  },
  {
    name: 'shares last on A, only B Stratum Active, A dead: the pool in use is uncertain and the miner moved itself: no command',
    input: () => input(spec, [
      ...hashing(T0 - 10 * MIN, T0 - 5 * SEC, () => ({}), 5 * SEC).map((o) => ({ ...o, pools: o.pools.map((p) => ({ ...p, stratumActive: p.index === 0, activeEvidence: 'stratum-active' })) })),
      ((o) => ({ ...o, pools: o.pools.map((p) => ({ ...p, active: p.index === 1, stratumActive: p.index === 1, activeEvidence: 'stratum-active', accepted: p.index === 0 ? acceptedAt(T0 - 5 * SEC) : 0 })) }))(obs(T0, { states: { 0: 'dead' } })),
    ]),
    expected: null,
  },
  {
    name: 'no share for 40 s while the 20 s rate fell from 1 to 0.04 MH/s is not silent (expected one every 54 s)',
    input: () => input(twoPools, series(T0 - 10 * MIN, T0, () => ({}), 5 * SEC)
      .map((o) => cpuMiner(o.at, 0, cpuShares(o.at, T0 - 40 * SEC), o.at > T0 - 40 * SEC ? 0.04e6 : 1e6))),
    expected: null,
  },
  {
    name: 'no share for 40 s at a steady 1 MH/s (expected one every 2.1 s) is silent',
    input: () => input(twoPools, series(T0 - 10 * MIN, T0, () => ({}), 5 * SEC).map((o) => cpuMiner(o.at, 0, cpuShares(o.at, T0 - 40 * SEC), 1e6))),
    expected: { kind: 'switch-pool', reason: 'active-pool-silent', params: { poolIndex: 1, confidence: 'confident' } },
  },
  {
    name: 'a pool the miner left by itself, alive again for 5 min, is not failed back to within its own 7 min failback grace',
    input: () => input(spec, [
      ...hashing(T0 - 20 * MIN, T0 - 12 * MIN - POLL),
      ...onPool(1, T0 - 12 * MIN, T0, (at) => (at < T0 - 5 * MIN ? { 0: 'dead' } : {})),
    ]),
    expected: null,
  },
  {
    name: 'a pool the miner left by itself, alive again for 7 min without the miner failing back, is failed back to',
    input: () => input(spec, [
      ...hashing(T0 - 20 * MIN, T0 - 12 * MIN - POLL),
      ...onPool(1, T0 - 12 * MIN, T0, (at) => (at < T0 - 7 * MIN ? { 0: 'dead' } : {})),
    ]),
    expected: { kind: 'switch-pool', reason: 'preferred-pool-stable', params: { poolIndex: 0, fromPoolIndex: 1 } },
  },
  {
    name: 'after three switches of ours within 30 min a fourth problem raises one no-healthy-pool alert instead',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })], [
      action(T0 - 25 * MIN, 'switch-pool', 'failover', { fromUrl: A }, { reason: 'active-pool-dead' }),
      action(T0 - 15 * MIN, 'switch-pool', 'failover', { fromUrl: B }, { reason: 'active-pool-dead' }),
      action(T0 - 5 * MIN, 'switch-pool', 'failover', { fromUrl: A }, { reason: 'active-pool-dead' }),
    ]),
    expected: { kind: 'alert', reason: 'no-healthy-pool', params: { subject: 'active-pool-dead' } },
  },
  {
    name: 'switches of an operator do not use up the failover budget',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })], [
      action(T0 - 25 * MIN, 'switch-pool', 'operator', { fromUrl: A }),
      action(T0 - 15 * MIN, 'switch-pool', 'operator', { fromUrl: B }),
      action(T0 - 5 * MIN, 'switch-pool', 'operator', { fromUrl: A }),
    ]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
  {
    name: 'a second switch of ours within the window doubles the cooldown: 90 s after it, no switch yet',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })], [
      action(T0 - 12 * MIN, 'switch-pool', 'failover', { fromUrl: A }, { reason: 'active-pool-dead' }),
      action(T0 - 90 * SEC, 'switch-pool', 'failover', { fromUrl: A }, { reason: 'active-pool-dead' }),
    ]),
    expected: null,
  },
  {
    name: 'a second switch of ours within the window doubles the cooldown: 130 s after it, the next switch goes',
    input: () => input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })], [
      action(T0 - 12 * MIN, 'switch-pool', 'failover', { fromUrl: A }, { reason: 'active-pool-dead' }),
      action(T0 - 130 * SEC, 'switch-pool', 'failover', { fromUrl: A }, { reason: 'active-pool-dead' }),
    ]),
    expected: { kind: 'switch-pool', reason: 'active-pool-dead', params: { poolIndex: 1 } },
  },
];

describe('failover-policy', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('failover-policy: %s', (_name, s) => {
    const decisions = policy.evaluate(s.input(), s.now ?? T0);
    if (s.expected === null) {
      expect(decisions).toEqual([]);
      return;
    }
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ policy: 'failover', kind: s.expected.kind, reason: s.expected.reason, rigId: 'rig-7' });
    if (s.expected.params) expect(decisions[0]!.params).toMatchObject(s.expected.params);
  });

  it('failover-policy: the message names the rig, the pools, the cause and the evidence', () => {
    const [d] = policy.evaluate(input(spec, silentFor(31 * SEC, SEC)), T0);
    expect(d!.message).toMatch(
      new RegExp('^rig rig-7: active pool stratum\\+tcp://a\\.pool\\.example:3333 has accepted no share for 31 s while the miner is hashing; ' +
        'switching to pool 1 \\(stratum\\+tcp://b\\.pool\\.example:3333\\); evidence \\(confident\\): shares last moved on pool 0 alone, 31 s ago; '),
    );
    expect(d).toMatchObject({ severity: 'warning', minerId: '10.0.0.7:4028', at: T0 });
    expect(d!.kind === 'switch-pool' && d.params.evidence).toEqual(expect.arrayContaining([
      'no share on pool 0 for 31 s',
      'the miner hashed at 100 TH/s over the silence (current rate)',
      'expected a share every 1.0 s (measured 1.0 s before the gap)',
    ]));
  });

  it('failover-policy: a dead-pool switch carries its evidence and confidence', () => {
    const [d] = policy.evaluate(input(spec, [...hashing(T0 - 10 * MIN, T0 - POLL), obs(T0, { accepted: acceptedAt(T0), states: { 0: 'dead' } })]), T0);
    expect(d).toMatchObject({ kind: 'switch-pool', reason: 'active-pool-dead', params: { confidence: 'confident' } });
    expect(d!.kind === 'switch-pool' && d.params.evidence).toEqual(expect.arrayContaining(['the firmware flags pool 0 active', 'pool 0 Status is Dead']));
    expect(d!.message).toContain('evidence (confident): ');
  });

  it('failover-policy: a primary bouncing every 20 s for 30 min causes one switch away, then one fail back once stable', () => {
    // The miner applies our switches at the next poll and has no failover of its own.
    let active = 0;
    let history = EMPTY_HISTORY;
    const switches: { at: number; reason: string; to: number }[] = [];
    for (let at = T0; at <= T0 + 50 * MIN; at += POLL) {
      const bouncing = at >= T0 + 2 * MIN && at < T0 + 32 * MIN;
      const primary = bouncing && Math.floor((at - T0) / (20 * SEC)) % 2 === 0 ? 'dead' : 'alive';
      const o = obs(at, { active, accepted: acceptedAt(at) + active * 1_000_000, states: { 0: primary } });
      history = appendObservation(history, o);
      for (const d of policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, at)) {
        history = appendAction(history, actionFromDecision(d));
        if (d.kind === 'switch-pool') {
          switches.push({ at: at - T0, reason: d.reason, to: d.params.poolIndex });
          active = d.params.poolIndex;
        }
      }
    }
    expect(switches.map((x) => `${x.reason}->${x.to}`)).toEqual(['active-pool-dead->1', 'preferred-pool-stable->0']);
    // Back only after the primary has been alive for its stable period (5 min) since the bouncing stopped.
    expect(switches[1]!.at).toBeGreaterThanOrEqual(32 * MIN + 5 * MIN);
  });

  it('failover-policy: every pool failing soon after the miner moves to it: switches stay within the budget, then one alert per 15 min', () => {
    // The miner follows our switches at the next poll; whichever pool it uses dies 30 s later (no pool is healthy
    // for long). Without damping this would ping-pong every cooldown.
    let active = 0;
    let since = T0;
    let history = EMPTY_HISTORY;
    const decisions: { at: number; kind: string; reason: string }[] = [];
    for (let at = T0; at <= T0 + 60 * MIN; at += POLL) {
      const states: Partial<Record<number, PoolObservation['state']>> = { [active]: at - since >= 30 * SEC ? 'dead' : 'alive' };
      const o = obs(at, { active, accepted: acceptedAt(at) + active * 1_000_000, states });
      history = appendObservation(history, o);
      for (const d of policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, at)) {
        history = appendAction(history, actionFromDecision(d));
        decisions.push({ at, kind: d.kind, reason: d.reason });
        if (d.kind === 'switch-pool') {
          active = d.params.poolIndex;
          since = at + POLL;
        }
      }
    }
    const switches = decisions.filter((d) => d.kind === 'switch-pool');
    const alerts = decisions.filter((d) => d.kind === 'alert');
    for (const s of switches) expect(switches.filter((x) => x.at <= s.at && s.at - x.at < 30 * MIN).length).toBeLessThanOrEqual(3);
    // Seen: 3 switches in the first 4 min, an alert, one more 15 min later, 3 switches once the window renews ...
    expect(switches.length).toBeLessThanOrEqual(6);
    expect(alerts.map((a) => a.reason)).toEqual(alerts.map(() => 'no-healthy-pool'));
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < alerts.length; i++) expect(alerts[i]!.at - alerts[i - 1]!.at).toBeGreaterThanOrEqual(15 * MIN);
  });

  it('failover-policy: the same input and clock give the same decisions', () => {
    const i = input(spec, silentFor(45 * SEC));
    expect(policy.evaluate(i, T0)).toEqual(policy.evaluate(i, T0));
  });

  it('failover-policy: fleet-wide defaults passed to the constructor apply under the rig overrides', () => {
    const strict = new FailoverPolicy({ failover: { silentAfterMs: 20 * SEC } });
    expect(strict.evaluate(input(spec, silentFor(25 * SEC, 5 * SEC)), T0)).toHaveLength(1);
    const relaxedRig = rigSpec({ policy: { failover: { silentAfterMs: 60 * SEC } } });
    expect(strict.evaluate(input(relaxedRig, silentFor(25 * SEC, 5 * SEC)), T0)).toEqual([]);
  });
});
