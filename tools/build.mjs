#!/usr/bin/env node
// Builds each app into one CommonJS file under dist/<app>/main.js.
// esbuild bundles (and resolves @rigwarden/* through tsconfig paths); swc compiles each
// TypeScript file first because esbuild cannot emit the decorator metadata Nest needs.
// npm packages stay external and load from node_modules at run time.
import { build } from 'esbuild';
import { transformFile } from '@swc/core';
import { copyFileSync, cpSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]
  .flatMap((name) => [name, `${name}/*`]);

const swcPlugin = {
  name: 'swc-decorators',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const out = await transformFile(args.path, {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      });
      return { contents: out.code, loader: 'js' };
    });
  },
};

const apps = ['agent', 'controller', 'cli', 'simfarm'];
const started = Date.now();
await Promise.all(apps.map((app) => build({
  entryPoints: [`${root}apps/${app}/src/main.ts`],
  outfile: `${root}dist/${app}/main.js`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external,
  tsconfig: `${root}tsconfig.json`,
  plugins: [swcPlugin],
  logLevel: 'warning',
})));
// The dashboard UI: one browser bundle plus its static files, served by the controller from dist/controller/web.
const web = `${root}apps/controller/src/dashboard/web`;
await build({
  entryPoints: [`${web}/app.ts`],
  outfile: `${root}dist/controller/web/app.js`,
  bundle: true,
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  format: 'iife',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css', 'favicon.svg']) copyFileSync(`${web}/${file}`, `${root}dist/controller/web/${file}`);
// The Braiins OS+ driver and simulator load the bos-plus-api .proto files at run time, from next to main.js.
for (const app of ['agent', 'simfarm']) cpSync(`${root}libs/drivers/braiins/proto`, `${root}dist/${app}/braiins-proto`, { recursive: true });
console.log(`build: ${apps.map((a) => `dist/${a}/main.js`).join(', ')}, dist/controller/web in ${Date.now() - started} ms`);
