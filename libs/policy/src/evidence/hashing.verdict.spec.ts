import type { BoardObservation, HashrateWindowObservation, RigObservation } from '../policy-types';
import { formatHashrate, hashingVerdict, hasEverHashed, meanHashrate, minerHashrate } from './hashing.verdict';

const T0 = 1_800_000_000_000;
const SEC = 1000;

interface Setup {
  readonly windows?: readonly HashrateWindowObservation[];
  readonly hashrateHs?: number;
  readonly avg?: number;
  readonly boards?: readonly BoardObservation[];
  readonly accepted?: number;
}

function reading(at: number, s: Setup): RigObservation {
  return {
    at, rigId: 'r', minerId: 'm', reachable: true, errorKinds: [],
    ...(s.windows ? { hashrateWindows: s.windows } : {}),
    ...(s.hashrateHs !== undefined ? { hashrateHs: s.hashrateHs } : {}),
    ...(s.avg !== undefined ? { hashrateAvgHs: s.avg } : {}),
    boards: [...(s.boards ?? [])],
    fans: [],
    pools: [{ index: 0, url: 'stratum+tcp://a:1', user: 'u', state: 'alive', active: true, ...(s.accepted !== undefined ? { accepted: s.accepted } : {}) }],
  };
}

/** Readings every 5 s over the last minute; `setup(i)` per reading. */
function minute(setup: (i: number) => Setup): RigObservation[] {
  return Array.from({ length: 13 }, (_, i) => reading(T0 - 60 * SEC + i * 5 * SEC, setup(i)));
}

const NO_DEVICE_WINDOWS = [
  { label: '5s', windowS: 5, hashrateHs: 0 },
  { label: '1m', windowS: 60, hashrateHs: 0 },
  { label: 'av', hashrateHs: 0 },
];

describe('hashing-verdict', () => {
  it.each<[string, () => RigObservation[], { value: boolean; confidence: string }, string]>([
    ['cgminer 4.11.1 without devices at 0 H/s in every window is confidently not hashing',
      () => minute(() => ({ windows: NO_DEVICE_WINDOWS, hashrateHs: 0, avg: 0, accepted: 0 })), { value: false, confidence: 'confident' }, 'no devices reported'],
    ['bfgminer at 0.28 MH/s in its 20s window is confidently hashing',
      () => minute(() => ({ windows: [{ label: '20s', windowS: 20, hashrateHs: 0.277e6 }, { label: 'av', hashrateHs: 0.65e6 }], accepted: 0 })),
      { value: true, confidence: 'confident' }, '20s window 277 kH/s'],
    ['shares accepted prove hashing though the rate reads 0.00 MH/s (cgminer 2.x rounding)',
      () => minute((i) => ({ windows: [{ label: 'av', hashrateHs: 0 }], boards: [{ index: 0, state: 'ok', hashrateHs: 0 }], accepted: i })),
      { value: true, confidence: 'confident' }, '12 share(s) accepted over the last 60 s'],
    ['every board dead is confidently not hashing, whatever the summary says',
      () => minute(() => ({ hashrateHs: 90e12, boards: [{ index: 0, state: 'dead' }, { index: 1, state: 'disabled' }] })),
      { value: false, confidence: 'confident' }, 'every board (2) is dead or disabled'],
    ['an average since start alone is hashing, but uncertain',
      () => minute(() => ({ windows: [{ label: 'av', hashrateHs: 0.6e6 }], accepted: 5 })), { value: true, confidence: 'uncertain' }, 'av (since start) 600 kH/s'],
    ['no hashrate and no share at all is no verdict',
      () => minute(() => ({ accepted: 5 })), { value: false, confidence: 'uncertain' }, 'no hashrate reported'],
    ['the boards\' sum stands in for a missing summary rate',
      () => minute(() => ({ boards: [{ index: 0, state: 'ok', hashrateHs: 30e12 }, { index: 1, state: 'ok', hashrateHs: 31e12 }] })),
      { value: true, confidence: 'confident' }, 'sum of the boards 61 TH/s'],
  ])('hashing-verdict: %s', (_name, observations, expected, line) => {
    const v = hashingVerdict(observations(), T0, 60 * SEC);
    expect(v).toMatchObject(expected);
    expect(v.evidence).toContain(line);
  });

  it('hashing-verdict: the shortest labelled window is the current rate, before the driver\'s current rate', () => {
    const o = reading(T0, { windows: [{ label: '5s', windowS: 5, hashrateHs: 7 }, { label: '1m', windowS: 60, hashrateHs: 9 }], hashrateHs: 8 });
    expect(minerHashrate(o)).toEqual({ hs: 7, source: '5s window', current: true });
  });

  it('hashing-verdict: the mean over a period uses its current rates, not the averages since start', () => {
    const obs = [0, 1, 2, 3].map((i) => reading(T0 + i * 5 * SEC, { windows: [{ label: '20s', windowS: 20, hashrateHs: i < 2 ? 1e6 : 0.04e6 }, { label: 'av', hashrateHs: 0.9e6 }] }));
    expect(meanHashrate(obs, T0 + 10 * SEC, T0 + 15 * SEC)).toMatchObject({ hs: 0.04e6, current: true });
    expect(meanHashrate(obs, T0, T0 + 15 * SEC)!.hs).toBeCloseTo(0.52e6);
  });

  it('hashing-verdict: a miner that never hashed has no rate above 0 and no share on record', () => {
    expect(hasEverHashed(minute(() => ({ windows: NO_DEVICE_WINDOWS, avg: 0, accepted: 0 })))).toBe(false);
    expect(hasEverHashed(minute((i) => ({ windows: NO_DEVICE_WINDOWS, avg: 0, accepted: i === 12 ? 1 : 0 })))).toBe(true);
  });

  it.each([
    [0, '0 H/s'],
    [277_000, '277 kH/s'],
    [1_000_000, '1 MH/s'],
    [100e12, '100 TH/s'],
    [98.25e12, '98.3 TH/s'],
  ])('hashing-verdict: %p H/s reads %p', (hs, text) => {
    expect(formatHashrate(hs)).toBe(text);
  });
});
