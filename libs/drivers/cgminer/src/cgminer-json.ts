/**
 * Tolerant decoding of cgminer API replies. Real firmware sends things a strict
 * JSON parser rejects (see testdata/ and ../shared/fixtures): "}{" with no comma
 * between STATS objects, bare nan/inf, raw control characters inside strings,
 * a trailing NUL. The repair works on tokens, so nothing inside a string changes
 * meaning. Every input yields a value or a CgminerParseError, never a crash.
 */
export class CgminerParseError extends Error {
  override readonly name = 'CgminerParseError';
  constructor(message: string, readonly excerpt: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const BARE_WORDS = /^-?(nan|inf|infinity)$/i;

/** Rewrites device JSON into strict JSON. Exported for the parser tests. */
export function repairCgminerJson(input: string): string {
  let text = input;
  const nul = text.indexOf('\u0000');
  if (nul >= 0) text = text.slice(0, nul);
  text = text.trim();

  let out = '';
  let inString = false;
  let lastSignificant = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrtu'.includes(next)) {
          if (next === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            out += '\\\\';
            continue;
          }
          out += ch + next;
          i++;
        } else {
          // An escape JSON does not know (e.g. "\x" or "\ "): keep the backslash literally.
          out += '\\\\';
        }
        continue;
      }
      if (ch === '"') {
        inString = false;
        out += ch;
        lastSignificant = ch;
        continue;
      }
      const code = ch.charCodeAt(0);
      if (code < 0x20) {
        out += code === 0x0a ? '\\n' : code === 0x0d ? '\\r' : code === 0x09 ? '\\t' : `\\u${code.toString(16).padStart(4, '0')}`;
        continue;
      }
      out += ch;
      continue;
    }
    if (ch === '"') {
      if (lastSignificant === '}' || lastSignificant === ']') out += ',';
      inString = true;
      out += ch;
      continue;
    }
    if (ch === '{' && (lastSignificant === '}')) {
      out += ',';
    }
    if (/[A-Za-z-]/.test(ch)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9.+-]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      if (BARE_WORDS.test(word)) {
        out += 'null';
        lastSignificant = 'l';
        i = j - 1;
        continue;
      }
    }
    if (!/\s/.test(ch)) lastSignificant = ch;
    out += ch;
  }
  return out;
}

export function parseCgminerJson(input: string): unknown {
  try {
    return JSON.parse(input.replace(/\u0000+$/, ''));
  } catch {
    // fall through to the repair
  }
  const repaired = repairCgminerJson(input);
  try {
    return JSON.parse(repaired);
  } catch (err) {
    throw new CgminerParseError(
      `reply is not JSON even after repair: ${(err as Error).message}`,
      input.slice(0, 200),
      { cause: err },
    );
  }
}
