#!/usr/bin/env node
// Prometheus scrape cost: MetricsService.render() over a real SQLite file holding N rigs (S19-like ASICs with
// 3 boards, 4 fans and 3 pools; every 10th a 6-GPU rig), agent driver counters and controller counters.
//   npm run bench -- metrics [--rigs 10000] [--scrapes 10]
// Prints one JSON line and a short table; appends the result to bench/results/metrics.jsonl.
import { build } from 'esbuild';
import { transformFile } from '@swc/core';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rigs = arg('rigs', 10_000);
const scrapes = arg('scrapes', 10);

// Bundle the fixture (and the exporter it builds) the way tools/build.mjs bundles the apps: swc for the decorators.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})].flatMap((n) => [n, `${n}/*`]);
const work = mkdtempSync(join(tmpdir(), 'rigwarden-bench-metrics-'));
// Inside the repo so the bundle's external packages resolve from node_modules.
const bundle = join(root, 'dist/bench/metrics-fixture.cjs');
await build({
  entryPoints: [join(root, 'apps/controller/src/metrics/metrics-fixture.testing.ts')],
  outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external, tsconfig: join(root, 'tsconfig.json'), logLevel: 'warning',
  plugins: [{
    name: 'swc-decorators',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const out = await transformFile(args.path, { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' }, module: { type: 'es6' } });
        return { contents: out.code, loader: 'js' };
      });
    },
  }],
});
const { populatedMetrics } = createRequire(import.meta.url)(bundle);

const t0 = performance.now();
const fixture = await populatedMetrics(work, rigs);
const populateS = (performance.now() - t0) / 1000;

const times = [];
let text = '';
for (let i = 0; i < scrapes; i++) {
  const started = performance.now();
  text = await fixture.metrics.render();
  times.push(performance.now() - started);
}
const readS = Number(/^rigwarden_metrics_fleet_read_seconds (\S+)$/m.exec(text)?.[1] ?? NaN);
await fixture.close();
rmSync(work, { recursive: true, force: true });

times.sort((a, b) => a - b);
const series = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
const result = {
  bench: 'metrics', at: new Date().toISOString(), node: process.version, rigs, scrapes,
  renderMsMedian: Math.round(times[Math.floor(times.length / 2)]), renderMsMax: Math.round(times[times.length - 1]), renderMsFirst: Math.round(times[0]),
  fleetReadMsLast: Math.round(readS * 1000), series, bytes: Buffer.byteLength(text), rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024), populateS: Math.round(populateS * 10) / 10,
};
console.log(JSON.stringify(result));
console.log(`
  rigs            ${rigs}
  series          ${series}
  exposition      ${(result.bytes / 1024 / 1024).toFixed(1)} MiB
  render median   ${result.renderMsMedian} ms (max ${result.renderMsMax} ms over ${scrapes} scrapes)
  of which read   ${result.fleetReadMsLast} ms (SQLite + JSON decode, last scrape)
  RSS             ${result.rssMb} MiB`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
appendFileSync(join(root, 'bench/results/metrics.jsonl'), JSON.stringify(result) + '\n');
