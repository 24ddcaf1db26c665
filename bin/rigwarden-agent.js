#!/usr/bin/env node
'use strict';
// Launcher for the built agent (dist/agent/main.js); `npm run build` makes it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const entry = join(__dirname, '..', 'dist', 'agent', 'main.js');
if (!existsSync(entry)) {
  console.error('rigwarden-agent: ' + entry + ' is missing; run `npm run build` (npm install does it too)');
  process.exit(1);
}
require(entry);
