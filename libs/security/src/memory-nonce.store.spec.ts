import { MemoryNonceStore } from './memory-nonce.store';
import { SeededRandom } from './testing/seeded-random';
import { T0 } from './testing/envelope-fixtures';
import { nonceStoreContract } from './testing/nonce-store.contract';

nonceStoreContract('memory-nonce-store', (capacity) => new MemoryNonceStore({ capacity }));

describe('memory-nonce-store', () => {
  it('memory-nonce-store: capacity must be a positive integer', () => {
    expect(() => new MemoryNonceStore({ capacity: 0 })).toThrow(/capacity/);
  });

  it('memory-nonce-store: random arrivals (seed 99): never a live key answered fresh twice, never above capacity', () => {
    const random = new SeededRandom(99);
    const store = new MemoryNonceStore({ capacity: 50 });
    const accepted = new Map<string, number>();
    let now = T0;
    for (let i = 0; i < 20_000; i++) {
      now += random.int(0, 20);
      const key = `k${random.int(0, 400)}`;
      const previous = accepted.get(key);
      const live = previous !== undefined && previous > now;
      // A replay carries the same signed times, hence the same until.
      const until = live ? previous : now + random.int(1, 5_000);
      const verdict = store.remember(key, until, now);
      if (live) expect(verdict).not.toBe('fresh');
      if (verdict === 'fresh') accepted.set(key, until);
      expect(store.size()).toBeLessThanOrEqual(50);
    }
  });
});
