import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PoolStatus } from '@rigwarden/protocol';
import {
  decodeBlinkReply, decodeBlinkStatus, decodeMinerConf, decodeNetworkInfo, decodeSystemInfo, decodeWebPools, decodeWebStats, decodeWebSummary,
  firmwareLabel, isUnauthorizedPage, type MinerConf,
} from './antminer-web.decoder';
import { parseFirmwareJson } from './firmware-json';
import { buildBlinkRequest, buildFormWrite, buildJsonWrite, decodeWriteReply, powerModesOf, unknownConfKeys, writeRefusal } from './miner-conf.writer';

/**
 * Every reply recorded from a real Antminer (testdata/, copied from shared/fixtures/web with its .source.txt),
 * decoded with expectations checked by hand against the file. The request files recorded from the stock web UI
 * (or a client's tests) are what the writer must produce from the matching config.
 */
const TESTDATA = join(__dirname, '..', 'testdata');
const read = (rel: string): string => readFileSync(join(TESTDATA, rel), 'utf8');
const json = (rel: string): unknown => parseFirmwareJson(read(rel)).value;
const conf = (rel: string): MinerConf => {
  const parsed = parseFirmwareJson(read(rel));
  return decodeMinerConf(parsed.value, parsed.emptyKeys);
};
const TEST_POOLS = [1, 2, 3].map((n) => ({ url: `stratum+tcp://my-test-pool${n}.com:5588`, user: `my-test-username${n}`, pass: `my-test-password${n}` }));

const EXPECTATIONS: Record<string, () => void> = {
  // ------------------------------------------------------------ get_system_info.cgi
  'antminer-l3plus-cgminer-4.9.0-2017-08-25/get_system_info.json': () => {
    expect(decodeSystemInfo(json('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_system_info.json'))).toEqual({
      model: 'Antminer L3+', aftermarket: '', filesystemVersion: 'Fri Aug 25 17:28:57 CST 2017', firmwareType: '', serial: '',
      mac: 'C4:F3:12:B3:9F:FC', hostname: 'antMiner', software: 'cgminer', softwareVersion: '4.9.0',
    });
  },
  'antminer-s17plus-vnish-2.0.3-2020-08-15/get_system_info.json': () => {
    const info = decodeSystemInfo(json('antminer-s17plus-vnish-2.0.3-2020-08-15/get_system_info.json'));
    expect(info).toMatchObject({ model: 'Antminer S17+', aftermarket: 'vnish 2.0.3', software: 'bmminer', softwareVersion: '4.11.1' });
    expect(firmwareLabel(info)).toBe('vnish 2.0.3 (Sat Aug 15 18:55:51 CST 2020)');
  },
  'antminer-s19pro-2020-06-01/get_system_info.json': () => {
    const info = decodeSystemInfo(json('antminer-s19pro-2020-06-01/get_system_info.json'));
    expect(info).toMatchObject({ model: 'Antminer S19 Pro', firmwareType: 'Release', serial: '', software: '' });
    expect(firmwareLabel(info)).toBe('Mon Jun 1 20:27:44 CST 2020');
  },
  'antminer-s19-2023-11-17/get_system_info.json': () => {
    expect(decodeSystemInfo(json('antminer-s19-2023-11-17/get_system_info.json'))).toMatchObject({
      model: 'Antminer S19', filesystemVersion: 'Fri Nov 17 17:37:21 CST 2023', firmwareType: 'release', mac: '02:B3:B9:8C:1E:C8',
    });
  },
  'antminer-s21-2024-07-11/get_system_info.json': () => {
    expect(decodeSystemInfo(json('antminer-s21-2024-07-11/get_system_info.json'))).toMatchObject({
      model: 'Antminer S21', filesystemVersion: 'Thu Jul 11 16:38:25 CST 2024', serial: 'SMTTATUBDJAAI00A5',
    });
  },
  'antminer-s21-fr-1.12-251009/get_system_info.json': () => {
    const info = decodeSystemInfo(json('antminer-s21-fr-1.12-251009/get_system_info.json'));
    // 2025: a version tag instead of a date; the anonymised MAC ("3M") is kept as sent.
    expect(info).toMatchObject({ model: 'Antminer S21', filesystemVersion: 'FR-1.12(251009-S21)', serial: 'THQING0BDJAB024NF', mac: '02:55:97:22:3M:72' });
  },

  // ------------------------------------------------------------ get_network_info.cgi
  'antminer-l3plus-cgminer-4.9.0-2017-08-25/get_network_info.json': () => {
    expect(decodeNetworkInfo(json('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_network_info.json'))).toEqual({
      mac: 'C4:F3:12:B3:9F:FC', ip: '192.168.1.189', dhcp: true, configuredHostname: 'antMiner', configuredIp: '',
    });
  },
  'antminer-s21-2024-07-11/get_network_info.json': () => {
    expect(decodeNetworkInfo(json('antminer-s21-2024-07-11/get_network_info.json'))).toEqual({
      mac: '02:50:53:09:DA:D9', ip: '127.0.0.1', dhcp: true, configuredHostname: 'Antminer', configuredIp: '',
    });
  },

  // ------------------------------------------------------------ get_miner_conf.cgi
  'antminer-l3plus-cgminer-4.9.0-2017-08-25/get_miner_conf.json': () => {
    const c = conf('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'form', workModeRaw: undefined, workMode: undefined, emptyKeys: [], uninitialised: false });
    expect(c.pools.map((p) => p.url)).toEqual(['stratum-ltc.antpool.com:8888', 'stratum-ltc.antpool.com:443', 'stratum.f2pool.com:8888']);
    expect(powerModesOf(c)).toEqual([]);
    expect(unknownConfKeys(c)).toEqual([]);
  },
  'antminer-l3plus-cgminer-4.9.0-2017-08-25/get_miner_conf__custom_fan.json': () => {
    const c = conf('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_miner_conf__custom_fan.json');
    expect(c.raw).toMatchObject({ 'bitmain-fan-ctrl': true, 'bitmain-fan-pwm': '100', 'bitmain-freq': '384' });
    // The fan override is echoed in the form write, not dropped.
    expect(buildFormWrite(c, {})).toContain('&_ant_fan_customize_switch=true&_ant_fan_customize_value=100&_ant_freq=384');
  },
  'antminer-s17plus-old-web-2020/get_miner_conf.json': () => {
    const c = conf('antminer-s17plus-old-web-2020/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'form', workMode: 'normal', workModeRaw: '0' });
    expect(c.raw['bitmain-freq']).toBe('O');
    expect(powerModesOf(c)).toEqual(['normal', 'sleep']);
  },
  'antminer-s19-2023-11-17/get_miner_conf.json': () => {
    const c = conf('antminer-s19-2023-11-17/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'json', workMode: 'normal', uninitialised: false });
    expect(c.raw['bitmain-freq-level']).toBe('');
    expect(c.pools[0]).toEqual({ url: 'stratum+tcp://pool.example.com:3333', user: 'worker.001', pass: '' });
    // The empty freq-level is echoed as it is, not invented.
    expect(JSON.parse(buildJsonWrite(c, { mode: 'sleep' }))).toMatchObject({ 'miner-mode': 1, 'freq-level': '' });
  },
  'antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__normal.json': () => {
    expect(read('antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__normal.json').startsWith('\n\n{')).toBe(true);
    const c = conf('antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__normal.json');
    expect(c).toMatchObject({ generation: 'json', workMode: 'normal', workModeRaw: '0' });
    expect(c.pools.map((p) => p.user)).toEqual(['aaa.248x75', 'bbb.248x75', 'ccc.248x75']);
  },
  'antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__sleeping.json': () => {
    const c = conf('antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__sleeping.json');
    expect(c).toMatchObject({ generation: 'json', workMode: 'sleep', workModeRaw: '1' });
  },
  'antminer-s19pro-2020-redacted/get_miner_conf.json': () => {
    const c = conf('antminer-s19pro-2020-redacted/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'json', workMode: 'normal', emptyKeys: [] });
    expect(c.raw).toMatchObject({ 'bitmain-fan-ctrl': false, 'bitmain-pwth': '1', 'bitmain-voltage': '1280', 'bitmain-freq-level': '100' });
  },
  'antminer-s19pro-2020-redacted/get_miner_conf__missing_fan_ctrl.json': () => {
    expect(() => JSON.parse(read('antminer-s19pro-2020-redacted/get_miner_conf__missing_fan_ctrl.json'))).toThrow();
    const c = conf('antminer-s19pro-2020-redacted/get_miner_conf__missing_fan_ctrl.json');
    expect(c).toMatchObject({ generation: 'json', emptyKeys: ['bitmain-fan-ctrl'], workModeRaw: '', workMode: undefined, uninitialised: false });
    expect(c.raw['bitmain-fan-ctrl']).toBeNull();
    // A pool write sends the empty fan setting as automatic, and no miner-mode it does not know.
    const body = JSON.parse(buildJsonWrite(c, { pools: TEST_POOLS })) as Record<string, unknown>;
    expect(body['bitmain-fan-ctrl']).toBe(false);
    expect('miner-mode' in body).toBe(false);
  },
  'antminer-s19pro-unconfigured-invalid-json/get_miner_conf.json': () => {
    const c = conf('antminer-s19pro-unconfigured-invalid-json/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'json', emptyKeys: ['bitmain-fan-ctrl'], uninitialised: true });
    expect(writeRefusal(c, { mode: 'sleep' })).toContain('uninitialised');
    expect(writeRefusal(c, { pools: TEST_POOLS })).toBeUndefined();
  },
  'antminer-s21-2024-07-11/get_miner_conf__unknown-model.json': () => {
    const c = conf('antminer-s21-2024-07-11/get_miner_conf__unknown-model.json');
    expect(c).toMatchObject({ generation: 'json', workMode: 'normal' });
    expect(c.raw['bitmain-hashrate-percent']).toBe('100');
    expect(c.pools.filter((p) => p.url).length).toBe(1);
    expect(writeRefusal(c, { mode: 'low' })).toBeUndefined();
  },
  'antminer-s9-bmminer-2.0.0-16.8.1.3-2017-11-17/get_miner_conf.json': () => {
    const c = conf('antminer-s9-bmminer-2.0.0-16.8.1.3-2017-11-17/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'form', workModeRaw: undefined });
    expect(c.raw).toMatchObject({ 'bitmain-freq': '550', 'multi-version': '1', 'api-groups': 'A:stats:pools:devs:summary:version:noncenum' });
  },
  'antminer-t17plus-b023.0.1.3-2020-06-02/get_miner_conf.json': () => {
    const c = conf('antminer-t17plus-b023.0.1.3-2020-06-02/get_miner_conf.json');
    expect(c).toMatchObject({ generation: 'form', workMode: 'normal' });
    expect(c.raw).toMatchObject({ 'bitmain-freq': 'O', 'bitmain-voltage': '1950' });
  },
  'antminer-s9-hiveon-30.0.1.3-2019-11-20/get_miner_conf.json': () => {
    // Hiveon keeps the stock contract: the stock form write carries every key it has.
    const c = conf('antminer-s9-hiveon-30.0.1.3-2019-11-20/get_miner_conf.json');
    expect(c.generation).toBe('form');
    expect(writeRefusal(c, { pools: TEST_POOLS })).toBeUndefined();
  },
  'antminer-s9-vnish-3.8.6-2020-05-08/get_miner_conf.json': () => {
    const c = conf('antminer-s9-vnish-3.8.6-2020-05-08/get_miner_conf.json');
    expect(c.raw['bitmain-voltage']).toBe('890');
    expect(unknownConfKeys(c)).toContain('bitmain-autodownscale-hw');
    expect(writeRefusal(c, { pools: TEST_POOLS })).toContain('aftermarket firmware?');
  },
  'antminer-s17plus-vnish-2.0.3-2020-08-15/get_miner_conf.json': () => {
    const c = conf('antminer-s17plus-vnish-2.0.3-2020-08-15/get_miner_conf.json');
    expect(c.raw['multi-version']).toBe('4');
    expect(unknownConfKeys(c)).toEqual(expect.arrayContaining(['bitmain-autotune-profile', 'bitmain-chip-freq1']));
    expect(writeRefusal(c, { pools: TEST_POOLS })).toContain('would lose');
  },

  // ------------------------------------------------------------ stats.cgi / summary.cgi / pools.cgi
  'antminer-s19-2023-11-17/stats.json': () => {
    const s = decodeWebStats(json('antminer-s19-2023-11-17/stats.json'));
    expect(s.uptimeS).toBe(501234);
    expect(s.hashrate5sHs).toBeCloseTo(88422e9, -3);
    expect(s.fans.map((f) => f.rpm)).toEqual([4080, 4380, 3750, 3690]);
    expect(s.boards).toHaveLength(3);
    expect(s.boards[0]).toMatchObject({ index: 0, boardTempC: 47, chipTempC: 67, chips: 88, hwErrors: 4, frequencyMhz: 675, name: 'HASH01' });
    expect(s.boards[0]!.hashrateHs).toBeCloseTo(29500e9, -3);
    expect(s.minerMode).toBeUndefined();
  },
  'antminer-s19proplus-uart_trans.1.3-2023-03-11/stats.json': () => {
    const s = decodeWebStats(json('antminer-s19proplus-uart_trans.1.3-2023-03-11/stats.json'));
    expect(s.uptimeS).toBe(17065);
    expect(s.hashrate5sHs).toBeCloseTo(121056.23e9, -3);
    expect(s.minerMode).toBe(0);
    expect(s.fans.map((f) => f.rpm)).toEqual([3270, 3420, 3510, 3510]);
    expect(s.boards.map((b) => [b.boardTempC, b.chipTempC, b.chips, b.name])).toEqual([
      [58, 63, 120, 'YNAHYR5BCJCBG0NMS'], [61, 66, 120, 'YNAHYR5BCJCBG0P5L'], [58, 63, 120, 'YNAHYR5BCJCBG0NT6']]);
  },
  'antminer-s21-2024-07-11/stats.json': () => {
    const s = decodeWebStats(json('antminer-s21-2024-07-11/stats.json'));
    expect(s.psuStatus).toBe('ok');
    expect(s.hashrate5sHs).toBeCloseTo(206901.8e9, -3);
    expect(s.boards[1]).toMatchObject({ boardTempC: 67, chipTempC: 72, chips: 108, hwErrors: 1, frequencyMhz: 490 });
    expect(s.boards[1]!.hashrateHs).toBeCloseTo(68916.75e9, -3);
    expect(s.fans.map((f) => f.rpm)).toEqual([7000, 7000, 7000, 7000]);
  },
  'antminer-s19-2023-11-17/summary.json': () => {
    const s = decodeWebSummary(json('antminer-s19-2023-11-17/summary.json'));
    expect(s).toMatchObject({ uptimeS: 501234, hwErrors: 12, alarms: [] });
    expect(s.hashrateAvgHs).toBeCloseTo(87900e9, -3);
    expect(s.hashrateWindows.map((w) => w.label)).toEqual(['5s', '30m', 'av']);
  },
  'antminer-s21-2024-07-11/summary.json': () => {
    const s = decodeWebSummary(json('antminer-s21-2024-07-11/summary.json'));
    expect(s).toMatchObject({ uptimeS: 3817, hwErrors: 2, alarms: [] });
    expect(s.hashrate5sHs).toBeCloseTo(206238.69e9, -3);
  },
  'synthetic-miningos-mock/pools.json': () => {
    // Synthetic (a mock's rendering): the documented pools.cgi shape only.
    const pools = decodeWebPools(json('synthetic-miningos-mock/pools.json'));
    expect(pools).toHaveLength(1);
    expect(pools[0]).toMatchObject({ index: 0, url: 'stratum+tcp://btc.f2pool.com:1314', user: 'haven7346', status: PoolStatus.POOL_STATUS_ALIVE, active: true, accepted: 0 });
  },

  // ------------------------------------------------------------ small replies
  'antminer-s19jpro-2022-12-26-browser/set_miner_conf.reply.json': () => {
    expect(decodeWriteReply(read('antminer-s19jpro-2022-12-26-browser/set_miner_conf.reply.json'), 'json')).toEqual({ ok: true, code: 'M000' });
  },
  'antminer-s9-hiveon-30.0.1.3-2019-11-20/set_miner_conf.reply.txt': () => {
    expect(read('antminer-s9-hiveon-30.0.1.3-2019-11-20/set_miner_conf.reply.txt')).toBe('ok\nok\n');
    expect(decodeWriteReply(read('antminer-s9-hiveon-30.0.1.3-2019-11-20/set_miner_conf.reply.txt'), 'form')).toEqual({ ok: true, code: 'ok' });
  },
  'antminer-s19pro-2020-redacted/blink_on.reply.json': () => {
    expect(decodeBlinkReply(json('antminer-s19pro-2020-redacted/blink_on.reply.json'))).toBe('B000');
  },
  'antminer-s19pro-2020-redacted/blink_off.reply.json': () => {
    expect(decodeBlinkReply(json('antminer-s19pro-2020-redacted/blink_off.reply.json'))).toBe('B100');
  },
  'synthetic-miningos-mock/blink.reply_failure.json': () => {
    expect(decodeBlinkReply(json('synthetic-miningos-mock/blink.reply_failure.json'))).toBe('B001');
  },
  'synthetic-miningos-mock/get_blink_status.json': () => {
    expect(decodeBlinkStatus(json('synthetic-miningos-mock/get_blink_status.json'))).toBe(false);
  },
  'antminer-s9i-digest-failure/get_network_info__401_body.html': () => {
    expect(isUnauthorizedPage(read('antminer-s9i-digest-failure/get_network_info__401_body.html'))).toBe(true);
    expect(isUnauthorizedPage(read('antminer-s21-2024-07-11/get_system_info.json'))).toBe(false);
  },

  // ------------------------------------------------------------ requests the writer must reproduce
  'antminer-s19-49.0.1.3-2020-12-11/set_miner_conf.request.json': () => {
    // The sleep write recorded for the same S19: built from its sleeping config, value for value and type for type.
    const c = conf('antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__sleeping.json');
    expect(JSON.parse(buildJsonWrite(c, { mode: 'sleep' }))).toEqual(JSON.parse(read('antminer-s19-49.0.1.3-2020-12-11/set_miner_conf.request.json')));
  },
  'antminer-s19jpro-2022-12-26-browser/set_miner_conf.request.json': () => {
    // The stock UI's own body (captured): same keys, same order, same types as ours for the same settings.
    const recorded = JSON.parse(read('antminer-s19jpro-2022-12-26-browser/set_miner_conf.request.json')) as { pools: { url: string; user: string; pass: string }[] };
    const c = decodeMinerConf({
      pools: recorded.pools, 'bitmain-fan-ctrl': false, 'bitmain-fan-pwm': '100', 'bitmain-pwth': '0', 'bitmain-work-mode': '0', 'bitmain-freq-level': '100',
    });
    expect(buildJsonWrite(c, { mode: 'sleep' })).toBe(JSON.stringify(recorded));
  },
  'antminer-s19pro-2020-redacted/set_miner_conf.request.json': () => {
    // foreman's body for the same config: ours equals it but for freq-level, which the stock UI sends as a string.
    const c = conf('antminer-s19pro-2020-redacted/get_miner_conf.json');
    const ours = JSON.parse(buildJsonWrite(c, { pools: TEST_POOLS })) as Record<string, unknown>;
    const foreman = JSON.parse(read('antminer-s19pro-2020-redacted/set_miner_conf.request.json')) as Record<string, unknown>;
    expect({ ...ours, 'freq-level': Number(ours['freq-level']) }).toEqual(foreman);
  },
  'antminer-l3plus-cgminer-4.9.0-2017-08-25/set_miner_conf.request.form.txt': () => {
    const c = conf('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_miner_conf.json');
    expect(buildFormWrite(c, { pools: TEST_POOLS })).toBe(read('antminer-l3plus-cgminer-4.9.0-2017-08-25/set_miner_conf.request.form.txt'));
  },
  'antminer-s9-bmminer-2.0.0-16.8.1.3-2017-11-17/set_miner_conf.request.form.txt': () => {
    const c = conf('antminer-s9-bmminer-2.0.0-16.8.1.3-2017-11-17/get_miner_conf.json');
    expect(buildFormWrite(c, { pools: TEST_POOLS })).toBe(read('antminer-s9-bmminer-2.0.0-16.8.1.3-2017-11-17/set_miner_conf.request.form.txt'));
  },
  'antminer-t17plus-b023.0.1.3-2020-06-02/set_miner_conf__normal.request.form.txt': () => {
    const c = conf('antminer-t17plus-b023.0.1.3-2020-06-02/get_miner_conf.json');
    expect(buildFormWrite(c, { mode: 'normal' })).toBe(read('antminer-t17plus-b023.0.1.3-2020-06-02/set_miner_conf__normal.request.form.txt'));
  },
  'antminer-t17plus-b023.0.1.3-2020-06-02/set_miner_conf__sleep.request.form.txt': () => {
    const c = conf('antminer-t17plus-b023.0.1.3-2020-06-02/get_miner_conf.json');
    expect(buildFormWrite(c, { mode: 'sleep' })).toBe(read('antminer-t17plus-b023.0.1.3-2020-06-02/set_miner_conf__sleep.request.form.txt'));
  },
  'antminer-s19pro-2020-redacted/blink_on.request.json': () => {
    expect(buildBlinkRequest('json', true).body).toBe(read('antminer-s19pro-2020-redacted/blink_on.request.json'));
  },
  'antminer-s17plus-old-web-2020/blink_on.request.form.txt': () => {
    expect(buildBlinkRequest('form', true).body).toBe(read('antminer-s17plus-old-web-2020/blink_on.request.form.txt'));
  },
};

function dataFiles(): string[] {
  return readdirSync(TESTDATA, { withFileTypes: true }).filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(TESTDATA, d.name)).filter((f) => !f.endsWith('.source.txt')).map((f) => `${d.name}/${f}`)).sort();
}

describe('antminer-web testdata: every recorded reply decodes as checked by hand', () => {
  it('every data file has its expectation and its provenance, and every expectation its file', () => {
    const files = dataFiles();
    expect(files.length).toBe(45);
    expect(files.filter((f) => !(f in EXPECTATIONS))).toEqual([]);
    expect(Object.keys(EXPECTATIONS).filter((f) => !files.includes(f))).toEqual([]);
    for (const f of files) {
      const source = read(f.replace(/\.(json|txt|html)$/, '.source.txt'));
      expect(source).toMatch(/^copied from: shared\/fixtures\/web\//);
    }
  });

  it.each(Object.keys(EXPECTATIONS))('%s', (file) => {
    EXPECTATIONS[file]!();
  });
});
