/** A small deterministic PRNG (mulberry32), so every fuzz run mutates the same way for the same seed. */
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

/** Numbers real firmware has sent or could: uninitialised memory, overflowed counters, IEEE edge cases. */
const HUGE = ['7221068133453555255', '1e165', '-1e308', '1e309', '-0', '18446744073709551615', '-9223372036854775808', '1e-400',
  '3763100756231599921', '-1', '9007199254740993', 'NaN', 'inf', '-inf', 'nan', '0x7fffffff', '1.7976931348623157e308'];

export type Mutation = 'flip' | 'truncate' | 'splice' | 'huge-number' | 'nul' | 'non-utf8' | 'drop-nul' | 'repeat' | 'retype' | 'deep' | 'empty' | 'duplicate-key';
export const MUTATIONS: readonly Mutation[] = ['flip', 'truncate', 'splice', 'huge-number', 'nul', 'non-utf8', 'drop-nul', 'repeat', 'retype', 'deep', 'empty', 'duplicate-key'];

/**
 * One mutation of a recorded reply: byte flips, truncation, splicing with another reply, huge or non-finite numbers
 * in place of real ones, NULs and non-UTF-8 bytes inside, the terminator dropped, a field's type changed, deep
 * nesting. What a dying process, a bad cable or an unknown fork can send.
 */
export function mutateReply(input: Buffer, other: Buffer, random: () => number, kind?: Mutation): { bytes: Buffer; kind: Mutation } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const at = (n: number): number => Math.floor(random() * Math.max(1, n));
  const mutation = kind ?? pick(MUTATIONS);
  const bytes = Buffer.from(input);
  const text = input.toString('latin1');
  switch (mutation) {
    case 'flip': {
      for (let i = 0, n = 1 + at(8); i < n && bytes.length > 0; i++) bytes[at(bytes.length)] = at(256);
      return { bytes, kind: mutation };
    }
    case 'truncate':
      return { bytes: bytes.subarray(0, at(bytes.length)), kind: mutation };
    case 'splice': {
      const cut = at(bytes.length);
      return { bytes: Buffer.concat([bytes.subarray(0, cut), other.subarray(at(other.length))]), kind: mutation };
    }
    case 'huge-number': {
      let count = 0;
      const out = text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, (m) => (random() < 0.15 && count++ < 12 ? pick(HUGE) : m));
      return { bytes: Buffer.from(out, 'latin1'), kind: mutation };
    }
    case 'nul': {
      const i = at(bytes.length);
      return { bytes: Buffer.concat([bytes.subarray(0, i), Buffer.from([0]), bytes.subarray(i)]), kind: mutation };
    }
    case 'non-utf8': {
      const i = at(bytes.length);
      return { bytes: Buffer.concat([bytes.subarray(0, i), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xed, 0xa0, 0x80]), bytes.subarray(i)]), kind: mutation };
    }
    case 'drop-nul':
      return { bytes: Buffer.from(text.replace(/\u0000/g, ''), 'latin1'), kind: mutation };
    case 'repeat':
      return { bytes: Buffer.concat([bytes.subarray(0, Math.max(0, bytes.length - 1)), bytes]), kind: mutation };
    case 'retype': {
      const replacement = pick(['null', '[]', '{}', '"x"', 'true', '[[[[]]]]', '"-5"', '"1e400"', '{"STATUS":"E"}']);
      let done = false;
      const out = text.replace(/:("[^"]*"|-?[\d.]+|true|false|null)/g, (m) => (!done && random() < 0.08 ? ((done = true), `:${replacement}`) : m));
      return { bytes: Buffer.from(out, 'latin1'), kind: mutation };
    }
    case 'deep': {
      const i = at(bytes.length);
      const n = 10 + at(200);
      return { bytes: Buffer.concat([bytes.subarray(0, i), Buffer.from('['.repeat(n) + ']'.repeat(at(n)), 'latin1'), bytes.subarray(i)]), kind: mutation };
    }
    case 'empty':
      return { bytes: Buffer.alloc(0), kind: mutation };
    case 'duplicate-key': {
      const out = text.replace(/\{"STATUS"/, '{"STATUS":"S","STATUS"').replace(/"POOL":(\d+)/, '"POOL":$1,"POOL":-3');
      return { bytes: Buffer.from(out, 'latin1'), kind: mutation };
    }
  }
}
