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
        depConstraints: [
          // The agent is plain Node: drivers, protocol and policy only.
          { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:shared', 'scope:driver', 'scope:policy'],
            bannedExternalImports: NO_NEST_OR_SQLITE },
          { sourceTag: 'scope:driver', onlyDependOnLibsWithTags: ['scope:shared', 'scope:driver'],
            bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes', '@grpc/*'] },
          { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:shared'],
            bannedExternalImports: IO_MODULES },
          { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'],
            bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes'] },
          { sourceTag: 'scope:controller', onlyDependOnLibsWithTags: ['scope:shared', 'scope:policy'] },
          { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared'],
            bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes'] },
          { sourceTag: 'scope:sim', onlyDependOnLibsWithTags: ['scope:shared', 'scope:sim'],
            bannedExternalImports: NO_NEST_OR_SQLITE },
          { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['*'] },
        ],
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
      'no-restricted-imports': ['error', { patterns: [{ group: IO_MODULES, message: 'libs/policy is pure: no I/O imports. Take data as arguments.' }] }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'Use the injected clock (now) instead of Date.' }],
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
          { sourceTag: 'scope:driver', onlyDependOnLibsWithTags: ['scope:shared', 'scope:driver'],
            bannedExternalImports: [...NO_NEST_OR_SQLITE, 'mqtt', 'aedes', '@grpc/reflection'] },
        ],
      }],
    },
  },
  {
    files: ['bin/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Tests may reach test helpers anywhere.
  {
    files: ['**/*.spec.ts', '**/*.e2e.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
