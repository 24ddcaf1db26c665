// One Jest run for the whole workspace. @swc/jest with decorator metadata on
// (without it Nest injections are silently undefined).
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/e2e'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', swc] },
  // aedes 1.x and its helpers are ESM-only; transform them to CommonJS for Jest's runtime.
  transformIgnorePatterns: ['/node_modules/(?!(aedes|aedes-packet|aedes-persistence|mqemitter|hyperid|uuid-parse|fastparallel|fastfall|fastseries|reusify|retimer)/)'],
  // Mirrors the paths in tsconfig.base.json.
  moduleNameMapper: {
    '^@rigwarden/drivers-([a-z0-9-]+)$': '<rootDir>/libs/drivers/$1/src/index.ts',
    '^@rigwarden/(protocol|policy|simulators|testing|shared|security)$': '<rootDir>/libs/$1/src/index.ts',
  },

  setupFiles: ['<rootDir>/tools/jest-setup.js'],
  testTimeout: 20000,
};
