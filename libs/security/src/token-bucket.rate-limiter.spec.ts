import { TokenBucketRateLimiter } from './token-bucket.rate-limiter';
import { T0 } from './testing/envelope-fixtures';
import { SeededRandom } from './testing/seeded-random';

describe('token-bucket-rate-limiter', () => {
  it('token-bucket-rate-limiter: a burst of 3 then one per 10 s, with the suppressed count on the next allowed event', () => {
    const limiter = new TokenBucketRateLimiter({ burst: 3, perMinute: 6 });
    const first = Array.from({ length: 10 }, () => limiter.take('rig-7:bad_signature', T0));
    expect(first.map((d) => d.allowed)).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(limiter.take('rig-7:bad_signature', T0 + 9_999)).toEqual({ allowed: false, suppressed: 8 });
    expect(limiter.take('rig-7:bad_signature', T0 + 10_000)).toEqual({ allowed: true, suppressed: 8 });
    expect(limiter.take('rig-7:bad_signature', T0 + 10_001)).toEqual({ allowed: false, suppressed: 1 });
  });

  it('token-bucket-rate-limiter: a flood of 1,000 rejections in a minute reports at most burst + refill events', () => {
    const limiter = new TokenBucketRateLimiter({ burst: 5, perMinute: 10 });
    const allowed = Array.from({ length: 1000 }, (_, i) => limiter.take('rig-7:replayed_nonce', T0 + i * 60)).filter((d) => d.allowed);
    expect(allowed.length).toBeLessThanOrEqual(5 + 10);
    expect(allowed.length).toBeGreaterThanOrEqual(14);
  });

  it('token-bucket-rate-limiter: random bursts (seed 11): in any window, allowed <= burst + rate x window', () => {
    const random = new SeededRandom(11);
    const limiter = new TokenBucketRateLimiter({ burst: 4, perMinute: 12 }); // one token per 5 s
    const allowedAt: number[] = [];
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += random.pick([0, 0, 0, 10, 100, 1_000, 7_000]);
      if (limiter.take('rig-7:bad_signature', now).allowed) allowedAt.push(now);
    }
    for (let i = 0; i < allowedAt.length; i++) {
      for (let j = i; j < allowedAt.length && (allowedAt[j] as number) - (allowedAt[i] as number) <= 60_000; j++) {
        const window = (allowedAt[j] as number) - (allowedAt[i] as number);
        expect(j - i + 1).toBeLessThanOrEqual(4 + Math.floor(window / 5_000));
      }
    }
    expect(allowedAt.length).toBeGreaterThan(50);
  });

  it('token-bucket-rate-limiter: keys are independent', () => {
    const limiter = new TokenBucketRateLimiter({ burst: 1, perMinute: 1 });
    expect(limiter.take('rig-7:bad_signature', T0).allowed).toBe(true);
    expect(limiter.take('rig-7:bad_signature', T0).allowed).toBe(false);
    expect(limiter.take('rig-8:bad_signature', T0).allowed).toBe(true);
  });

  it('token-bucket-rate-limiter: a full bucket does not overflow after a long quiet spell', () => {
    const limiter = new TokenBucketRateLimiter({ burst: 2, perMinute: 60 });
    limiter.take('k', T0);
    const later = Array.from({ length: 4 }, () => limiter.take('k', T0 + 3_600_000).allowed);
    expect(later).toEqual([true, true, false, false]);
  });

  it('token-bucket-rate-limiter: a clock stepped back never adds tokens', () => {
    const limiter = new TokenBucketRateLimiter({ burst: 1, perMinute: 1 });
    expect(limiter.take('k', T0).allowed).toBe(true);
    expect(limiter.take('k', T0 - 3_600_000).allowed).toBe(false);
    expect(limiter.take('k', T0 + 1).allowed).toBe(false);
  });

  it('token-bucket-rate-limiter: tracks at most maxKeys keys, forgetting the least recently used', () => {
    const limiter = new TokenBucketRateLimiter({ burst: 1, perMinute: 1, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`, T0);
    expect(limiter.size()).toBe(100);
  });

  it('token-bucket-rate-limiter: nonsense options are refused', () => {
    expect(() => new TokenBucketRateLimiter({ burst: 0, perMinute: 1 })).toThrow(/burst/);
    expect(() => new TokenBucketRateLimiter({ burst: 1, perMinute: 0 })).toThrow(/perMinute/);
  });
});
