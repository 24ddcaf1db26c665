// Lint: TypeScript rules plus the architecture's boundaries.
// Project tags live in each project.json; the constraints below are what bind them.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const NO_NEST_OR_SQLITE = ['@nestjs/*', 'sqlite3', 'better-sqlite3'];
const IO_MODULES = [
  'mqtt', 'sqlite3', 'better-sqlite3', 'aedes', '@grpc/*', '@nestjs/*',
  'net', 'node:net', 'fs', 'node:fs', 'fs/promises', 'node:fs/promises',
  'child_process', 'node:child_process', 'http', 'node:http', 'https', 'node:https',
  'dgram', 'node:dgram', 'tls', 'node:tls',
];

/**
 * Which libraries each kind of project may use. protocol (wire types), security (signing, keys) and shared (clock,
 * logger, backoff) are separate: a driver may speak the protocol but never touches keys; the policy engine reads
 * protocol types and nothing that signs or does I/O.
 */
const DEP_CONSTRAINTS = [
  // The agent is plain Node: drivers, protocol, security (it verifies commands) and policy only.
  { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:security', 'scope:driver', 'scope:policy'],
    bannedExternalImports: NO_NEST_OR_SQLITE },
  { sourceTag: 'scope:driver', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:driver'],
    bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes', '@grpc/*'] },
  { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol'],
    bannedExternalImports: IO_MODULES },
  { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol'],
    bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes'] },
  { sourceTag: 'scope:security', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:security'],
    bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'],
    bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes'] },
  { sourceTag: 'scope:controller', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:security', 'scope:policy'] },
  { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:security'],
    bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes'] },
  { sourceTag: 'scope:sim', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:security', 'scope:sim'],
    bannedExternalImports: NO_NEST_OR_SQLITE },
  { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['*'] },
];

/** Specs and benches also reach the test helpers and the simulators; nothing else changes for them. */
const TEST_DEP_CONSTRAINTS = DEP_CONSTRAINTS.map((c) => c.onlyDependOnLibsWithTags.includes('*') ? c : ({
  sourceTag: c.sourceTag, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'scope:testing', 'scope:sim'],
}));

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/data/**', 'libs/protocol/src/generated/**', 'coverage/**', '.nx/**', 'tmp/**'] },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: DEP_CONSTRAINTS,
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name=/^(describe|it|test)$/][callee.property.name='only']", message: 'No focused tests.' },
      ],
    },
  },
  // Node built-ins are not npm packages, so the tag rule above cannot see them: ban them here too.
  {
    files: ['libs/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: IO_MODULES, message: 'libs/policy is pure: no I/O imports. Take data as arguments.' },
        { group: ['timers', 'node:timers', 'timers/promises', 'node:timers/promises', 'perf_hooks', 'node:perf_hooks', 'crypto', 'node:crypto', 'worker_threads', 'node:worker_threads'],
          message: 'libs/policy is pure: no timers, clocks or randomness. Take `now` and any choice as arguments.' },
      ] }],
      'no-restricted-globals': ['error',
        { name: 'Date', message: 'Use the injected clock (now) instead of Date.' },
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'].map((name) => ({
          name, message: 'libs/policy is pure: a policy says when to run again (requeueAfterMs); it never schedules.' })),
        { name: 'performance', message: 'libs/policy is pure: time comes in as `now`.' },
        { name: 'crypto', message: 'libs/policy is pure: no randomness (decisions must replay the same on recorded traces).' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'libs/policy is pure: no randomness (decisions must replay the same on recorded traces).' },
        { object: 'globalThis', property: 'setTimeout', message: 'libs/policy is pure: no timers.' },
        { object: 'globalThis', property: 'performance', message: 'libs/policy is pure: time comes in as `now`.' },
      ],
    },
  },
  // A library's API is what its index lists by name: no `export *` (a helper added to a module does not become API).
  {
    files: ['libs/**/src/index.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: 'ExportAllDeclaration', message: 'List what the library exports by name (a curated API), not export *.' },
      ],
    },
  },
  // Its sources read no environment either (specs may print what they measured).
  {
    files: ['libs/policy/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name=/^(describe|it|test)$/][callee.property.name='only']", message: 'No focused tests.' },
        { selector: "Identifier[name='process']", message: 'libs/policy is pure: no environment, no process state. Take parameters as arguments.' },
      ],
    },
  },
  {
    files: ['apps/agent/**/*.ts', 'libs/drivers/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: NO_NEST_OR_SQLITE, message: 'Agent and driver code never imports Nest or SQLite.' }] }],
    },
  },
  // The Braiins OS+ driver speaks the miner's own gRPC API (bos-plus-api, TCP 50051): the one driver allowed @grpc/grpc-js
  // and @grpc/proto-loader. Same constraint as scope:driver above otherwise.
  {
    files: ['libs/drivers/braiins/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          { sourceTag: 'scope:driver', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol', 'scope:driver'],
            bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes', '@grpc/reflection'] },
        ],
      }],
    },
  },
  {
    files: ['bin/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Specs and benches are linted against the same boundaries, plus the test helpers and simulators. A spec that needs
  // two apps belongs in e2e/ (a project of its own, tagged scope:testing).
  {
    files: ['**/*.spec.ts', '**/*.e2e.ts', '**/bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: TEST_DEP_CONSTRAINTS }],
    },
  },
];
