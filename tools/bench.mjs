#!/usr/bin/env node
// `npm run bench -- <name> [options]`: runs bench/<name>.bench.mjs. With no name, lists them.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const available = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.mjs')).map((f) => f.replace('.bench.mjs', ''));
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, [join(root, 'bench', `${name}.bench.mjs`), ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
