#!/usr/bin/env node
// Regenerates libs/protocol/src/generated from proto/ with buf + ts-proto (npm packages only).
// `--check` regenerates into a temporary folder and fails when the committed code differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const target = join(root, 'libs/protocol/src/generated');
const check = process.argv.includes('--check');
const buf = join(root, 'node_modules/.bin/buf');

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out.sort();
}

function generate(outDir) {
  const template = readFileSync(join(root, 'buf.gen.yaml'), 'utf8').replace(
    'out: libs/protocol/src/generated',
    `out: ${outDir}`,
  );
  execFileSync(buf, ['generate', '--template', template], { cwd: root, stdio: 'inherit' });
}

if (!check) {
  rmSync(target, { recursive: true, force: true });
  generate(target);
  console.log(`proto: generated ${listFiles(target).length} files into ${relative(root, target)}`);
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'rigwarden-proto-'));
  try {
    generate(tmp);
    const fresh = listFiles(tmp).map((f) => relative(tmp, f));
    let committed = [];
    try {
      committed = listFiles(target).map((f) => relative(target, f));
    } catch {
      committed = [];
    }
    const stale = [];
    for (const f of new Set([...fresh, ...committed])) {
      let a = null;
      let b = null;
      try { a = readFileSync(join(tmp, f), 'utf8'); } catch { /* missing */ }
      try { b = readFileSync(join(target, f), 'utf8'); } catch { /* missing */ }
      if (a !== b) stale.push(f);
    }
    if (stale.length > 0) {
      console.error(`proto: generated code is stale (${stale.join(', ')}); run \`npm run proto\` and commit the result`);
      process.exit(1);
    }
    console.log(`proto: generated code is up to date (${fresh.length} files)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
