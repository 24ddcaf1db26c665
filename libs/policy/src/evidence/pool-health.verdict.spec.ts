import { DEFAULT_POLICY_PARAMS } from '../policy-defaults';
import { poolKey } from '../pool-identity';
import type { PoolObservation, RigObservation } from '../policy-types';
import { poolHealthVerdict } from './pool-health.verdict';

const T0 = 1_800_000_000_000;
const SEC = 1000;
const MIN = 60 * SEC;
const P = DEFAULT_POLICY_PARAMS.failover;
const URL = 'stratum+tcp://127.0.0.1:3334';
const KEY = poolKey({ url: URL, user: 'w' });
/** bfgminer's stub-pool difficulty: at 1 MH/s a share every 2.1 s; at 0.04 MH/s every 54 s. */
const DIFF = 0.0005;

interface Step {
  readonly accepted: number;
  readonly rejected?: number;
  /** The miner's 20 s window, H/s. */
  readonly rateHs?: number;
  readonly pool?: Partial<PoolObservation>;
}

/** Readings every 5 s from T0 - spanMs to T0. */
function series(spanMs: number, step: (at: number, i: number) => Step): RigObservation[] {
  const out: RigObservation[] = [];
  for (let at = T0 - spanMs, i = 0; at <= T0; at += 5 * SEC, i++) {
    const s = step(at, i);
    out.push({
      at, rigId: 'r', minerId: 'm', reachable: true, errorKinds: [], boards: [], fans: [],
      ...(s.rateHs !== undefined ? { hashrateWindows: [{ label: '20s', windowS: 20, hashrateHs: s.rateHs }], hashrateHs: s.rateHs } : {}),
      pools: [{
        index: 1, url: URL, user: 'w', state: 'alive', active: true, accepted: s.accepted, rejected: s.rejected ?? 0,
        ...(s.accepted > 0 ? { lastShareDifficulty: DIFF, difficultyAccepted: s.accepted * DIFF } : {}), ...s.pool,
      }],
    });
  }
  return out;
}

/** A share every 2 s (1 MH/s at difficulty 0.0005) until `silentFrom` ms before T0, then none. */
const sharesUntil = (silentFromMs: number) => (at: number) => Math.floor(Math.min(at, T0 - silentFromMs) / (2 * SEC)) - Math.floor((T0 - 10 * MIN) / (2 * SEC));

describe('pool-health-verdict', () => {
  it.each<[string, () => RigObservation[], number | undefined, { value: string; confidence: string }]>([
    ['a pool Status Dead is confidently dead', () => series(MIN, (_at, i) => ({ accepted: i + 1, pool: { state: 'dead' } })), undefined, { value: 'dead', confidence: 'confident' }],
    ['a pool Status Disabled is confidently disabled', () => series(MIN, (_at, i) => ({ accepted: i + 1, pool: { state: 'disabled' } })), undefined, { value: 'disabled', confidence: 'confident' }],
    ['rejecting half of 40 shares over 5 min is rejecting', () => series(5 * MIN, (_at, i) => ({ accepted: 1 + i, rejected: i })), undefined, { value: 'rejecting', confidence: 'confident' }],
    ['a pool not in use is not judged on silence', () => series(10 * MIN, () => ({ accepted: 1, rateHs: 1e6 })), undefined, { value: 'healthy', confidence: 'confident' }],
    ['without Diff1 Shares, no share for 20 s at 1 MH/s (expected every 2.1 s) is not yet silent (18.4 intervals: 39 s)',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(20 * SEC)(at), rateHs: 1e6 })), T0 - 10 * MIN, { value: 'healthy', confidence: 'confident' }],
    ['Diff1 Shares: shares found over 15 s that the pool never answered is silent',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(19 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: sharesUntil(0)(at) * DIFF } })), T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['Diff1 Shares: 2 unanswered shares after 14 s is not yet silent (a round trip in flight)',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(14 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: (sharesUntil(14 * SEC)(at) + (at > T0 - 4 * SEC ? 2 : 0)) * DIFF } })),
      T0 - 10 * MIN, { value: 'healthy', confidence: 'confident' }],
    ['Diff1 Shares: no share for 60 s at a steady 1 MH/s, but the miner found none: its luck, not the pool (no verdict)',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(60 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: sharesUntil(60 * SEC)(at) * DIFF } })),
      T0 - 10 * MIN, { value: 'healthy', confidence: 'uncertain' }],
    ['Diff1 Shares at 0 throughout (a firmware that does not keep it) fall back to the hashrate rule',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(60 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: 0 } })),
      T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['Diff1 Shares in scrypt units (1/256 per accepted difficulty, as an L3+ counts): 7 shares found in 15 s nobody answered is silent',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(19 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: (sharesUntil(0)(at) * DIFF) / 256 } })),
      T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['no share ever accepted and Diff1 Shares still (cgminer 2.11.4 on a CPU at difficulty 1): no verdict, however long',
      () => series(10 * MIN, () => ({ accepted: 0, rateHs: 1.86e6, pool: { diff1Shares: 0 } })), T0 - 10 * MIN, { value: 'healthy', confidence: 'uncertain' }],
    ['no share ever accepted and no Diff1 Shares either: the plain 30 s rule',
      () => series(10 * MIN, () => ({ accepted: 0, rateHs: 1.86e6 })), T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['Diff1 Shares that went back (a restart) fall back to the hashrate rule',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(60 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: at > T0 - 30 * SEC ? 0 : 1 } })),
      T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['no share for 10 s at 1 MH/s is not yet silent (under silentAfterMs)', () => series(10 * MIN, (at) => ({ accepted: sharesUntil(10 * SEC)(at), rateHs: 1e6 })), T0 - 10 * MIN, { value: 'healthy', confidence: 'confident' }],
    ['no share for 40 s while the miner fell to 0.04 MH/s (expected every 54 s) is not silent: never the pool\'s fault',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(40 * SEC)(at), rateHs: at > T0 - 40 * SEC ? 0.04e6 : 1e6 })), T0 - 10 * MIN, { value: 'healthy', confidence: 'confident' }],
    ['the same 40 s at a steady 1 MH/s is silent',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(40 * SEC)(at), rateHs: 1e6 })), T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['no share while the miner hashes at 0 H/s is not the pool\'s fault',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(60 * SEC)(at), rateHs: at > T0 - 60 * SEC ? 0 : 1e6 })), T0 - 10 * MIN, { value: 'healthy', confidence: 'confident' }],
    ['silence counted only from when the pool should have been hashing (switched to 8 s ago)',
      () => series(10 * MIN, () => ({ accepted: 3, rateHs: 1e6 })), T0 - 8 * SEC, { value: 'healthy', confidence: 'confident' }],
    ['without a difficulty, the share interval measured before the gap (2 s x 18.4 = 37 s) decides',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(40 * SEC)(at), rateHs: 1e6, pool: { lastShareDifficulty: undefined } })), T0 - 10 * MIN, { value: 'silent', confidence: 'confident' }],
    ['without a difficulty, a measured interval scaled by the hashrate drop keeps a slowed miner healthy',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(25 * SEC)(at), rateHs: at > T0 - 25 * SEC ? 0.1e6 : 1e6, pool: { lastShareDifficulty: undefined } })),
      T0 - 10 * MIN, { value: 'healthy', confidence: 'confident' }],
    ['only an average since start over the gap: a suspicion, not a verdict',
      () => series(10 * MIN, (at) => ({ accepted: sharesUntil(60 * SEC)(at) })).map((o) => ({ ...o, hashrateWindows: [{ label: 'av', hashrateHs: 1e6 }] })),
      T0 - 10 * MIN, { value: 'silent', confidence: 'uncertain' }],
  ])('pool-health-verdict: %s', (_name, observations, silenceSince, expected) => {
    const v = poolHealthVerdict(observations(), T0, KEY, { params: P, ...(silenceSince !== undefined ? { silenceSince } : {}) });
    expect(v).toMatchObject(expected);
  });

  it('pool-health-verdict: a silence says the gap, the rate over it, the expected interval and the chance', () => {
    const v = poolHealthVerdict(series(10 * MIN, (at) => ({ accepted: sharesUntil(40 * SEC)(at), rateHs: 1e6 })), T0, KEY, { params: P, silenceSince: T0 - 10 * MIN });
    expect(v.evidence).toEqual([
      'pool 1 Status is Alive',
      'no share on pool 1 for 40 s',
      'the miner hashed at 1 MH/s over the silence (20s window)',
      'expected a share every 2.1 s (difficulty 0.0005 at 1 MH/s)',
      'chance of no share over the gap < 1e-6 (silent below 1e-8, and after at least 12 s)',
    ]);
  });

  it('pool-health-verdict: a silence seen in Diff1 Shares says how many shares went unanswered', () => {
    const v = poolHealthVerdict(series(10 * MIN, (at) => ({ accepted: sharesUntil(19 * SEC)(at), rateHs: 1e6, pool: { diff1Shares: sharesUntil(0)(at) * DIFF } })), T0, KEY,
      { params: P, silenceSince: T0 - 10 * MIN });
    expect(v).toMatchObject({ value: 'silent', confidence: 'confident' });
    expect(v.evidence.at(-1)).toMatch(/^the miner found 10 share\(s\) at difficulty 0.0005 for pool 1 since its last answer \(Diff1 Shares [0-9.]+ -> [0-9.]+\), 10 unanswered \(silent from 3\)$/);
  });
});
