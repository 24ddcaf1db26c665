import type { FleetSpec } from './fleet-spec';

export interface SpecChangeRecord {
  /** Key path, e.g. `groups[s19-row1].pools[0].url` (groups and models by name, lists by index). */
  path: string;
  change: 'added' | 'removed' | 'changed';
  /** JSON of the value before / after; '' when absent. Passwords show as "***". */
  before: string;
  after: string;
}

export const MASK = '***';

/** JSON text with every `password` value masked. */
export function maskedJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (key, v: unknown) => (key === 'password' && v !== undefined ? MASK : v));
}

/** The spec as nested plain values, groups keyed by name (their order is diffed separately). */
function canonical(spec: FleetSpec): Record<string, unknown> {
  return {
    policy: spec.policy,
    groups: Object.fromEntries(spec.groups.map((g) => [g.name, g])),
  };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keyed children use brackets (groups[a], models[S19j Pro]); other mappings use dots. */
const KEYED = new Set(['groups', 'models']);

function walk(path: string, parentKey: string, a: unknown, b: unknown, out: SpecChangeRecord[]): void {
  if (a === undefined && b === undefined) return;
  const show = (v: unknown): string => (parentKey === 'password' ? JSON.stringify(MASK) : maskedJson(v));
  if (a === undefined) {
    out.push({ path, change: 'added', before: '', after: show(b) });
    return;
  }
  if (b === undefined) {
    out.push({ path, change: 'removed', before: show(a), after: '' });
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, '', a[i], b[i], out);
    return;
  }
  if (isMap(a) && isMap(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const key of keys) {
      const child = KEYED.has(parentKey) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
      walk(child, KEYED.has(parentKey) ? '' : key, a[key], b[key], out);
    }
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push({ path, change: 'changed', before: show(a), after: show(b) });
}

/**
 * What changes from one spec to the next, leaf by leaf. A whole group (or section) added or removed is one change.
 * Reordering groups matters (the first matching group wins), so it is reported as a change of `groups` (names).
 */
export function diffFleetSpecs(before: FleetSpec, after: FleetSpec): SpecChangeRecord[] {
  const out: SpecChangeRecord[] = [];
  walk('', '', canonical(before), canonical(after), out);
  const common = (x: FleetSpec, y: FleetSpec) => x.groups.map((g) => g.name).filter((n) => y.groups.some((g) => g.name === n));
  const orderBefore = common(before, after);
  const orderAfter = common(after, before);
  if (JSON.stringify(orderBefore) !== JSON.stringify(orderAfter)) {
    out.push({ path: 'groups', change: 'changed', before: JSON.stringify(before.groups.map((g) => g.name)), after: JSON.stringify(after.groups.map((g) => g.name)) });
  }
  return out;
}
