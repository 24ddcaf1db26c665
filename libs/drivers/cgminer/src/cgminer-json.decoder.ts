/**
 * Tolerant decoding of cgminer API replies. Real firmware sends things a strict
 * JSON parser rejects (see testdata/): "}{" with no comma between STATS objects,
 * bare nan/inf, raw control characters inside strings, invalid escapes ("\'"),
 * keys without values ({"RESTART","id":1} from cgminer 2.x), replies cut short
 * after "id", a trailing NUL. Strict JSON.parse is tried first; only when it
 * fails does the tolerant parser below run. Every input yields a value or a
 * CgminerParseError, never anything else.
 */
export class CgminerParseError extends Error {
  override readonly name = 'CgminerParseError';
  constructor(message: string, readonly excerpt: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What the tolerant parser had to fix, for logs and for callers that refuse some repairs. */
export type CgminerRepair =
  | 'missing-comma'      // "}{" or "" "" with no comma between values
  | 'bare-word'          // nan, inf, -inf, undefined...: read as null
  | 'control-char'       // raw newline or tab inside a string
  | 'invalid-escape'     // "\'" or "\x" inside a string
  | 'key-without-value'  // {"RESTART","id":1}
  | 'trailing-comma'
  | 'unclosed'           // the reply ended before its closing brackets
  | 'trailing-data';     // bytes after the complete reply (a stray quote, a second reply)

export interface DecodedCgminerJson {
  value: unknown;
  repairs: CgminerRepair[];
}

const MAX_DEPTH = 64;

export function parseCgminerJson(input: string): unknown {
  return decodeCgminerJson(input).value;
}

/** Decodes a reply and says what had to be repaired. Throws only CgminerParseError. */
export function decodeCgminerJson(input: string): DecodedCgminerJson {
  const nul = input.indexOf('\u0000');
  const text = (nul >= 0 ? input.slice(0, nul) : input).trim();
  try {
    return { value: JSON.parse(text), repairs: [] };
  } catch {
    // fall through to the tolerant parser
  }
  try {
    return new TolerantParser(text).parseDocument();
  } catch (err) {
    if (err instanceof CgminerParseError) throw err;
    // A RangeError or anything unforeseen still becomes the typed error.
    throw new CgminerParseError(`reply is not decodable: ${(err as Error).message}`, text.slice(0, 200), { cause: err });
  }
}

/** Kept for callers that want the repaired strict-JSON text. */
export function repairCgminerJson(input: string): string {
  return JSON.stringify(parseCgminerJson(input));
}

class TolerantParser {
  private pos = 0;
  private readonly repairs = new Set<CgminerRepair>();

  constructor(private readonly text: string) {}

  parseDocument(): DecodedCgminerJson {
    this.skipWs();
    if (this.pos >= this.text.length) this.fail('empty reply');
    const value = this.parseValue(0);
    this.skipWs();
    if (this.pos < this.text.length) this.repairs.add('trailing-data');
    return { value, repairs: [...this.repairs] };
  }

  private fail(message: string): never {
    const from = Math.max(0, this.pos - 40);
    throw new CgminerParseError(`${message} at offset ${this.pos}`, this.text.slice(from, this.pos + 40));
  }

  private skipWs(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.skipWs();
    if (this.atEnd()) this.fail('reply ended where a value was expected');
    const ch = this.text[this.pos]!;
    if (ch === '{') return this.parseObject(depth);
    if (ch === '[') return this.parseArray(depth);
    if (ch === '"') return this.parseString();
    if (ch === '-' || (ch >= '0' && ch <= '9')) return this.parseNumberOrWord();
    if (/[A-Za-z]/.test(ch)) return this.parseNumberOrWord();
    return this.fail(`unexpected ${JSON.stringify(ch)}`);
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    let expectMember = true;
    for (;;) {
      this.skipWs();
      if (this.atEnd()) {
        this.repairs.add('unclosed');
        return out;
      }
      const ch = this.text[this.pos]!;
      if (ch === '}') {
        this.pos++;
        return out;
      }
      if (ch === ',') {
        if (expectMember) this.repairs.add('trailing-comma');
        this.pos++;
        expectMember = true;
        continue;
      }
      if (!expectMember) this.repairs.add('missing-comma');
      if (ch !== '"') this.fail(`expected a key, found ${JSON.stringify(ch)}`);
      const key = this.parseString();
      this.skipWs();
      if (this.text[this.pos] === ':') {
        this.pos++;
        this.skipWs();
        if (this.atEnd()) {
          this.repairs.add('unclosed');
          return out;
        }
        setMember(out, key, this.parseValue(depth + 1));
      } else if (this.atEnd() || this.text[this.pos] === ',' || this.text[this.pos] === '}') {
        // cgminer 2.x: {"RESTART","id":1}. The lone string is the status.
        this.repairs.add('key-without-value');
        if (out['STATUS'] === undefined) out['STATUS'] = key;
        else setMember(out, key, null);
      } else {
        this.fail(`expected ":" after key ${JSON.stringify(key)}`);
      }
      expectMember = false;
    }
  }

  private parseArray(depth: number): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    let expectValue = true;
    for (;;) {
      this.skipWs();
      if (this.atEnd()) {
        this.repairs.add('unclosed');
        return out;
      }
      const ch = this.text[this.pos]!;
      if (ch === ']') {
        this.pos++;
        return out;
      }
      if (ch === ',') {
        if (expectValue) this.repairs.add('trailing-comma');
        this.pos++;
        expectValue = true;
        continue;
      }
      if (!expectValue) this.repairs.add('missing-comma'); // bmminer's "}{"
      out.push(this.parseValue(depth + 1));
      expectValue = false;
    }
  }

  private parseString(): string {
    this.pos++; // opening quote
    let out = '';
    const text = this.text;
    while (this.pos < text.length) {
      const ch = text[this.pos]!;
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '\\') {
        const next = text[this.pos + 1];
        if (next === undefined) break;
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (next in simple) {
          out += simple[next];
          this.pos += 2;
          continue;
        }
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(this.pos + 2, this.pos + 6))) {
          out += String.fromCharCode(parseInt(text.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
          continue;
        }
        this.repairs.add('invalid-escape');
        if (next === "'") {
          // Whatsminer's "\'20200917.22.REL\'": the quote was meant.
          out += "'";
          this.pos += 2;
        } else {
          out += '\\';
          this.pos += 1;
        }
        continue;
      }
      if (ch.charCodeAt(0) < 0x20) this.repairs.add('control-char');
      out += ch;
      this.pos++;
    }
    this.repairs.add('unclosed');
    return this.fail('reply ended inside a string');
  }

  private parseNumberOrWord(): unknown {
    const start = this.pos;
    while (this.pos < this.text.length && /[A-Za-z0-9.+\-_]/.test(this.text[this.pos]!)) this.pos++;
    const word = this.text.slice(start, this.pos);
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(word)) return Number(word);
    if (/^[+-]?(nan|inf|infinity|undefined)$/i.test(word)) {
      this.repairs.add('bare-word');
      return null;
    }
    this.pos = start;
    return this.fail(`unexpected word ${JSON.stringify(word.slice(0, 20))}`);
  }
}

/** Assigns without ever touching Object.prototype (a device could send "__proto__"). */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
