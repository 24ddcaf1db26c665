/**
 * Builders for the policy scenario tests: one rig, a fixed clock, observations every 10 s. Not exported from
 * the package.
 */
import { actionFromDecision, appendAction, appendObservation, EMPTY_HISTORY } from '../rig-history';
import type {
  ActionRecord,
  BoardObservation,
  Decision,
  EpochMs,
  FanObservation,
  Policy,
  PolicyInput,
  PoolObservation,
  PoolSpec,
  PoolState,
  RigHistory,
  RigObservation,
  RigSpec,
} from '../policy-types';

/** The fixed clock: 2027-01-15T08:00:00Z. */
export const T0: EpochMs = 1_800_000_000_000;
export const SEC = 1_000;
export const MIN = 60 * SEC;
export const POLL = 10 * SEC;

export const POOLS: readonly PoolSpec[] = [
  { url: 'stratum+tcp://a.pool.example:3333', user: 'farm.rig7', password: 'x-secret' },
  { url: 'stratum+tcp://b.pool.example:3333', user: 'farm.rig7', password: 'x-secret' },
  { url: 'stratum+tcp://c.pool.example:3333', user: 'farm.rig7' },
];

export const TH = 1e12;

export function rigSpec(overrides: Partial<RigSpec> = {}): RigSpec {
  return {
    rigId: 'rig-7',
    kind: 'asic',
    group: 'hall-a',
    pools: POOLS,
    profiles: [
      { name: 'eco', asic: { frequencyMhz: 500 }, expectedHashrateHs: 70 * TH },
      { name: 'normal', asic: { frequencyMhz: 600 }, expectedHashrateHs: 85 * TH },
      { name: 'turbo', asic: { frequencyMhz: 700 }, expectedHashrateHs: 100 * TH },
    ],
    expectedHashrateHs: 100 * TH,
    ...overrides,
  };
}

export interface PoolSetup {
  /** The active pool's index; null for none. Default 0. */
  readonly active?: number | null;
  readonly states?: Partial<Record<number, PoolState>>;
  /** Counters of the active pool (the others stay at 0). */
  readonly accepted?: number;
  readonly rejected?: number;
  /** Overrides the pools entirely. */
  readonly pools?: readonly PoolObservation[];
}

export function poolsOf(setup: PoolSetup = {}): PoolObservation[] {
  if (setup.pools) return [...setup.pools];
  const active = setup.active === undefined ? 0 : setup.active;
  return POOLS.map((p, index) => ({
    index,
    url: p.url,
    user: p.user,
    state: setup.states?.[index] ?? 'alive',
    active: index === active,
    accepted: index === active ? (setup.accepted ?? 0) : 0,
    rejected: index === active ? (setup.rejected ?? 0) : 0,
  }));
}

export function boards(count: number, tempC: number, overrides: Partial<Record<number, Partial<BoardObservation>>> = {}): BoardObservation[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    state: 'ok' as const,
    hashrateHs: (100 * TH) / count,
    tempC,
    ...overrides[index],
  }));
}

export const FANS: readonly FanObservation[] = [
  { index: 0, rpm: 4800 },
  { index: 1, rpm: 4800 },
];

export interface ObsSetup extends PoolSetup {
  readonly reachable?: boolean;
  readonly tempC?: number;
  readonly boards?: readonly BoardObservation[];
  readonly fans?: readonly FanObservation[];
  readonly hashrateHs?: number;
  /** Miner start; default a day before T0. */
  readonly startedAt?: EpochMs;
  readonly hwErrors?: number;
  readonly errorKinds?: readonly string[];
}

/** A reading at `at`: reachable, 3 boards at 65 °C, 100 TH/s, 2 fans, pool 0 active. */
export function obs(at: EpochMs, setup: ObsSetup = {}): RigObservation {
  const startedAt = setup.startedAt ?? T0 - 24 * 60 * MIN;
  if (setup.reachable === false) {
    return {
      at, seq: at / SEC, rigId: 'rig-7', minerId: '10.0.0.7:4028', reachable: false,
      errorKinds: setup.errorKinds ?? ['timeout'], boards: [], fans: [], pools: [],
    };
  }
  return {
    at,
    seq: at / SEC,
    rigId: 'rig-7',
    minerId: '10.0.0.7:4028',
    reachable: true,
    errorKinds: setup.errorKinds ?? [],
    uptimeS: Math.max(0, Math.floor((at - startedAt) / SEC)),
    hashrateHs: setup.hashrateHs ?? 100 * TH,
    hwErrors: setup.hwErrors ?? 0,
    boards: [...(setup.boards ?? boards(3, setup.tempC ?? 65))],
    fans: [...(setup.fans ?? FANS)],
    pools: poolsOf(setup),
  };
}

/** Observations every `every` ms from `from` to `to` inclusive; `setup` sees the time and the index. */
export function series(from: EpochMs, to: EpochMs, setup: (at: EpochMs, i: number) => ObsSetup = () => ({}), every = POLL): RigObservation[] {
  const out: RigObservation[] = [];
  for (let at = from, i = 0; at <= to; at += every, i++) out.push(obs(at, setup(at, i)));
  return out;
}

/** A healthy pool 0 accepting a share every poll, from `from` to `to`. */
export function hashing(
  from: EpochMs,
  to: EpochMs,
  extra: (at: EpochMs, i: number) => ObsSetup = () => ({}),
  every = POLL,
): RigObservation[] {
  return series(from, to, (at, i) => ({ accepted: acceptedAt(at), ...extra(at, i) }), every);
}

/** The accepted counter of a steadily hashing pool: one more share per second. */
export function acceptedAt(at: EpochMs): number {
  return Math.round((at - T0) / SEC) + 100_000;
}

export function action(at: EpochMs, kind: ActionRecord['kind'], by: ActionRecord['by'], params: Record<string, unknown> = {}, extra: Partial<ActionRecord> = {}): ActionRecord {
  return { at, kind, by, reason: extra.reason ?? 'test', params, ...extra };
}

export function input(spec: RigSpec, observations: readonly RigObservation[], actions: readonly ActionRecord[] = [], agentOnline?: boolean): PolicyInput {
  const latest = observations[observations.length - 1];
  return {
    spec,
    status: { rigId: spec.rigId, ...(latest ? { latest } : {}), ...(agentOnline !== undefined ? { agentOnline } : {}) },
    history: { observations, actions },
  };
}

/** Deterministic PRNG for the property tests (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Drives a policy through time the way the controller would: append each observation to a bounded history,
 * evaluate, record every decision as an action. Returns every decision with the history at the end.
 */
export function drive(
  policy: Policy,
  spec: RigSpec,
  observations: readonly RigObservation[],
  onDecisions: (decisions: Decision[], at: EpochMs) => void = () => undefined,
): { decisions: Decision[]; history: RigHistory } {
  let history = EMPTY_HISTORY;
  const all: Decision[] = [];
  for (const o of observations) {
    history = appendObservation(history, o);
    const decisions = policy.evaluate({ spec, status: { rigId: spec.rigId, latest: o }, history }, o.at);
    for (const d of decisions) history = appendAction(history, actionFromDecision(d));
    all.push(...decisions);
    onDecisions(decisions, o.at);
  }
  return { decisions: all, history };
}
