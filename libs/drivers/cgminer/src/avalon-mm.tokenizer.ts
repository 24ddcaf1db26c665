/**
 * Avalon's per-module status strings ("MM ID0", "MM ID1", ... in stats) are a
 * sequence of Key[value] tokens:
 *
 *   Ver[15-194-2410] DNA[0201...] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] Temp[31] MGHS[59459.52 61407.83]
 *
 * A value runs to its matching "]" (brackets nest), may hold spaces, commas
 * and colons, and is often a space-separated list. Text that is not a token is
 * skipped, so a truncated or garbled string yields the tokens that are whole.
 */
export function tokenizeAvalonMm(input: string): Map<string, string> {
  const tokens = new Map<string, string>();
  const text = input;
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    const keyStart = i;
    while (i < text.length && text[i] !== '[' && !/\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== '[') continue; // a bare word: not a token
    const key = text.slice(keyStart, i);
    i++; // [
    let depth = 1;
    const valueStart = i;
    while (i < text.length && depth > 0) {
      if (text[i] === '[') depth++;
      else if (text[i] === ']') depth--;
      if (depth > 0) i++;
    }
    if (depth > 0) break; // unterminated value: drop it
    if (key !== '' && !tokens.has(key)) tokens.set(key, text.slice(valueStart, i));
    i++; // ]
  }
  return tokens;
}

/** The numbers in a token value: "1209 1187 297" -> [1209, 1187, 297]; "49%" -> [49]. Non-numbers are skipped. */
export function avalonNumbers(value: string | undefined): number[] {
  if (value === undefined) return [];
  const out: number[] = [];
  for (const part of value.trim().split(/\s+/)) {
    const n = Number(part.replace(/%$/, ''));
    if (part !== '' && Number.isFinite(n)) out.push(n);
  }
  return out;
}

/** The single number in a token value, or undefined. */
export function avalonNumber(value: string | undefined): number | undefined {
  const nums = avalonNumbers(value);
  return nums.length === 1 ? nums[0] : undefined;
}
