import { SecurityError } from './security-error';

/** True when a string has no lone UTF-16 surrogate, i.e. it encodes to UTF-8 without loss. */
export function isWellFormedString(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/**
 * Canonical JSON (the RFC 8785 "JCS" rules for the values proto3 JSON produces): object members sorted by key in
 * UTF-16 code-unit order, no whitespace, strings and numbers serialised as ECMAScript JSON.stringify does, array order
 * kept, members whose value is `undefined` left out. The same value always gives the same text, whatever the key
 * order or the whitespace of the JSON it was parsed from. Throws on what has no single form: non-finite numbers,
 * lone surrogates, bigint, functions, symbols, cycles and non-plain objects.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

function write(value: unknown, path: string, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw fail(path, `a non-finite number (${value})`);
      return JSON.stringify(value);
    case 'string':
      if (!isWellFormedString(value)) throw fail(path, 'a string with a lone UTF-16 surrogate');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw fail(path, `a ${typeof value}`);
  }
  const object = value as object;
  if (seen.has(object)) throw fail(path, 'a cycle');
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item, i) => write(item === undefined ? null : item, `${path}[${i}]`, seen)).join(',')}]`;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) throw fail(path, `a ${object.constructor?.name ?? 'non-plain'} object`);
    const record = object as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => {
        if (!isWellFormedString(key)) throw fail(path, 'a key with a lone UTF-16 surrogate');
        return `${JSON.stringify(key)}:${write(record[key], `${path}.${key}`, seen)}`;
      });
    return `{${members.join(',')}}`;
  } finally {
    seen.delete(object);
  }
}

function fail(path: string, what: string): SecurityError {
  return new SecurityError('invalid_argument', `canonicalJson: ${path} is ${what}, which has no canonical form`, { field: path });
}
