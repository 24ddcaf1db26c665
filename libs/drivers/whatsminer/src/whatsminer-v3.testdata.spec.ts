import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import { sanitizeReading } from '@rigwarden/drivers-core';
import { decodeReply } from './whatsminer-v3.client';
import { decodeV3ErrorCodes, decodeV3Identity, decodeV3Reading, decodeV3Settings } from './whatsminer-v3.decoder';

const TESTDATA = join(__dirname, '..', 'testdata');
const M60S = join(TESTDATA, 'whatsminer-m60s_vk40-20251209.16.Rel2');
const context = { host: 'testdata', port: 4433, command: 'replay' };

function reply(file: string): { code: number; desc: string; msg: Record<string, unknown> } {
  const r = decodeReply(readFileSync(join(M60S, file)), context);
  return r as { code: number; desc: string; msg: Record<string, unknown> };
}

describe('whatsminer v3 recorded replies (testdata/)', () => {
  // API v2 replies (apiv2 folders) are decoded by whatsminer-v2.testdata.spec.ts.
  const folders = readdirSync(TESTDATA).filter((f) => !f.includes('apiv2'));
  const files = folders.flatMap((f) => readdirSync(join(TESTDATA, f)).filter((n) => n.endsWith('.json')).map((n) => join(f, n)));

  it('every recorded reply has its provenance file next to it', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const source = readFileSync(join(TESTDATA, f.replace(/\.json$/, '.source.txt')), 'utf8');
      expect(source).toMatch(/^copied from: \.\.\/shared\/fixtures\/web\/whatsminer-apiv3\//);
      expect(source).toMatch(/classification: captured-inferred/);
    }
  });

  it.each(files)('%s decodes as a v3 reply with code 0 and the command in desc', (f) => {
    const r = decodeReply(readFileSync(join(TESTDATA, f)), context);
    expect(r.code).toBe(0);
    expect(r.desc).toMatch(/^get\.(device\.info|miner\.status)$/);
    expect(r.when).toBe(1773869570);
  });

  it('M60S_VK40: the four reads make one reading with the values checked by hand', () => {
    const reading = sanitizeReading(decodeV3Reading({
      deviceInfo: reply('get_device_info.json').msg,
      summary: reply('get_miner_status_summary.json').msg['summary'],
      pools: reply('get_miner_status_pools.json').msg['pools'],
      edevs: reply('get_miner_status_edevs.json').msg['edevs'],
    }));
    expect(reading).toMatchObject({
      vendor: 'whatsminer', model: 'Whatsminer M60S_VK40', firmware: 'btminer 20251209.16.Rel2', software: 'btminer',
      softwareVersion: '20251209.16.Rel2', driver: 'whatsminer-v3', algorithm: 'sha256d', uptimeS: 50000, powerW: 3156,
      hashrateAvgHs: 170.8e12, currentPoolUrl: 'stratum+tcp://btc.example.pool:3333', fieldWarnings: [],
    });
    expect(reading.hashrate5sHs).toBeUndefined(); // v3 has no 5 s window
    expect(reading.hashrateWindows.map((w) => [w.label, w.windowS, w.hashrateHs])).toEqual([
      ['rt', undefined, 171.259e12], ['1m', 60, 171.2e12], ['15m', 900, 170.5e12], ['av', undefined, 170.8e12],
    ]);
    expect(reading.fans).toEqual([{ index: 0, rpm: 5400, percent: undefined }, { index: 1, rpm: 5280, percent: undefined }]);
    expect(reading.boards.map((b) => [b.index, b.hashrateHs, b.boardTempC, b.chipTempC, b.chips, b.frequencyMhz, b.status])).toEqual([
      [0, 57.1e12, 41.1, 80, 75, 625, BoardStatus.BOARD_STATUS_OK],
      [1, 56.8e12, 40.1, 82, 75, 625, BoardStatus.BOARD_STATUS_OK],
      [2, 56.9e12, 41.5, 81, 75, 625, BoardStatus.BOARD_STATUS_OK],
    ]);
    expect(reading.pools.map((p) => [p.index, p.url, p.user, p.status, p.priority, p.active, p.stratumActive, p.activeEvidence])).toEqual([
      [0, 'stratum+tcp://btc.example.pool:3333', 'asic-rs.test', PoolStatus.POOL_STATUS_ALIVE, 0, true, true, 'stratum-active'],
      [1, 'stratum+tcp://btc2.example.pool:3333', 'asic-rs.test', PoolStatus.POOL_STATUS_ALIVE, 1, false, false, ''],
      [2, 'stratum+tcp://btc3.example.pool:3333', 'asic-rs.test', PoolStatus.POOL_STATUS_ALIVE, 2, false, false, ''],
    ]);
    expect(reading.pools[0]!.accepted).toBeUndefined(); // v3 pools carry no share counters
  });

  it('M60S_VK40 get.device.info: salt readable without authentication, LED auto, btminer working, no mode in the earliest reply', () => {
    const info = reply('get_device_info.json').msg;
    expect(info['salt']).toBe('uhCiDyVj');
    expect(decodeV3Settings(info)).toEqual({ ledStatus: 'auto', working: true });
    expect(decodeV3ErrorCodes(info)).toEqual([]);
    expect(decodeV3Identity(info)).toEqual({
      vendor: 'whatsminer', model: 'Whatsminer M60S_VK40', firmware: 'btminer 20251209.16.Rel2', apiVersion: '3.0.2', serial: 'BTM3CS40HD24083100000000000000000',
    });
  });

  it('M60S_VK40 get.device.info with errors: the error-code list and power.mode "1" (normal)', () => {
    const info = reply('get_device_info_with_errors.json').msg;
    expect(decodeV3ErrorCodes(info)).toEqual([
      { code: 218, text: '2024-06-15 10:30:00' },
      { code: 541, text: 'Slot 1 error reading chip id.', reason: 'hashboard' },
    ]);
    expect(decodeV3Settings(info).powerMode).toBe('normal');
  });

  it('M60S_VK40 summary: the power limit (3600 W) is read back from summary power-limit', () => {
    expect(decodeV3Settings(reply('get_device_info.json').msg, reply('get_miner_status_summary.json').msg['summary']).powerLimitW).toBe(3600);
  });

  it('summary alone (no edevs reply) still shows the three board temperatures', () => {
    const reading = decodeV3Reading({ deviceInfo: reply('get_device_info.json').msg, summary: reply('get_miner_status_summary.json').msg['summary'] });
    expect(reading.boards.map((b) => b.boardTempC)).toEqual([41.1, 40.1, 41.5]);
  });
});
