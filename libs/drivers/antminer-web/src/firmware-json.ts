/**
 * JSON as the Antminer CGI scripts print it. They assemble it by hand: leading blank lines, `"key" : value`
 * spacing, a lone `,` line after the pools array (all valid JSON), and, when a setting was never stored, a key with
 * no value at all: `"bitmain-fan-ctrl" : ,` (invalid). Only that last case is repaired, by reading the missing
 * value as null and naming the key; any other invalid text is a parse error.
 */
export interface FirmwareJson {
  value: unknown;
  /** Keys that had no value and were read as null. */
  emptyKeys: string[];
}

export class FirmwareJsonError extends Error {
  override readonly name = 'FirmwareJsonError';
}

export function parseFirmwareJson(text: string): FirmwareJson {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new FirmwareJsonError('empty body');
  try {
    return { value: JSON.parse(body), emptyKeys: [] };
  } catch (first) {
    const { repaired, emptyKeys } = fillEmptyValues(body);
    if (emptyKeys.length === 0) throw new FirmwareJsonError((first as Error).message);
    try {
      return { value: JSON.parse(repaired), emptyKeys };
    } catch (second) {
      throw new FirmwareJsonError(`${(second as Error).message} (after reading the empty values of ${emptyKeys.join(', ')} as null)`);
    }
  }
}

/**
 * Inserts `null` where a member's value is missing: outside any string, a `:` followed (after white space) by
 * `,` or `}`. Strings are skipped with their escapes, so a `:` or `,` inside a value is never touched.
 */
export function fillEmptyValues(text: string): { repaired: string; emptyKeys: string[] } {
  const emptyKeys: string[] = [];
  let out = '';
  let lastString = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      lastString = text.slice(i + 1, j);
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    out += c;
    i++;
    if (c === ':') {
      let j = i;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (text[j] === ',' || text[j] === '}') {
        out += ' null';
        emptyKeys.push(lastString);
      }
    }
  }
  return { repaired: out, emptyKeys };
}
