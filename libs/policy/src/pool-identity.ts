import type { PoolObservation, PoolSpec, RigObservation } from './policy-types';

/** Compares pool URLs the way operators mean them: case, scheme and trailing slashes do not matter. */
export function normalizePoolUrl(url: string): string {
  return url.trim().toLowerCase().replace(/^[a-z0-9+.-]+:\/\//, '').replace(/\/+$/, '');
}

export function sameUrl(a: string, b: string): boolean {
  return normalizePoolUrl(a) === normalizePoolUrl(b);
}

/** The miner's pool for a spec pool: same URL and user, else the only pool with that URL. */
export function findPool(pools: readonly PoolObservation[], spec: PoolSpec): PoolObservation | undefined {
  const byUrl = pools.filter((p) => sameUrl(p.url, spec.url));
  return byUrl.find((p) => p.user.trim() === spec.user.trim()) ?? (byUrl.length === 1 ? byUrl[0] : undefined);
}

// Observations are immutable, so what is derived from them is cached by identity (a pure memo, no state).
const keys = new WeakMap<object, string>();
const pools = new WeakMap<RigObservation, ReadonlyMap<string, PoolObservation>>();

/** A stable identity for a pool across observations (the miner may renumber pools after a set-pools). */
export function poolKey(pool: { readonly url: string; readonly user: string }): string {
  let key = keys.get(pool);
  if (key === undefined) {
    key = `${normalizePoolUrl(pool.url)} ${pool.user.trim()}`;
    keys.set(pool, key);
  }
  return key;
}

export function activePool(o: RigObservation): PoolObservation | undefined {
  return o.pools.find((p) => p.active);
}

export function poolByKey(o: RigObservation, key: string): PoolObservation | undefined {
  let byKey = pools.get(o);
  if (!byKey) {
    const map = new Map<string, PoolObservation>();
    for (const p of o.pools) if (!map.has(poolKey(p))) map.set(poolKey(p), p);
    pools.set(o, map);
    byKey = map;
  }
  return byKey.get(key);
}
