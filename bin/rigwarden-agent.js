#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode --no-expose-wasm
'use strict';
// Launcher for the built agent (dist/agent/main.js); `npm run build` makes it.
// The shebang's V8 flags keep a small agent's memory low (a 1 MB young generation, no optimising JIT):
// 10 miners polled every 10 s use about 60 MB RSS instead of 75 MB (bench/agent.bench.mjs, docs/benchmarks.md).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const entry = join(__dirname, '..', 'dist', 'agent', 'main.js');
if (!existsSync(entry)) {
  console.error('rigwarden-agent: ' + entry + ' is missing; run `npm run build` (npm install does it too)');
  process.exit(1);
}
require(entry);
