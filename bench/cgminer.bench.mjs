#!/usr/bin/env node
// cgminer client, driver and discovery scan against simulated miners on loopback.
//   npm run bench -- cgminer [options passed to libs/drivers/cgminer/bench/cgminer.bench.ts]
// The TypeScript bench is bundled with esbuild into dist/bench/ and run with this Node.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].flatMap((n) => [n, `${n}/*`]);
{
  // Inside the repo so that npm packages resolve from its node_modules.
  const outfile = join(root, 'dist/bench/cgminer.bench.js');
  await build({
    entryPoints: [join(root, 'libs/drivers/cgminer/bench/cgminer.bench.ts')], outfile, bundle: true, platform: 'node',
    target: 'node20', format: 'cjs', tsconfig: join(root, 'tsconfig.json'), external, logLevel: 'warning',
  });
  const result = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
  process.exitCode = result.status ?? 1;
}
