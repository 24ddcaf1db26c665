import type { PoolObservation, RigObservation } from '../policy-types';
import { poolInUseVerdict } from './pool-in-use.verdict';

const T0 = 1_800_000_000_000;
const SEC = 1000;
const A = 'stratum+tcp://127.0.0.1:3333';
const B = 'stratum+tcp://127.0.0.1:3334';
const WINDOW = 120 * SEC;

type PoolSetup = Partial<Omit<PoolObservation, 'index' | 'url' | 'user'>>;

function reading(at: number, a: PoolSetup, b: PoolSetup, lcd?: string): RigObservation {
  const pool = (index: number, url: string, s: PoolSetup): PoolObservation => ({ index, url, user: 'w', state: 'alive', active: false, accepted: 0, ...s });
  return {
    at, rigId: 'r', minerId: 'm', reachable: true, errorKinds: [], boards: [], fans: [],
    pools: [pool(0, A, a), pool(1, B, b)],
    ...(lcd ? { currentPoolUrl: lcd } : {}),
  };
}

/** Readings every 5 s for a minute up to T0. */
function minute(setup: (i: number) => [PoolSetup, PoolSetup, string?]): RigObservation[] {
  return Array.from({ length: 13 }, (_, i) => {
    const [a, b, lcd] = setup(i);
    return reading(T0 - 60 * SEC + i * 5 * SEC, a, b, lcd);
  });
}

// What the cgminer driver sends: `active` with the evidence it rests on, the same on every pool.
const stratumFlag = (on: boolean) => ({ active: on, activeEvidence: 'stratum-active', stratumActive: on });
const priorityFlag = (on: boolean) => ({ active: on, activeEvidence: 'priority', stratumActive: true });

describe('pool-in-use-verdict', () => {
  it.each<[string, () => RigObservation[], { index: number | undefined; confidence: string }]>([
    ['lcd "Current Pool" on a dead pool without devices (cgminer 4.11.1 after the kill) is that pool, confidently',
      () => minute(() => [{ state: 'dead', stratumActive: false, active: true, activeEvidence: 'lcd-current-pool' }, { stratumActive: false, activeEvidence: 'lcd-current-pool' }, A]),
      { index: 0, confidence: 'confident' }],
    ['both pools Stratum Active with shares moving on B (bfgminer after its failover) is B, not pool 0 by priority',
      () => minute((i) => [priorityFlag(true), { ...priorityFlag(false), accepted: 40 + i }]), { index: 1, confidence: 'confident' }],
    ['both pools Stratum Active and no share for over 2 min is uncertain',
      () => Array.from({ length: 40 }, (_, i) => reading(T0 - 195 * SEC + i * 5 * SEC, priorityFlag(true), { ...priorityFlag(false), accepted: 40 })),
      { index: undefined, confidence: 'uncertain' }],
    ['shares last on A but only B Stratum Active (right after bfgminer failed over) is uncertain',
      () => minute((i) => (i < 12 ? [{ ...stratumFlag(true), accepted: 10 + i }, stratumFlag(false)] : [{ ...stratumFlag(false), state: 'dead', accepted: 21 }, stratumFlag(true)])),
      { index: 0, confidence: 'uncertain' }],
    ['the one pool with Stratum Active and nothing pointing elsewhere (no share yet) is that pool',
      () => minute(() => [stratumFlag(true), stratumFlag(false)]), { index: 0, confidence: 'confident' }],
    ['the one pool with Stratum Active but Status Dead is only weak evidence: uncertain',
      () => minute(() => [{ ...stratumFlag(true), state: 'dead' }, stratumFlag(false)]), { index: 0, confidence: 'uncertain' }],
    ['getworks moving on B while only A has Stratum Active: the evidence conflicts',
      () => minute((i) => [stratumFlag(true), { ...stratumFlag(false), getworks: i }]), { index: 0, confidence: 'uncertain' }],
    ['Stratum Active and shares agree on A: confident',
      () => minute((i) => [{ ...stratumFlag(true), accepted: i }, stratumFlag(false)]), { index: 0, confidence: 'confident' }],
    ['lcd names A while shares move on B: the evidence conflicts',
      () => minute((i) => [{ active: true, activeEvidence: 'lcd-current-pool' }, { activeEvidence: 'lcd-current-pool', accepted: i }, A]),
      { index: 0, confidence: 'uncertain' }],
    ['a firmware with its own flag and no Stratum Active field naming A, shares on A: confident',
      () => minute((i) => [{ active: true, accepted: i }, {}]), { index: 0, confidence: 'confident' }],
    ['a firmware with its own flag saying no pool is active contradicts the shares: uncertain',
      () => minute((i) => [{ accepted: Math.min(i, 6) }, {}]), { index: 0, confidence: 'uncertain' }],
    ['a difficulty-accepted counter moving is share progress too',
      () => minute((i) => [priorityFlag(true), { ...priorityFlag(false), difficultyAccepted: 0.0005 * i }]), { index: 1, confidence: 'confident' }],
  ])('pool-in-use-verdict: %s', (_name, observations, expected) => {
    const obs = observations();
    const v = poolInUseVerdict(obs, obs[obs.length - 1]!.at, WINDOW);
    expect({ index: v.value?.index, confidence: v.confidence }).toEqual(expected);
    expect(v.evidence.length).toBeGreaterThan(0);
  });

  it('pool-in-use-verdict: the evidence names each vote', () => {
    const obs = minute((i) => [priorityFlag(true), { ...priorityFlag(false), accepted: 40 + i }]);
    expect(poolInUseVerdict(obs, T0, WINDOW).evidence).toEqual([
      'shares last moved on pool 1 alone, 0 s ago',
      'Stratum Active on pools 0, 1: no verdict from it',
    ]);
  });

  it('pool-in-use-verdict: no pool reported is no verdict', () => {
    const empty: RigObservation = { at: T0, rigId: 'r', minerId: 'm', reachable: true, errorKinds: [], boards: [], fans: [], pools: [] };
    expect(poolInUseVerdict([empty], T0, WINDOW)).toEqual({ value: undefined, confidence: 'uncertain', evidence: ['no pool reported'] });
  });
});
