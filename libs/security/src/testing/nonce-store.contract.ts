import type { NonceStore } from '../nonce-store';
import { T0 } from './envelope-fixtures';

/**
 * What every NonceStore must do, run against the in-memory and the file-backed store alike (the MQTT.js abstract
 * store pattern): a fake passes the same suite as the real thing.
 */
export function nonceStoreContract(name: string, open: (capacity: number) => NonceStore): void {
  describe(`${name} (NonceStore contract)`, () => {
    it(`${name}: a new key is fresh, the same key again is seen`, () => {
      const store = open(10);
      expect(store.remember('a', T0 + 1000, T0)).toBe('fresh');
      expect(store.remember('a', T0 + 1000, T0 + 1)).toBe('seen');
      expect(store.remember('b', T0 + 1000, T0 + 1)).toBe('fresh');
      expect(store.size()).toBe(2);
    });

    it(`${name}: a key is forgotten once its until has passed, not before`, () => {
      const store = open(10);
      store.remember('a', T0 + 1000, T0);
      expect(store.remember('a', T0 + 1000, T0 + 999)).toBe('seen');
      expect(store.remember('a', T0 + 2000, T0 + 1000)).toBe('fresh');
    });

    it(`${name}: never holds more than capacity keys`, () => {
      const store = open(5);
      for (let i = 0; i < 50; i++) store.remember(`k${i}`, T0 + 10_000 + i, T0);
      expect(store.size()).toBe(5);
    });

    it(`${name}: when full, evicted live keys are refused as saturated, the rest as seen`, () => {
      const store = open(3);
      for (let i = 0; i < 6; i++) expect(store.remember(`k${i}`, T0 + 10_000 + i, T0)).toBe('fresh');
      expect([0, 1, 2, 3, 4, 5].map((i) => store.remember(`k${i}`, T0 + 10_000 + i, T0 + 1))).toEqual(
        ['saturated', 'saturated', 'saturated', 'seen', 'seen', 'seen'],
      );
      expect(store.remember('new-but-old', T0 + 10_001, T0 + 1)).toBe('saturated');
      expect(store.remember('new', T0 + 20_000, T0 + 1)).toBe('fresh');
    });

    it(`${name}: 1,000 keys in, each replay seen, expired ones swept`, () => {
      const store = open(2000);
      for (let i = 0; i < 1000; i++) expect(store.remember(`n${i}`, T0 + 60_000, T0 + i)).toBe('fresh');
      for (let i = 0; i < 1000; i++) expect(store.remember(`n${i}`, T0 + 60_000, T0 + 1000 + i)).toBe('seen');
      expect(store.remember('later', T0 + 200_000, T0 + 60_000)).toBe('fresh');
      expect(store.size()).toBe(1);
    });

    it(`${name}: refuses keys it could not bound`, () => {
      const store = open(10);
      expect(() => store.remember('', T0 + 1, T0)).toThrow(/key/);
      expect(() => store.remember('x'.repeat(513), T0 + 1, T0)).toThrow(/key/);
      expect(() => store.remember('k', Number.NaN, T0)).toThrow(/epoch/);
    });
  });
}
