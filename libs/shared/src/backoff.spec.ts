import { Backoff, backoffBaseMs, backoffDelayMs, reconnectWithBackoff } from './backoff';

/** A fixed sequence of "random" numbers, repeated. */
const sequence = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('backoff', () => {
  it.each<[string, number, number]>([
    ['the first retry waits the initial time', 0, 1000],
    ['then doubles', 1, 2000],
    ['and doubles again', 3, 8000],
    ['up to the cap', 4, 10_000],
    ['and stays there however long it fails', 500, 10_000],
    ['a negative attempt counts as the first', -3, 1000],
  ])('base: %s', (_name, attempt, expected) => {
    expect(backoffBaseMs(attempt, { initialMs: 1000, maxMs: 10_000 })).toBe(expected);
  });

  it.each<[string, number, number, number]>([
    ['random 0 gives the full base', 0, 0.5, 4000],
    ['random near 1 gives base x (1 - jitter)', 0.999_999, 0.5, 2000],
    ['half way', 0.5, 0.5, 3000],
    ['no jitter: the plain schedule', 0.7, 0, 4000],
    ['full jitter can go down to nothing', 0.999_999, 1, 0],
  ])('delay: %s', (_name, random, jitter, expected) => {
    expect(backoffDelayMs(2, { initialMs: 1000, maxMs: 10_000, jitter, random: () => random })).toBe(expected);
  });

  it('a schedule grows per failure, spreads each wait within its bounds, and starts over after a success', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 10_000, random: sequence(0, 0.5, 0.25, 0.999_999, 0) });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1000, 1500, 3500, 4000, 10_000]);
    expect(b.attempts).toBe(5);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(1000);
  });

  it('agents retrying together are spread over the window instead of coming back at one instant', () => {
    // 1,000 agents that lost the broker at once, each with its own draw, at their third retry (base 4 s).
    let seed = 7;
    const lcg = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const waits = Array.from({ length: 1000 }, () => backoffDelayMs(2, { initialMs: 1000, maxMs: 10_000, random: lcg }));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(4000);
    // No 100 ms slot of the 2 s window holds more than a tenth of them (a plain doubling puts all 1,000 in one).
    const slots = new Map<number, number>();
    for (const w of waits) slots.set(Math.floor(w / 100), (slots.get(Math.floor(w / 100)) ?? 0) + 1);
    expect(Math.max(...slots.values())).toBeLessThan(100);
  });

  it.each<[string, ConstructorParameters<typeof Backoff>[0], RegExp]>([
    ['no initial wait', { initialMs: 0, maxMs: 10 }, /0 < initialMs <= maxMs/],
    ['a cap under the initial wait', { initialMs: 100, maxMs: 10 }, /0 < initialMs <= maxMs/],
    ['a shrinking factor', { initialMs: 1, maxMs: 10, factor: 0.5 }, /factor must be at least 1/],
    ['jitter over 1', { initialMs: 1, maxMs: 10, jitter: 1.5 }, /jitter must be from 0 to 1/],
  ])('refuses %s', (_name, options, message) => {
    expect(() => new Backoff(options)).toThrow(message);
  });
});

describe('reconnectWithBackoff', () => {
  it('sets each reconnect wait of an MQTT.js-like client: jittered, growing while it fails, back to the start once connected', () => {
    const listeners = new Map<string, Array<() => void>>();
    const client = { options: {} as { reconnectPeriod?: number }, on: (e: 'connect' | 'close', l: () => void) => listeners.set(e, [...(listeners.get(e) ?? []), l]) };
    const fire = (e: string): void => { for (const l of listeners.get(e) ?? []) l(); };
    reconnectWithBackoff(client, new Backoff({ initialMs: 1000, maxMs: 10_000, random: () => 0.5 }));
    expect(client.options.reconnectPeriod).toBe(750);
    fire('connect');
    expect(client.options.reconnectPeriod).toBe(750); // the first wait after losing this connection
    fire('close'); // MQTT.js has scheduled its reconnect with 750; the one after that waits longer
    expect(client.options.reconnectPeriod).toBe(1500);
    fire('close');
    fire('close');
    expect(client.options.reconnectPeriod).toBe(6000);
    fire('connect');
    expect(client.options.reconnectPeriod).toBe(750);
  });
});
