import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoardStatus, type Board } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import { decodeGminerStat } from './gminer.driver';
import { decodeLolminerSummary } from './lolminer.driver';
import { decodeTrexSummary } from './trex.driver';
import { decodeXmrig } from './xmrig.driver';

const TESTDATA = join(__dirname, '../../testdata');
const read = (dir: string, file: string): unknown => JSON.parse(readFileSync(join(TESTDATA, dir, file), 'utf8'));

function decodeFolder(dir: string): MinerReading {
  if (dir.startsWith('t-rex-')) return decodeTrexSummary(read(dir, 'summary.json'));
  if (dir.startsWith('lolminer-')) return decodeLolminerSummary(read(dir, 'summary.json'));
  if (dir.startsWith('gminer-')) return decodeGminerStat(read(dir, 'stat.json'));
  if (dir.startsWith('xmrig-')) {
    const files = readdirSync(join(TESTDATA, dir));
    return decodeXmrig(read(dir, 'summary.json'), files.includes('backends.json') ? read(dir, 'backends.json') : undefined);
  }
  throw new Error(`no decoder for testdata/${dir}`);
}

const folders = readdirSync(TESTDATA).sort();

describe('gpu testdata', () => {
  it('holds every recorded GPU miner reply from ../shared/fixtures/gpu (12 files in 11 folders)', () => {
    const dataFiles = folders.flatMap((d) => readdirSync(join(TESTDATA, d)).filter((f) => f.endsWith('.json')));
    expect(folders).toHaveLength(11);
    expect(dataFiles).toHaveLength(12);
  });

  describe.each(folders)('%s', (dir) => {
    it('every data file has a provenance file whose sha256 matches', () => {
      for (const file of readdirSync(join(TESTDATA, dir)).filter((f) => f.endsWith('.json'))) {
        const source = readFileSync(join(TESTDATA, dir, file.replace(/\.json$/, '.source.txt')), 'utf8');
        const sha = /sha256 of data file: ([0-9a-f]{64})/.exec(source)?.[1];
        expect(sha).toBe(createHash('sha256').update(readFileSync(join(TESTDATA, dir, file))).digest('hex'));
        expect(source).toMatch(/^repo: /m);
      }
    });

    it('decodes into a reading with sane GPU boards', () => {
      const reading = decodeFolder(dir);
      expect(reading.driver).not.toBe('');
      expect(reading.firmware).not.toBe('');
      expect(reading.hashrate5sHs).toBeGreaterThan(0);
      expect(reading.algorithm).toMatch(/^[a-z0-9_/-]*$/);
      for (const board of reading.boards) {
        // Absent is undefined, never 0: no 0 °C, 0 W or 0 % from a miner that could not read a sensor.
        for (const key of ['boardTempC', 'powerW', 'fanPercent', 'coreClockMhz', 'memoryClockMhz'] as const) {
          if (board[key] !== undefined) expect(board[key]).toBeGreaterThan(0);
        }
        if (board.pciBusId !== '') expect(board.pciBusId).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
        expect(Number.isFinite(board.hashrateHs ?? 0)).toBe(true);
      }
    });
  });
});

function board(reading: MinerReading, index: number): Board {
  const found = reading.boards.find((b) => b.index === index);
  if (!found) throw new Error(`no board ${index}`);
  return found;
}

describe('hand-checked values (one file per miner)', () => {
  it('t-rex 0.6.3 (API 1.1): 8 GPUs, H/s as sent, vendor prefixed to the name', () => {
    const r = decodeFolder('t-rex-0.6.3');
    expect(r).toMatchObject({
      vendor: 't-rex', firmware: 't-rex 0.6.3', uptimeS: 31, hashrate5sHs: 150645350, hashrateAvgHs: undefined,
      accepted: 10, rejected: 0, algorithm: 'x16r', powerW: 193 + 194 + 193 + 198 + 189 + 190 + 194 + 181,
    });
    expect(r.pools).toEqual([expect.objectContaining({ url: 'stratum+tcp://us.ravenminer.com:4567', user: 'xxxx', active: true })]);
    expect(r.boards).toHaveLength(8);
    expect(board(r, 0)).toMatchObject({
      index: 0, name: 'EVGA GeForce GTX 1070 Ti', hashrateHs: 19101584, boardTempC: 57, fanPercent: 56, powerW: 193,
      pciBusId: '', status: BoardStatus.BOARD_STATUS_OK,
    });
    expect(board(r, 7)).toMatchObject({ hashrateHs: 18234722, boardTempC: 58, fanPercent: 57, powerW: 181 });
  });

  it('t-rex 0.5.6 (API 1.0): hashrate only, everything else absent', () => {
    const r = decodeFolder('t-rex-0.5.6');
    expect(board(r, 3)).toMatchObject({ hashrateHs: 3039842, boardTempC: undefined, fanPercent: undefined, powerW: undefined });
    expect(r.powerW).toBeUndefined();
    expect(r.algorithm).toBe('lyra2z');
  });

  it('t-rex 0.9.1 (API 3.0): vendor NVIDIA is not prefixed, no fan or power reported', () => {
    const r = decodeFolder('t-rex-0.9.1');
    expect(r).toMatchObject({ firmware: 't-rex 0.9.1', uptimeS: 56, hashrate5sHs: 7748158, accepted: 1, rejected: 0, algorithm: 'x16r' });
    expect(r.pools[0]?.url).toBe('stratum+tcp://pool.minermore.com:4501');
    expect(r.boards).toEqual([expect.objectContaining({ index: 0, name: 'GeForce GTX 1050 Ti', hashrateHs: 7748158, boardTempC: 68, fanPercent: undefined, powerW: undefined })]);
  });

  it('lolminer 1.0a2: sol/s, bus "1:0", zero fan and power are absent', () => {
    const r = decodeFolder('lolminer-1.0a2');
    expect(r).toMatchObject({
      vendor: 'lolminer', firmware: 'lolMiner 1.0 a2', uptimeS: 10, hashrate5sHs: 6.7, accepted: 0, rejected: 0,
      algorithm: 'zelhash', powerW: undefined,
    });
    expect(r.pools[0]).toMatchObject({ url: 'stratum.zel.cash:2001', user: 't1cLkQpx3kEJw2TjPnTmCpe4KqLvER8NknA.testWorker' });
    expect(r.boards).toEqual([expect.objectContaining({
      index: 0, pciBusId: '0000:01:00.0', name: 'GeForce GTX 1050 Ti', hashrateHs: 6.7, boardTempC: 49,
      fanPercent: undefined, powerW: undefined, accepted: 0, rejected: 0,
    })]);
  });

  it('lolminer 0.6: Equihash 210/9 with no unit field', () => {
    const r = decodeFolder('lolminer-0.6');
    expect(r).toMatchObject({ algorithm: 'equihash210_9', hashrate5sHs: 65.1, accepted: 4, rejected: 0 });
    expect(board(r, 0)).toMatchObject({ boardTempC: undefined, accepted: 4, rejected: 0 });
  });

  it('gminer (older): 4 GPUs by bus id, totals summed from the devices', () => {
    const r = decodeFolder('gminer-older');
    expect(r.boards.map((b) => b.pciBusId)).toEqual(['0000:01:00.0', '0000:02:00.0', '0000:03:00.0', '0000:04:00.0']);
    expect(board(r, 1)).toMatchObject({
      name: 'EVGA GeForce GTX 1070 Ti 8GB', hashrateHs: 65.1, boardTempC: 48, powerW: 202, accepted: 1, rejected: 0,
    });
    expect(r.hashrate5sHs).toBeCloseTo(61.1 + 65.1 + 62.1 + 65.1, 6);
    expect(r).toMatchObject({ uptimeS: 37, accepted: 5, rejected: 0, powerW: 806 });
    expect(r.pools[0]?.url).toBe('stratum://eu.btgpool.pro:1445');
  });

  it('gminer 1.18 and 1.34: power_usage 0 is absent, Sol/s unit, personalisation dropped from the algorithm', () => {
    expect(board(decodeFolder('gminer-1.18'), 0)).toMatchObject({ powerW: undefined, boardTempC: 55, hashrateHs: 68 });
    const r = decodeFolder('gminer-1.34');
    expect(r).toMatchObject({ firmware: 'GMiner 1.34', algorithm: 'equihash150_5', accepted: 0, rejected: 0, powerW: 32 });
    expect(board(r, 0)).toMatchObject({ pciBusId: '0000:02:00.0', name: 'ASUS Radeon RX 560 Series 4GB', hashrateHs: 1.2 });
  });

  it('xmrig 5.5.3: /1/summary totals plus the one CUDA GPU from /2/backends (CPU and disabled OpenCL are not boards)', () => {
    const r = decodeFolder('xmrig-5.5.3');
    expect(r).toMatchObject({
      vendor: 'xmrig', firmware: 'xmrig 5.5.3', uptimeS: 71, hashrate5sHs: 899.09, hashrateAvgHs: undefined,
      accepted: 0, rejected: 0, algorithm: 'randomx', powerW: undefined,
    });
    expect(r.pools[0]?.url).toBe('donate.v2.xmrig.com:3333');
    expect(r.boards).toEqual([expect.objectContaining({
      index: 0, pciBusId: '0000:01:00.0', name: 'GeForce GTX 1050 Ti', hashrateHs: 161.95, boardTempC: 48,
      powerW: undefined, fanPercent: undefined, coreClockMhz: 1784, memoryClockMhz: 2504,
    })]);
  });

  it('xmrig 2.6.1 (xmrig-nvidia): one board per health entry, 15-minute 0.0 read as not filled yet', () => {
    const r = decodeFolder('xmrig-2.6.1-nvidia');
    expect(r).toMatchObject({ hashrate5sHs: 3522.59, hashrateAvgHs: undefined, accepted: 4, rejected: 0, algorithm: 'cryptonight' });
    expect(r.boards).toHaveLength(8);
    expect(board(r, 0)).toMatchObject({ hashrateHs: 477.26, boardTempC: 54, fanPercent: 53, powerW: 93, coreClockMhz: 1961, memoryClockMhz: 4158 });
    expect(r.powerW).toBe(93 + 76 + 77 + 76 + 75 + 77 + 76 + 53);
  });

  it('xmrig 2.4.0 (CPU): no boards, the 15-minute window as the average', () => {
    const r = decodeFolder('xmrig-2.4.0-cpu');
    expect(r).toMatchObject({ boards: [], hashrate5sHs: 232.1, hashrateAvgHs: 252.8, accepted: 1849, rejected: 0 });
  });
});
