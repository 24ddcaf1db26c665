import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { populatedMetrics, type MetricsFixture } from './metrics-fixture.testing';
import { parsePrometheusText, type ParsedExposition } from './prometheus-text.parser';

const root = join(__dirname, '../../../..');

interface Panel { type: string; title: string; targets?: Array<{ expr: string }>; datasource?: { uid: string }; panels?: Panel[] }
interface Dashboard { schemaVersion: number; uid: string; title: string; templating: { list: Array<{ name: string; type: string; query: unknown; definition?: string }> }; panels: Panel[] }

const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/rigwarden.json'), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })))
  .concat(dashboard.templating.list.filter((v) => v.definition).map((v) => ({ panel: `variable ${v.name}`, expr: v.definition! })));

/** `metric{label="x", other=~"y"}` selectors in a PromQL expression: the metric and the label names it matches on. */
function selectors(expr: string): Array<{ metric: string; labels: string[] }> {
  const out: Array<{ metric: string; labels: string[] }> = [];
  for (const m of expr.matchAll(/\b(rigwarden_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    out.push({ metric: m[1]!, labels: [...(m[3] ?? '').matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!) });
  }
  return out;
}

/** Label names used in `by (...)`, `on (...)` and `{{legend}}` templates. */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
}

describe('exposition contract: the Grafana dashboard and the docs use only what the exporter emits', () => {
  let dir: TempDir;
  let fixture: MetricsFixture;
  let parsed: ParsedExposition;
  let labelsOf: Map<string, Set<string>>;

  beforeAll(async () => {
    dir = makeTempDir();
    fixture = await populatedMetrics(dir.path, 200);
    parsed = parsePrometheusText(await fixture.metrics.render());
    labelsOf = new Map([...parsed.types.keys()].map((name) => [name, new Set<string>()]));
    for (const s of parsed.samples) for (const l of Object.keys(s.labels)) labelsOf.get(s.name)?.add(l);
  });
  afterAll(async () => {
    await fixture.close();
    dir.remove();
  });

  it('the dashboard is a Grafana dashboard: schema 39, a Prometheus datasource variable every panel uses', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('rigwarden-fleet');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect([p.title, p.datasource?.uid]).toEqual([p.title, '${datasource}']);
      expect(p.targets?.length).toBeGreaterThan(0);
    }
    const titles = panels.map((p) => p.title);
    for (const wanted of ['Fleet hashrate', 'Rigs online', 'Rigs offline', 'Hottest boards', 'Pool status (all miners)', 'Rejected share ratio', 'Ingest rate', 'Reconcile outcomes', 'Command outcomes', 'Agent driver errors and timeouts']) {
      expect(titles).toContain(wanted);
    }
  });

  it('every emitted family has samples in a populated fleet (so the label checks below are real)', () => {
    const empty = [...parsed.types.keys()].filter((name) => !parsed.samples.some((s) => s.name === name));
    expect(empty).toEqual([]);
  });

  it.each(exprs.map((e) => [e.panel, e.expr] as const))('%s: %s', (_panel, expr) => {
    const used = selectors(expr);
    expect(used.length).toBeGreaterThan(0);
    for (const { metric, labels } of used) {
      expect([metric, parsed.types.has(metric)]).toEqual([metric, true]);
      for (const l of labels) expect([metric, l, labelsOf.get(metric)!.has(l)]).toEqual([metric, l, true]);
    }
    // Grouping labels must exist on at least one metric of the expression.
    const available = new Set(used.flatMap((u) => [...labelsOf.get(u.metric)!]));
    for (const l of groupingLabels(expr)) expect([l, available.has(l)]).toEqual([l, true]);
    // Balanced brackets: a cheap syntax check.
    for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']] as const) expect(expr.split(open).length).toBe(expr.split(close).length);
  });

  it('docs/observability.md lists every metric the exporter emits, and no other', () => {
    const doc = readFileSync(join(root, 'docs/observability.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(rigwarden_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual([...parsed.types.keys()].sort());
    // And with the right type.
    for (const m of doc.matchAll(/^\| `(rigwarden_[a-z0-9_]+)` \| (counter|gauge) \|/gm)) expect([m[1], parsed.types.get(m[1]!)]).toEqual([m[1], m[2]]);
  });
});
