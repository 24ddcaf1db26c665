/**
 * The architecture's boundaries bind: ESLint (with @nx/enforce-module-boundaries and
 * the project tags) rejects the imports the brief forbids. Each case lints a probe
 * file as if it lived in the given project, through the real eslint CLI.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');

const FORBIDDEN: Array<[string, string, RegExp]> = [
  ['libs/policy/src/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /policy is pure/],
  ['libs/policy/src/probe.ts', "import mqtt from 'mqtt';\nexport const x = mqtt;\n", /mqtt/],
  ['libs/policy/src/probe.ts', "import { Socket } from 'net';\nexport const x = Socket;\n", /policy is pure/],
  ['libs/policy/src/probe.ts', "import { spawn } from 'child_process';\nexport const x = spawn;\n", /policy is pure/],
  ['libs/policy/src/probe.ts', "import { Server } from '@grpc/grpc-js';\nexport const x = Server;\n", /policy is pure|@grpc/],
  ['libs/policy/src/probe.ts', "import { DriverRegistry } from '@rigwarden/drivers-core';\nexport const x = DriverRegistry;\n", /enforce-module-boundaries/],
  ['libs/policy/src/probe.ts', 'export const now = Date.now();\n', /injected clock/],
  ['apps/agent/src/probe.ts', "import { Injectable } from '@nestjs/common';\nexport const x = Injectable;\n", /Nest or SQLite|@nestjs/],
  ['apps/agent/src/probe.ts', "import sqlite3 from 'sqlite3';\nexport const x = sqlite3;\n", /Nest or SQLite|sqlite3/],
  ['libs/drivers/cgminer/src/probe.ts', "import sqlite3 from 'sqlite3';\nexport const x = sqlite3;\n", /Nest or SQLite|sqlite3/],
  ['libs/drivers/cgminer/src/probe.ts', "import { Module } from '@nestjs/common';\nexport const x = Module;\n", /Nest or SQLite|@nestjs/],
  ['apps/agent/src/probe.ts', "import { RigRepository } from '../../controller/src/persistence/rig-repository';\nexport const x = RigRepository;\n", /enforce-module-boundaries/],
  // Purity of the policy engine: no timers, clocks, randomness or environment in its sources.
  ['libs/policy/src/probe.ts', 'export const x = Math.random();\n', /no randomness/],
  ['libs/policy/src/probe.ts', 'export const x = performance.now();\n', /time comes in as `now`/],
  ['libs/policy/src/probe.ts', 'export const x = (): void => { setTimeout(() => undefined, 10); };\n', /never schedules/],
  ['libs/policy/src/probe.ts', "import { setTimeout as wait } from 'node:timers/promises';\nexport const x = wait;\n", /no timers, clocks or randomness/],
  ['libs/policy/src/probe.ts', "import { randomUUID } from 'node:crypto';\nexport const x = randomUUID;\n", /no timers, clocks or randomness/],
  ['libs/policy/src/probe.ts', "export const x = process.env['X'];\n", /no environment/],
  // Separate tags: a driver speaks the protocol but never touches keys; the policy engine signs nothing.
  ['libs/drivers/cgminer/src/probe.ts', "import { CommandSigner } from '@rigwarden/security';\nexport const x = CommandSigner;\n", /enforce-module-boundaries/],
  ['libs/policy/src/probe.ts', "import { CommandSigner } from '@rigwarden/security';\nexport const x = CommandSigner;\n", /enforce-module-boundaries/],
  ['libs/protocol/src/probe.ts', "import { CommandSigner } from '@rigwarden/security';\nexport const x = CommandSigner;\n", /enforce-module-boundaries/],
  // A library's index lists its API by name.
  ['libs/shared/src/index.ts', "export * from './clock';\n", /curated API/],
  // Specs are linted too: an app's spec reaching into another app belongs in e2e/.
  ['apps/agent/src/probe.spec.ts', "import { RigRepository } from '../../controller/src/persistence/rig-repository';\nexport const x = RigRepository;\n", /enforce-module-boundaries/],
  ['libs/drivers/cgminer/src/probe.spec.ts', "import { CommandSigner } from '@rigwarden/security';\nexport const x = CommandSigner;\n", /enforce-module-boundaries/],
];

const ALLOWED: Array<[string, string]> = [
  ['apps/agent/src/probe.ts', "import { RigTopics } from '@rigwarden/protocol';\nimport { driverRegistry } from '@rigwarden/drivers-core';\nexport const x = [RigTopics, driverRegistry];\n"],
  ['libs/policy/src/probe.ts', "import type { MinerSnapshot } from '@rigwarden/protocol';\nexport type X = MinerSnapshot;\n"],
  ['apps/controller/src/probe.ts', "import sqlite3 from 'sqlite3';\nimport { Injectable } from '@nestjs/common';\nexport const x = [sqlite3, Injectable];\n"],
  ['libs/security/src/probe.ts', "import type { CommandEnvelope } from '@rigwarden/protocol';\nexport type X = CommandEnvelope;\n"],
  ['libs/drivers/cgminer/src/probe.spec.ts', "import { startCgminerFleet } from '@rigwarden/simulators';\nimport { makeTempDir } from '@rigwarden/testing';\nexport const x = [startCgminerFleet, makeTempDir];\n"],
  ['libs/policy/src/probe.spec.ts', "export const x = (): void => { process.stdout.write('measured'); };\n"],
];

let results: string[][] = [];

jest.setTimeout(120_000);

beforeAll(() => {
  // The boundary rule reads Nx's project graph; compute it (offline) first.
  execFileSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } });
  const probes = [...FORBIDDEN, ...ALLOWED].map(([filePath, code]) => ({ filePath, code }));
  const out = execFileSync(process.execPath, [join(root, 'tools/lint-probe.mjs')], { cwd: root, input: JSON.stringify(probes), encoding: 'utf8', timeout: 100_000 });
  results = JSON.parse(out) as string[][];
});

describe('module boundaries', () => {
  it.each(FORBIDDEN.map((probe, i) => [...probe, i] as const))('%s: forbids %j', (_file, _code, expected, i) => {
    expect(results[i]!.some((m) => expected.test(m))).toBe(true);
  });

  it.each(ALLOWED.map((probe, i) => [...probe, FORBIDDEN.length + i] as const))('%s: allows %j', (_file, _code, i) => {
    expect(results[i]).toEqual([]);
  });
});
