import { DEFAULT_POLICY_PARAMS, resolveParams } from './policy-defaults';
import { normalizePoolUrl } from './pool-identity';

describe('policy-defaults', () => {
  it('policy-defaults: no layers give the defaults', () => {
    expect(resolveParams()).toEqual(DEFAULT_POLICY_PARAMS);
  });

  it('policy-defaults: later layers win key by key, untouched keys keep their defaults', () => {
    const params = resolveParams({ thermal: { highC: 85, lowC: 72 } }, undefined, { thermal: { highC: 83 } });
    expect(params.thermal).toMatchObject({ highC: 83, lowC: 72, criticalC: DEFAULT_POLICY_PARAMS.thermal.criticalC });
    expect(params.failover).toEqual(DEFAULT_POLICY_PARAMS.failover);
  });

  it('policy-defaults: a ladder override replaces the whole ladder', () => {
    const ladder = [{ action: 'reboot-host' as const, graceMs: 60_000 }];
    expect(resolveParams({ watchdog: { ladder } }).watchdog.ladder).toEqual(ladder);
  });

  it('policy-defaults: resolving never changes the defaults', () => {
    const before = JSON.stringify(DEFAULT_POLICY_PARAMS);
    resolveParams({ freshness: { staleAfterMs: 1 } });
    expect(JSON.stringify(DEFAULT_POLICY_PARAMS)).toBe(before);
  });

  it.each([
    ['stratum+tcp://Pool.Example:3333', 'pool.example:3333'],
    ['stratum2+ssl://pool.example:443/', 'pool.example:443'],
    ['  pool.example:3333//  ', 'pool.example:3333'],
    ['POOL.EXAMPLE:3333', 'pool.example:3333'],
  ])('policy-defaults: pool URL %p compares as %p', (url, normalized) => {
    expect(normalizePoolUrl(url)).toBe(normalized);
  });
});
