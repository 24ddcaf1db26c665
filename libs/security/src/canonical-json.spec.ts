import { canonicalJson, isWellFormedString } from './canonical-json';
import { SecurityError } from './security-error';
import { SeededRandom, shuffleKeys } from './testing/seeded-random';

describe('canonical-json', () => {
  it.each([
    ['sorted keys, no whitespace', { b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }, '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}'],
    ['keys in UTF-16 code-unit order', { é: 1, z: 2, Z: 3, '': 4 }, '{"":4,"Z":3,"z":2,"é":1}'],
    ['undefined members are left out', { a: undefined, b: 1 }, '{"b":1}'],
    ['numbers as ECMAScript prints them', [1, -0, 1e21, 0.1, 2 ** 53], '[1,0,1e+21,0.1,9007199254740992]'],
    ['strings escaped as JSON.stringify does', ['a"b\\c\n\u0001', 'ü✓😀'], '["a\\"b\\\\c\\n\\u0001","ü✓😀"]'],
  ])('canonical-json: %s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([
    ['NaN', { a: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['a lone surrogate', { a: '\uD800' }],
    ['a bigint', { a: 1n }],
    ['a Date (not plain)', { a: new Date(0) }],
    ['a function', { a: () => 1 }],
  ])('canonical-json: %s has no canonical form and throws a SecurityError', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(SecurityError);
  });

  it('canonical-json: a cycle throws instead of looping', () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    expect(() => canonicalJson(a)).toThrow(/cycle/);
  });

  it('canonical-json: 500 random documents give the same text whatever their key order or whitespace (seed 7)', () => {
    const random = new SeededRandom(7);
    const leaf = (): unknown => random.pick([() => random.string(random.int(0, 8)), () => random.int(-1e6, 1e6), () => random.next() > 0.5, () => null])();
    const tree = (depth: number): unknown => {
      if (depth === 0 || random.next() < 0.3) return leaf();
      if (random.next() < 0.3) return Array.from({ length: random.int(0, 4) }, () => tree(depth - 1));
      return Object.fromEntries(Array.from({ length: random.int(0, 5) }, () => [random.string(random.int(1, 6)), tree(depth - 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const doc = tree(4);
      const reparsed = JSON.parse(JSON.stringify(shuffleKeys(doc, random), null, random.int(0, 4)));
      expect(canonicalJson(reparsed)).toBe(canonicalJson(doc));
    }
  });

  it.each([
    ['plain ASCII', 'abc', true],
    ['a surrogate pair', '😀', true],
    ['a lone high surrogate', 'a\uD800b', false],
    ['a lone low surrogate', '\uDC00', false],
  ])('canonical-json: isWellFormedString of %s is %s', (_name, text, expected) => {
    expect(isWellFormedString(text)).toBe(expected);
  });
});
