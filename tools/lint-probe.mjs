#!/usr/bin/env node
// Lints code snippets as if they lived at given paths, with the workspace's ESLint config.
// stdin: JSON [{ filePath, code }]; stdout: JSON [[ "ruleId: message", ... ], ...]. Used by tools/boundaries.spec.ts.
import { ESLint } from 'eslint';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const probes = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });
const out = [];
for (const { filePath, code } of probes) {
  const [result] = await eslint.lintText(code, { filePath });
  out.push(result.messages.map((m) => `${m.ruleId}: ${m.message}`));
}
process.stdout.write(JSON.stringify(out));
