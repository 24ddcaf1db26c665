import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import { sanitizeReading } from '@rigwarden/drivers-core';
import { decodeBosGraphql, type BosGraphqlDecoded } from './bos-graphql.decoder';

/** The legacy GraphQL/LuCI replies recorded from BOS 22.08-25.05 (asic-rs test data; see each .source.txt). */
const TESTDATA = join(__dirname, '..', 'testdata');

function load(version: string, file: string): unknown {
  return JSON.parse(readFileSync(join(TESTDATA, `braiins-os-${version}-graphql`, `${file}.json`), 'utf8')) as unknown;
}

function decode(version: string): BosGraphqlDecoded {
  const decoded = decodeBosGraphql({
    system: load(version, 'gql_system'), boards: load(version, 'gql_boards'), pools: load(version, 'gql_pools'),
    tuning: load(version, 'gql_tuning'), netConf: load(version, 'web_net_conf'),
  }, { host: '10.0.0.9', port: 80 });
  return { ...decoded, reading: sanitizeReading(decoded.reading) };
}

describe('bos-graphql decoder: recorded legacy Braiins OS replies', () => {
  it('bos-graphql: every recorded folder has the five replies (and events from 24.09), each with its provenance', () => {
    const folders = readdirSync(TESTDATA).filter((d) => d.endsWith('-graphql')).sort();
    expect(folders).toEqual(['braiins-os-22.08-graphql', 'braiins-os-24.09-graphql', 'braiins-os-25.03-graphql', 'braiins-os-25.05-graphql']);
    for (const folder of folders) {
      const files = readdirSync(join(TESTDATA, folder));
      for (const f of files.filter((n) => n.endsWith('.json'))) expect(files).toContain(f.replace(/\.json$/, '.source.txt'));
      expect(files.filter((n) => n.endsWith('.json')).sort()).toEqual(
        [...(folder.includes('22.08') ? [] : ['gql_events.json']), 'gql_boards.json', 'gql_pools.json', 'gql_system.json', 'gql_tuning.json', 'web_net_conf.json'].sort());
    }
  });

  it('bos-graphql: 22.08 (replies without "data") reads an S9-class miner: boards 6-8 at Board/Chip temps, two fitted fans, two groups', () => {
    const d = decode('22.08');
    expect(d.reading).toMatchObject({
      firmware: 'Braiins OS+ 22.08 (2022-09-13-0-11012d53-22.08-plus)', software: 'bosminer+', powerW: 735, accepted: 49, rejected: 0,
      currentPoolUrl: 'stratum+tcp://btc1.example.pool:3333', driver: 'braiins-graphql', fieldWarnings: [],
    });
    expect(d.reading.hashrate5sHs).toBeCloseTo(7_160_208.944955902e6, -3);
    expect(d.reading.boards.map((b) => [b.index, b.chips, b.boardTempC, b.chipTempC, b.status])).toEqual([
      [6, 63, 71, 81.625, BoardStatus.BOARD_STATUS_OK], [7, 63, 75.375, 89.25, BoardStatus.BOARD_STATUS_OK], [8, 63, 66.125, 80, BoardStatus.BOARD_STATUS_OK],
    ]);
    expect(d.reading.fans).toEqual([{ index: 0, rpm: 4080, percent: 100 }, { index: 1, rpm: 5580, percent: 100 }]);
    expect(d.reading.pools.map((p) => [p.url, p.active, p.priority, p.status])).toEqual([
      ['stratum+tcp://btc1.example.pool:3333', true, 0, PoolStatus.POOL_STATUS_ALIVE], ['stratum+tcp://btc2.example.pool:3333', true, 0, PoolStatus.POOL_STATUS_ALIVE],
    ]);
    expect(d).toMatchObject({ macAddress: '01:23:45:67:89:10', hostname: 'miner-60726c', faultLight: false, tuner: { mode: 'POWER_TARGET', powerTargetW: 900 } });
  });

  it('bos-graphql: 24.09 reads 230.7 TH/s, 3572 W and the configured 900 W target (the summary limit says 3500 W)', () => {
    const d = decode('24.09');
    expect(d.reading.hashrate5sHs).toBeCloseTo(230_700_949.2148378e6, -3);
    expect(d.reading).toMatchObject({ powerW: 3572, accepted: 111_406, rejected: 239, firmware: 'Braiins OS+ 24.09 (2024-10-17-0-75912fc7-24.09-plus)' });
    expect(d.reading.boards.map((b) => [b.chips, b.boardTempC, b.chipTempC])).toEqual([[65, 56.4375, 71.4375], [65, 53.375, 68.375], [65, 52.9375, 67.9375]]);
    expect(d.tuner.powerTargetW).toBe(900);
    expect(d.macAddress).toBe('02:9b:85:41:7e:08');
  });

  it('bos-graphql: 25.03 names its temperatures "Max Board" and "Max Chip" (beside Inlet/Outlet)', () => {
    const d = decode('25.03');
    expect(d.reading.boards.map((b) => [b.boardTempC, b.chipTempC])).toEqual([[60, 75], [58.5, 73.5], [expect.any(Number), expect.any(Number)]]);
    expect(d.reading).toMatchObject({ powerW: 4448, firmware: 'Braiins OS+ 25.03 (2025-04-07-0-424f9a7f-25.03-plus)' });
    expect(d.tuner.powerTargetW).toBe(3878);
  });

  it('bos-graphql: 25.05.1 names them MAX_BOARD and MAX_CHIP; three pools in one group, the first active', () => {
    const d = decode('25.05');
    expect(d.reading.boards.map((b) => [b.index, b.chips, b.boardTempC, b.chipTempC, b.frequencyMhz])).toEqual([
      [1, 55, 51.5, 66.5, 601.477272], [2, 55, 53.5, 68.5, 662.5], [3, 55, 54.5, 69.5, 662.5],
    ]);
    expect(d.reading).toMatchObject({ firmware: 'Braiins OS+ 25.05.1 (2025-06-25-0-45f356ea-25.05.1-plus)', powerW: 3698, accepted: 92_899, rejected: 164 });
    expect(d.reading.pools.map((p) => [p.priority, p.active])).toEqual([[0, true], [1, false], [2, false]]);
    expect(d.macAddress).toBe('02:b7:87:ee:7f:f5');
  });

  it('bos-graphql: the event replies (24.09-25.05) are an empty appeals list', () => {
    for (const v of ['24.09', '25.03', '25.05']) expect(load(v, 'gql_events')).toEqual({ data: { events: { appeals: [] } } });
  });
});
