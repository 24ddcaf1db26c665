import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DriverError } from '@rigwarden/drivers-core';
import { decodeReply, statusEntries } from './cgminer.client';
import { CgminerParseError, decodeCgminerJson, parseCgminerJson } from './cgminer-json.decoder';
import { parseCgminerText } from './cgminer-text.decoder';
import { tokenizeAvalonMm, avalonNumbers } from './avalon-mm.tokenizer';
import { DIALECTS, identifyDialect } from './dialects/dialect-identification';
import { num } from './cgminer-values.util';

describe('cgminer-json: quirks real devices send', () => {
  it('"}{" with no comma between STATS objects', () => {
    expect(decodeCgminerJson('{"STATS":[{"a":1}{"b":2}],"id":1}')).toEqual({ value: { STATS: [{ a: 1 }, { b: 2 }], id: 1 }, repairs: ['missing-comma'] });
  });

  it('bare nan / inf / -inf read as null', () => {
    expect(parseCgminerJson('{"MHS av":nan,"x":inf,"y":-inf,"z":-nan}')).toEqual({ 'MHS av': null, x: null, y: null, z: null });
  });

  it('numbers as strings are read by num()', () => {
    expect(num('  5.0000')).toBe(5);
    expect(num('')).toBeUndefined();
    expect(num('524K')).toBeUndefined();
  });

  it('u64-max best share keeps its magnitude', () => {
    expect((parseCgminerJson('{"Best Share":18446744073709551615}') as Record<string, number>)['Best Share']).toBeCloseTo(1.8446744073709552e19, -5);
  });

  it('"STATUS":"RESTART" as a string is a status entry', () => {
    const reply = decodeReply('{"STATUS":"RESTART","id":1}', { host: 'h', port: 1 });
    expect(statusEntries(reply)).toEqual([{ STATUS: 'RESTART' }]);
  });

  it('invalid {"RESTART","id":1} (cgminer 2.x) and {"BYE","id":1}', () => {
    expect(parseCgminerJson('{"RESTART","id":1}')).toEqual({ STATUS: 'RESTART', id: 1 });
    expect(parseCgminerJson('{"BYE","id":1}')).toEqual({ STATUS: 'BYE', id: 1 });
    expect(parseCgminerJson('{"BYE"}')).toEqual({ STATUS: 'BYE' });
  });

  it('a raw newline and a tab inside a string', () => {
    expect(parseCgminerJson('{"t":"a\nb\tc"}')).toEqual({ t: 'a\nb\tc' });
  });

  it('odd escapes: \\\' is a quote, \\x keeps its backslash', () => {
    expect(parseCgminerJson('{"v":"\\\'2020\\\'","w":"a\\xb"}')).toEqual({ v: "'2020'", w: 'a\\xb' });
  });

  it('a reply truncated after "id" is accepted; truncated elsewhere is a parse error', () => {
    expect(decodeReply('{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[{"Elapsed":5}],"id":0', { host: 'h', port: 1 }))
      .toMatchObject({ id: 0, SUMMARY: [{ Elapsed: 5 }] });
    expect(() => decodeReply('{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[{"Elapsed":5', { host: 'h', port: 1 }))
      .toThrow(expect.objectContaining({ kind: 'parse' }));
  });

  it('"STATUS" as an object', () => {
    const reply = decodeReply('{"STATUS":{"STATUS":"E","Code":45,"Msg":"denied"}}', { host: 'h', port: 1 });
    expect(statusEntries(reply)).toEqual([{ STATUS: 'E', Code: 45, Msg: 'denied' }]);
  });

  it('a trailing NUL and stray bytes after the reply', () => {
    expect(parseCgminerJson('{"a":1}\u0000')).toEqual({ a: 1 });
    expect(decodeCgminerJson('{"a":1}"').repairs).toEqual(['trailing-data']);
  });

  it('"__proto__" from a device never reaches Object.prototype', () => {
    const value = parseCgminerJson('{"__proto__":{"polluted":true},"x":nan}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(value)).toContain('__proto__');
  });

  it('nesting too deep is a parse error, not a stack overflow', () => {
    expect(() => parseCgminerJson('['.repeat(100_000))).toThrow(CgminerParseError);
  });

  it('empty and non-JSON input are parse errors', () => {
    for (const input of ['', '   ', 'hello', '{"a":}', '{"a" 1}', ']']) {
      expect(() => parseCgminerJson(input)).toThrow(CgminerParseError);
    }
  });
});

describe('cgminer-text: plain-text replies', () => {
  it('parses STATUS, bare-named and numbered sections', () => {
    const reply = parseCgminerText('STATUS=S,When=1,Code=7,Msg=2 Pool(s),Description=cgminer 4.11.1|POOL=0,URL=stratum+tcp://a:3333,Status=Alive|POOL=1,URL=b,Status=Dead|\u0000');
    expect(reply).toEqual({
      STATUS: [{ STATUS: 'S', When: 1, Code: 7, Msg: '2 Pool(s)', Description: 'cgminer 4.11.1' }],
      POOLS: [{ POOL: '0', URL: 'stratum+tcp://a:3333', Status: 'Alive' }, { POOL: '1', URL: 'b', Status: 'Dead' }],
    });
    expect(parseCgminerText('STATUS=S,Code=11,Msg=Summary|SUMMARY,Elapsed=5,MHS av=1.5|')['SUMMARY']).toEqual([{ Elapsed: '5', 'MHS av': '1.5' }]);
  });

  it('refuses text that is not a cgminer reply', () => {
    expect(() => parseCgminerText('<html>')).toThrow(CgminerParseError);
  });
});

describe('avalon MM ID tokenizer', () => {
  it('reads Key[value] tokens with spaces, colons, commas and escaped slashes', () => {
    const t = tokenizeAvalonMm('Ver[15-194] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] MGHS[1.5 2.5] FanR[49%] PVT_T[21-80\\/14 0-81]');
    expect(t.get('SYSTEMSTATU')).toBe('Work: In Work, Hash Board: 3 ');
    expect(avalonNumbers(t.get('MGHS'))).toEqual([1.5, 2.5]);
    expect(avalonNumbers(t.get('FanR'))).toEqual([49]);
    expect(t.get('PVT_T')).toBe('21-80\\/14 0-81');
  });

  it('skips words that are not tokens and drops an unterminated value', () => {
    const t = tokenizeAvalonMm('junk Temp[38] nested[a[b]c] TMax[8');
    expect([...t.entries()]).toEqual([['Temp', '38'], ['nested', 'a[b]c']]);
  });
});

/** A tiny deterministic PRNG so a failing case can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzz: truncated and mutated fixtures', () => {
  const root = join(__dirname, '..', 'testdata');
  const samples: { name: string; text: string }[] = [];
  for (const folder of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(root, folder.name)).filter((f) => /\.(json|raw\.txt)$/.test(f))) {
      samples.push({ name: `${folder.name}/${file}`, text: readFileSync(join(root, folder.name, file), 'latin1') });
    }
  }
  const JUNK = ['}', '{', ']', '[', '"', ',', ':', '\\', '\u0000', '\n', 'nan', '}{', '"x"', '-', '1e999', '\u00ff'];

  it('never throws anything but the typed errors, and decoded replies map without throwing', () => {
    const random = mulberry32(20261122);
    let cases = 0;
    for (const { name, text } of samples) {
      for (let round = 0; round < 40; round++) {
        let input: string;
        const r = random();
        if (r < 0.35) {
          input = text.slice(0, Math.floor(random() * text.length));
        } else if (r < 0.7) {
          const at = Math.floor(random() * text.length);
          input = text.slice(0, at) + JUNK[Math.floor(random() * JUNK.length)] + text.slice(at + 1);
        } else if (r < 0.85) {
          const at = Math.floor(random() * text.length);
          input = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 20));
        } else {
          const chars = [...text];
          for (let k = 0; k < 5; k++) chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 256));
          input = chars.join('');
        }
        cases++;
        try {
          const reply = input.startsWith('STATUS=') ? parseCgminerText(input) : decodeReply(input, { host: 'fuzz', port: 0 });
          const replies = { stats: reply, summary: reply, pools: reply, version: reply, devs: reply, edevs: reply, fans: reply, temps: reply };
          for (const dialect of Object.values(DIALECTS)) dialect.decode(replies);
          identifyDialect(replies);
        } catch (err) {
          if (!(err instanceof DriverError) && !(err instanceof CgminerParseError)) {
            throw new Error(`${name} round ${round}: ${(err as Error)?.stack ?? String(err)}`);
          }
        }
      }
    }
    expect(cases).toBe(samples.length * 40);
  });
});
