import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import { sanitizeReading } from '@rigwarden/drivers-core';
import { BOS_LOADER_OPTIONS, BOS_PROTO_FILES, findBosProtoDir } from './braiins-proto.loader';
import { mapReading, mapState, type BraiinsReplies } from './braiins-reading.mapper';
import * as rest from './testing/rest-json.adapter';

/**
 * The Braiins OS+ replies recorded through the REST mirror of the gRPC API (asic-rs test data, BOS 25.07, 25.11,
 * 26.04; see each .source.txt) turned into their gRPC messages, encoded and decoded with the bos-plus-api .proto
 * files as a gRPC reply would be, then read by the driver's mapper. Expected values were taken from the files by hand.
 */
const TESTDATA = join(__dirname, '..', 'testdata');
const protoDir = findBosProtoDir();
const definition = loadSync([...BOS_PROTO_FILES, 'bos/v1/network.proto', 'bos/version.proto'], { ...BOS_LOADER_OPTIONS, includeDirs: [protoDir] });
const root = loadPackageDefinition(definition);
const bos = (root['braiins'] as GrpcObject)['bos'] as GrpcObject;
const v1 = bos['v1'] as GrpcObject;

function service(name: string): ServiceClientConstructor {
  return (v1[name] ?? bos[name]) as ServiceClientConstructor;
}

/** Each recorded file: the RPC whose reply it is, and how the REST JSON becomes that reply's message. */
const FILES: Record<string, [string, string, (json: never) => object]> = {
  'actions_locate.json': ['ActionsService', 'GetLocateDeviceStatus', rest.locateStatus],
  'configuration_miner.json': ['ConfigurationService', 'GetMinerConfiguration', rest.minerConfiguration],
  'cooling_state.json': ['CoolingService', 'GetCoolingState', rest.identity],
  'miner_details.json': ['MinerService', 'GetMinerDetails', rest.minerDetails],
  'miner_errors.json': ['MinerService', 'GetErrors', rest.identity],
  'miner_hw_hashboards.json': ['MinerService', 'GetHashboards', rest.hashboards],
  'miner_stats.json': ['MinerService', 'GetMinerStats', rest.identity],
  'network.json': ['NetworkService', 'GetNetworkInfo', rest.identity],
  'performance_tuner_state.json': ['PerformanceService', 'GetTunerState', rest.tunerState],
  'pools.json': ['PoolService', 'GetPoolGroups', rest.poolGroups],
  'version.json': ['ApiVersionService', 'GetApiVersion', rest.identity],
};

/** The recorded reply as the driver would receive it over gRPC. */
function decode(folder: string, file: string): Record<string, unknown> {
  const [svc, method, adapt] = FILES[file]!;
  const json = JSON.parse(readFileSync(join(TESTDATA, folder, file), 'utf8')) as never;
  const def = service(svc).service[method]!;
  return def.responseDeserialize(def.responseSerialize(adapt(json))) as Record<string, unknown>;
}

function replies(folder: string): BraiinsReplies {
  const r = (file: string): never => decode(folder, file) as never;
  return {
    details: r('miner_details.json'), stats: r('miner_stats.json'), hashboards: r('miner_hw_hashboards.json'),
    cooling: r('cooling_state.json'), poolGroups: r('pools.json'), tuner: r('performance_tuner_state.json'),
    configuration: r('configuration_miner.json'),
  };
}

const FOLDERS = readdirSync(TESTDATA).filter((d) => d.startsWith('braiins-os-') && d.endsWith('-rest')).sort();

describe('braiins-grpc: recorded Braiins OS+ replies', () => {
  it('braiins recorded replies: there are three firmware folders, each with a provenance file per reply', () => {
    expect(FOLDERS).toEqual(['braiins-os-25.07-rest', 'braiins-os-25.11-rest', 'braiins-os-26.04-rest']);
    for (const folder of FOLDERS) {
      const files = readdirSync(join(TESTDATA, folder));
      for (const f of files.filter((n) => n.endsWith('.json'))) expect(files).toContain(f.replace(/\.json$/, '.source.txt'));
    }
  });

  it.each(FOLDERS)('braiins recorded replies: every reply in %s decodes as its gRPC message', (folder) => {
    const files = readdirSync(join(TESTDATA, folder)).filter((n) => n.endsWith('.json')).sort();
    expect(files).toEqual(Object.keys(FILES).sort());
    for (const file of files) expect(Object.keys(decode(folder, file)).length).toBeGreaterThan(0);
    expect(decode(folder, 'actions_locate.json')).toEqual({ enabled: false });
    expect(decode(folder, 'network.json')).toMatchObject({ name: 'eth0', protocol: 1 });
    expect((decode(folder, 'miner_errors.json')['errors'] as unknown[]).length).toBeGreaterThan(0);
  });

  it('braiins recorded replies: 25.07 S19 XP reads as 141.5 TH/s on three BM1366 boards, 3137 W, pool 1 active', () => {
    const r = replies('braiins-os-25.07-rest');
    const reading = sanitizeReading(mapReading(r, { host: '10.107.0.125', port: 50051 }));
    expect(reading).toMatchObject({
      model: 'Antminer S19 XP', firmware: 'Braiins OS+ 25.07 (2025-08-06-0-3881c51d-25.07-plus)', software: 'bosminer+',
      uptimeS: 69685, powerW: 3137, accepted: 10464, rejected: 18, stale: 0, currentPoolUrl: 'stratum+tcp://example.pool.com:3333', fieldWarnings: [],
    });
    expect(reading.hashrate5sHs).toBeCloseTo(141_463.56540072063e9, -3);
    expect(reading.hashrateAvgHs).toBeCloseTo(138_207.05294534727e9, -3);
    expect(reading.boards.map((b) => [b.index, b.chips, b.boardTempC, b.chipTempC, b.status, b.name])).toEqual([
      [1, 110, 55.5, 70.5, BoardStatus.BOARD_STATUS_OK, 'BHB56801 BM1366'],
      [2, 110, 52, 67, BoardStatus.BOARD_STATUS_OK, 'BHB56801 BM1366'],
      [3, 110, 54, 69, BoardStatus.BOARD_STATUS_OK, 'BHB56801 BM1366'],
    ]);
    expect(reading.boards[0]!.hashrateHs).toBeCloseTo(50_137.72942148807e9, -3);
    expect(reading.boards[2]!.frequencyMhz).toBe(500);
    expect(reading.fans.map((f) => [f.index, f.rpm, f.percent])).toEqual([[0, 5904, 100], [1, 5874, 100], [2, 5874, 100], [3, 5904, 100]]);
    expect(reading.pools.map((p) => [p.index, p.url, p.user, p.status, p.active, p.accepted, p.rejected])).toEqual([
      [0, 'stratum+tcp://example.pool.com:3333', 'asic_rs.test', PoolStatus.POOL_STATUS_ALIVE, true, 10460, 18],
      [1, 'stratum+tcp://example.pool2.com:3333', 'asic_rs.test', PoolStatus.POOL_STATUS_ALIVE, false, 4, 0],
    ]);
    expect(reading.pools[0]!.lastShareTime).toEqual(new Date(1776446524734));
    expect(mapState(r)).toMatchObject({
      macAddress: '02:ee:da:a9:b6:4a', minerStatus: 'normal', coolingMode: '',
      tuner: { enabled: true, mode: 'power-target', state: 'stable', powerTargetW: 3031 },
      poolGroups: [{ name: 'foremanGroup', pools: [{ url: 'stratum+tcp://example.pool.com:3333', active: true }, { active: false }] }],
    });
  });

  it('braiins recorded replies: 25.11 S19 XP tuned down to 2431 W reads as 121.0 TH/s, the 2nd pool without a share time', () => {
    const r = replies('braiins-os-25.11-rest');
    const reading = sanitizeReading(mapReading(r, { host: '10.107.0.120', port: 50051 }));
    expect(reading).toMatchObject({ model: 'Antminer S19 XP', firmware: 'Braiins OS+ 25.11 (2025-11-21-0-eb658dcd-25.11-plus)', powerW: 2472, accepted: 5048, rejected: 10 });
    expect(reading.hashrate5sHs).toBeCloseTo(121_015.4090279137e9, -3);
    expect(reading.boards.map((b) => b.chipTempC)).toEqual([71.5, 69.5, 71]);
    expect(reading.pools[1]!.lastShareTime).toBeUndefined();
    expect(mapState(r).tuner).toEqual({ enabled: true, mode: 'power-target', state: 'stable', powerTargetW: 2431 });
    expect(mapState(r).macAddress).toBe('90:34:86:54:14:c0');
  });

  it('braiins recorded replies: 26.04 S21 Pro reads as 248.2 TH/s on three BM1370 boards of 65 chips, fans at 92 %', () => {
    const r = replies('braiins-os-26.04-rest');
    const reading = sanitizeReading(mapReading(r, { host: '10.102.0.173', port: 50051 }));
    expect(reading).toMatchObject({ model: 'Antminer S21 Pro', firmware: 'Braiins OS+ 26.04 (2026-04-14-0-912d084c-26.04-plus)', uptimeS: 7039, powerW: 3480, accepted: 848 });
    expect(reading.hashrate5sHs).toBeCloseTo(248_186.67720002498e9, -3);
    expect(reading.boards.map((b) => [b.chips, b.boardTempC, b.name])).toEqual([[65, 50.375, 'A3HB70601 BM1370'], [65, 48.5625, 'A3HB70601 BM1370'], [65, 48.5, 'A3HB70601 BM1370']]);
    expect(reading.fans.map((f) => [f.rpm, f.percent])).toEqual([[5943, 92], [5943, 92], [5943, 92], [5973, 92]]);
    expect(reading.hashrateWindows.find((w) => w.label === '24h')?.hashrateHs).toBeCloseTo(19_713.35267761372e9, -3);
    expect(mapState(r)).toMatchObject({ serialNumber: 'THQGFKUBDJIAH0E9G', tuner: { state: 'continuous', powerTargetW: 3500 } });
  });
});
