#!/usr/bin/env node
// Prints the spec files whose outcome can depend on which MQTT broker runs: those that start a test broker, read
// MQTT_URL, or speak MQTT themselves (directly or through a local harness they import). .ci/run runs these a second
// time against Mosquitto; the others do not touch a broker and would only repeat the first pass.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const TALKS_MQTT = /startTestBroker|startInProcessBroker|MQTT_URL|from 'mqtt'|embeddedBroker|--mqtt-port/;

function* specs(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* specs(path);
    else if (name.endsWith('.spec.ts')) yield path;
  }
}

function localImports(file, text) {
  const out = [];
  for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
    const base = resolve(dirname(file), m[1]);
    for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) out.push(candidate);
  }
  return out;
}

// Talk to a broker but gain nothing from a second pass: npm-start.spec.ts runs `npm start`, which always uses its
// embedded broker (it clears MQTT_URL); the three long real-miner runs (60-85 s each) reach the broker only through
// the scenario harness, which the scenario specs of the same pass exercise against Mosquitto; the scale-out policies
// run (25 s) reaches it only through the scale-out harness, which e2e/scale-out-takeover.spec.ts exercises there.
const SECOND_PASS_ADDS_NOTHING = new Set([
  'e2e/npm-start.spec.ts', 'e2e/real-miner-no-fault.spec.ts', 'e2e/real-miner-bfgminer-failover.spec.ts', 'e2e/real-miner-hung-pool.spec.ts',
  'e2e/scale-out-policies.spec.ts',
]);

const selected = [];
for (const top of ['apps', 'libs', 'e2e', 'tools']) {
  if (!existsSync(join(root, top))) continue;
  for (const spec of specs(join(root, top))) {
    const text = readFileSync(spec, 'utf8');
    const talks = TALKS_MQTT.test(text) || localImports(spec, text).some((f) => !f.endsWith('.spec.ts') && TALKS_MQTT.test(readFileSync(f, 'utf8')));
    if (talks && !SECOND_PASS_ADDS_NOTHING.has(relative(root, spec))) selected.push(relative(root, spec));
  }
}
console.log(selected.sort().join('\n'));
