#!/usr/bin/env node
// Runs the GPU probe (libs/drivers/gpu/src/probe/gpu-probe.main.ts) without a build
// step: esbuild bundles it (resolving @rigwarden/* through tsconfig paths) into a
// temp file, which is then run in this process. Arguments pass through.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = new URL('../src/probe/gpu-probe.main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'rigwarden-gpu-probe-'));
const outfile = join(dir, 'gpu-probe.cjs');
try {
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
  await import(pathToFileURL(outfile).href);
} finally {
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
