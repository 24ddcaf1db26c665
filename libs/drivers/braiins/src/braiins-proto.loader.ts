import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/**
 * The bos-plus-api .proto files (copied byte-for-byte into libs/drivers/braiins/proto) loaded at run time with
 * @grpc/proto-loader. Run-time loading keeps the upstream files as they are (no generated code to keep fresh);
 * the bundled apps find them in dist/<app>/braiins-proto, which tools/build.mjs fills.
 */

/** The files with the services the driver and the simulator use; their imports come along. */
export const BOS_PROTO_FILES = [
  'bos/v1/actions.proto',
  'bos/v1/authentication.proto',
  'bos/v1/configuration.proto',
  'bos/v1/cooling.proto',
  'bos/v1/miner.proto',
  'bos/v1/performance.proto',
  'bos/v1/pool.proto',
  'bos/version.proto',
] as const;

/**
 * How messages are decoded: field names as in the .proto (snake_case), 64-bit numbers as JS numbers (watts, share
 * counts and uptimes stay far below 2^53), enums as their numbers (as the REST mirror sends them), absent fields
 * left out (presence matters: a missing temperature is not 0 °C), repeated fields always arrays, and the name of
 * the set member of each oneof in the oneof's own field (`mode_state: 'power_target_mode_state'`).
 */
export const BOS_LOADER_OPTIONS: Options = Object.freeze({
  keepCase: true, longs: Number, enums: Number, defaults: false, arrays: true, oneofs: true,
});

/** The services by their short names, as grpc-js client constructors (which also carry the service definition). */
export interface BosServices {
  /** braiins.bos.ApiVersionService: answers without a token. */
  ApiVersionService: ServiceClientConstructor;
  AuthenticationService: ServiceClientConstructor;
  ActionsService: ServiceClientConstructor;
  ConfigurationService: ServiceClientConstructor;
  CoolingService: ServiceClientConstructor;
  MinerService: ServiceClientConstructor;
  PerformanceService: ServiceClientConstructor;
  PoolService: ServiceClientConstructor;
}

/** Where the .proto files are: next to the sources (tests, ts-node) or next to a bundled app's main.js. */
export function findBosProtoDir(candidates: readonly string[] = [join(__dirname, '..', 'proto'), join(__dirname, 'braiins-proto')]): string {
  const found = candidates.find((dir) => existsSync(join(dir, 'bos', 'v1', 'miner.proto')));
  if (!found) throw new Error(`the bos-plus-api .proto files are missing: looked in ${candidates.join(', ')}`);
  return found;
}

const cache = new Map<string, BosServices>();

/** Loads (once per folder) and returns the bos-plus-api services. */
export function loadBosServices(protoDir: string = findBosProtoDir()): BosServices {
  const cached = cache.get(protoDir);
  if (cached) return cached;
  const definition = loadSync([...BOS_PROTO_FILES], { ...BOS_LOADER_OPTIONS, includeDirs: [protoDir] });
  const root = loadPackageDefinition(definition);
  const bos = (root['braiins'] as GrpcObject)['bos'] as GrpcObject;
  const v1 = bos['v1'] as GrpcObject;
  const service = (name: keyof BosServices): ServiceClientConstructor => {
    const ctor = name === 'ApiVersionService' ? bos[name] : v1[name];
    if (typeof ctor !== 'function') throw new Error(`braiins.bos.v1.${name} is not in the loaded .proto files`);
    return ctor as ServiceClientConstructor;
  };
  const services: BosServices = {
    ApiVersionService: service('ApiVersionService'),
    AuthenticationService: service('AuthenticationService'),
    ActionsService: service('ActionsService'),
    ConfigurationService: service('ConfigurationService'),
    CoolingService: service('CoolingService'),
    MinerService: service('MinerService'),
    PerformanceService: service('PerformanceService'),
    PoolService: service('PoolService'),
  };
  cache.set(protoDir, services);
  return services;
}
