import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import { DriverError, type MinerReading } from '@rigwarden/drivers-core';
import { decodeReply, type CgminerReply } from './cgminer.client';
import { parseCgminerText } from './cgminer-text.decoder';
import type { CollectedReplies, DialectName } from './dialects/dialect';
import { DIALECTS, identifyDialect } from './dialects/dialect-identification';

const TESTDATA = join(__dirname, '..', 'testdata');
/** real-sessions/ holds whole recorded sessions (request and reply bytes), read by real-sessions.spec.ts. */
const folders = readdirSync(TESTDATA, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'real-sessions').map((d) => d.name).sort();
const dataFiles = (folder: string): string[] =>
  readdirSync(join(TESTDATA, folder)).filter((f) => (f.endsWith('.json') || f.endsWith('.raw.txt')) && !f.endsWith('.source.txt')).sort();

/** Decodes one recorded reply the way the client does (JSON, or plain text for `STATUS=` replies). */
function decodeFile(folder: string, file: string): CgminerReply {
  const text = readFileSync(join(TESTDATA, folder, file), 'latin1');
  const context = { host: 'testdata', port: 0, command: file };
  if (text.startsWith('STATUS=')) return parseCgminerText(text) as CgminerReply;
  return decodeReply(text, context);
}

/** The replies of one folder by command: "stats.json" -> stats; "pools+summary+stats.json" -> three parts. */
function loadFolder(folder: string, scenario?: string): CollectedReplies {
  const replies: CollectedReplies = {};
  const files = dataFiles(folder).map((file) => {
    const [stem, fileScenario] = file.replace(/\.(raw\.txt|json)$/, '').split('--');
    return { file, stem: stem!, fileScenario };
  });
  // Scenario-less captures first, then the asked scenario's files on top.
  const chosen = [...files.filter((f) => f.fileScenario === undefined), ...files.filter((f) => scenario !== undefined && f.fileScenario === scenario)];
  for (const { file, stem } of chosen) {
    const reply = decodeFile(folder, file);
    const commands = stem.replace(/^http-/, '').split('+');
    if (commands.length > 1) {
      for (const cmd of commands) {
        const part = reply[cmd];
        if (Array.isArray(part) && part[0]) replies[cmd] = part[0] as CgminerReply;
      }
    } else {
      replies[commands[0]!] = reply;
    }
  }
  return replies;
}

const EXPECTED_DIALECT: Record<string, DialectName> = {
  'antminer-d3-cgminer-4.10.0-blissz': 'antminer',
  'antminer-l3plus-cgminer-4.9.0': 'antminer',
  'antminer-s17pro-bmminer-1.0.0': 'antminer',
  'antminer-s19-bmminer-1.0.0': 'antminer',
  'antminer-s19pro-bmminer-1.0.0': 'antminer',
  'antminer-s19xp-vnish-1.2.0': 'antminer',
  'antminer-s9-asicseer-1.1.9': 'antminer',
  'antminer-s9-bmminer-2.0.0': 'antminer',
  'antminer-s9-vnish-cgminer-4.11.1': 'antminer',
  'antminer-s9k-cgminer-4.9.0': 'antminer',
  'antminer-t15-cgminer-4.9.0': 'antminer',
  'antminer-t17plus-bmminer-1.0.0': 'antminer',
  'antminer-z11-cgminer-4.9.0': 'antminer',
  'avalon-1047-cgminer-4.11.1': 'cgminer',
  'avalon-10xx-cgminer-4.11.1': 'avalon',
  'avalon-1566-cgminer-4.11.1': 'avalon',
  'avalon-7xx-cgminer-4.10.0': 'avalon',
  'avalon-8xx-cgminer-4.10.0': 'avalon',
  'braiins-s9-bosminer-0.2.0': 'braiins',
  'braiins-s9-bosminer-plus-0.2.0': 'braiins',
  'braiins-s9-bosminer-plus-0.4.0': 'braiins',
  'cheetah-f9-cgminer-4.10.0': 'cgminer',
  'elphapex-dg1plus-http-1.0.2': 'cgminer',
  'futurebit-moonlander2-bfgminer-5.4.2': 'cgminer',
  'hammer-d10-ccminer-2.3.3': 'antminer',
  'innosilicon-a9-innominer-1.1.0': 'cgminer',
  'luxos-anonymised-luxminer-2000.1.1': 'luxos',
  'strongu-stu-u6-cgminer-4.11.1': 'cgminer',
  'whatsminer-apiv2-whatsminer-1.1': 'whatsminer',
  'whatsminer-m20s-cgminer-4.9.2': 'whatsminer',
  'whatsminer-m3-cgminer-4.9.2': 'whatsminer',
  'whatsminer-m31s-btminer-20201202': 'whatsminer',
  'whatsminer-m31s-sleeping-btminer-20210109': 'whatsminer',
};

function readingOf(folder: string, scenario?: string): MinerReading {
  const replies = loadFolder(folder, scenario);
  return DIALECTS[identifyDialect(replies).dialect].decode(replies);
}

describe('testdata: every recorded reply', () => {
  it('has a provenance file next to every data file', () => {
    for (const folder of folders) {
      for (const file of dataFiles(folder)) {
        const source = file.replace(/\.(raw\.txt|json)$/, '.source.txt');
        expect(readdirSync(join(TESTDATA, folder))).toContain(source);
      }
    }
  });

  it('covers every folder with an expected dialect', () => {
    expect(folders).toEqual(Object.keys(EXPECTED_DIALECT).sort());
  });

  for (const folder of folders) {
    for (const file of dataFiles(folder)) {
      it(`${folder}/${file} decodes to an object`, () => {
        const reply = decodeFile(folder, file);
        expect(typeof reply).toBe('object');
      });
    }

    it(`${folder} identifies as ${EXPECTED_DIALECT[folder]} and maps without throwing`, () => {
      const replies = loadFolder(folder);
      const id = identifyDialect(replies);
      expect(id.dialect).toBe(EXPECTED_DIALECT[folder]);
      const reading = DIALECTS[id.dialect].decode(replies);
      for (const board of reading.boards) {
        if (board.hashrateHs !== undefined) expect(Number.isFinite(board.hashrateHs)).toBe(true);
        if (board.boardTempC !== undefined) expect(board.boardTempC).toBeGreaterThan(0);
      }
      for (const value of [reading.hashrate5sHs, reading.hashrateAvgHs]) {
        if (value !== undefined) expect(value).toBeGreaterThanOrEqual(0);
      }
    });
  }
});

describe('testdata: values checked by hand', () => {
  it('antminer S9 bmminer 2.0.0 ("}{" stats, slots 6-8, a broken -83 °C sensor)', () => {
    const r = readingOf('antminer-s9-bmminer-2.0.0');
    expect(r.vendor).toBe('antminer');
    expect(r.model).toBe('Antminer S9');
    expect(r.firmware).toBe('bmminer 2.0.0');
    // No summary in this capture: stats "GHS 5s":"13883.81" (a string) and "GHS av":13890.36.
    expect(r.hashrate5sHs).toBeCloseTo(13883.81e9, -3);
    expect(r.hashrateAvgHs).toBeCloseTo(13890.36e9, -3);
    expect(r.boards.map((b) => b.hashrateHs)).toEqual([4618.85e9, 4624.55e9, 4640.41e9]);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([75, undefined, 73]); // temp6, temp7 (0 = no reading), temp8
    expect(r.boards.map((b) => b.chipTempC)).toEqual([62, undefined, 62]); // temp2_7 is -83: a broken sensor
    expect(r.boards.map((b) => b.chips)).toEqual([63, 63, 63]);
    expect(r.boards.map((b) => b.hwErrors)).toEqual([3085, 289, 175165]);
    expect(r.fans).toEqual([{ index: 5, rpm: 3720, percent: undefined }, { index: 6, rpm: 2400, percent: undefined }]);
    expect(r.pools.length).toBeGreaterThan(0);
  });

  it('antminer S9 asicseer: "0.00000" in the 13 empty slots is not a board', () => {
    const r = readingOf('antminer-s9-asicseer-1.1.9');
    expect(r.boards.map((b) => b.hashrateHs)).toEqual([4467.65e9, 4431.33e9, 4503.15e9]);
    expect(r.boards.map((b) => b.chips)).toEqual([63, 63, 63]);
  });

  it('antminer L3+ labels GHS but reports MH/s', () => {
    const r = readingOf('antminer-l3plus-cgminer-4.9.0');
    expect(r.model).toBe('Antminer L3+');
    expect(r.algorithm).toBe('scrypt');
    expect(r.hashrateAvgHs).toBeCloseTo(500.28e6, 0); // "GHS av":500.28 -> 500.28 MH/s, not 500 GH/s
    expect(r.hashrate5sHs).toBe(0); // "GHS 5s":"0.00"
    expect(r.boards.map((b) => b.hashrateHs)).toEqual([126.12e6, 125.79e6, 126.06e6, 126.59e6]);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([46, 46, 46, 45]);
    expect(r.boards.map((b) => b.chipTempC)).toEqual([54, 56, 56, 53]);
    expect(r.fans.map((f) => f.rpm)).toEqual([3840, 3810]);
    const pool = r.pools[0]!;
    expect(pool.url).toContain('litecoinpool.org');
  });

  it('antminer D3 labels GHS but reports MH/s (~17 GH/s X11)', () => {
    const r = readingOf('antminer-d3-cgminer-4.10.0-blissz');
    expect(r.hashrateAvgHs).toBeCloseTo(16868.38e6, 0);
    expect(r.boards.map((b) => b.frequencyMhz)).toEqual([450, 450, 450]);
  });

  it('antminer Z11 labels GHS but reports ksol/s (Equihash: H/s = sol/s)', () => {
    const r = readingOf('antminer-z11-cgminer-4.9.0');
    expect(r.algorithm).toBe('equihash');
    expect(r.hashrateAvgHs).toBeCloseTo(139.59e3, 0); // rated 135 ksol/s
    expect(r.boards.map((b) => b.hashrateHs)).toEqual([53.24e3, 42.26e3, 46.03e3]);
    expect(r.boards.map((b) => b.frequencyMhz)).toEqual([731, 731, 731]);
  });

  it('antminer S19 Pro: rate_unit GH, temp_pcb/temp_chip "a-b-c-d" strings, 4 fans', () => {
    const r = readingOf('antminer-s19pro-bmminer-1.0.0');
    expect(r.model).toBe('Antminer S19 Pro');
    expect(r.hashrateAvgHs).toBeCloseTo(93556.98e9, -3);
    expect(r.boards).toHaveLength(3);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([91, 85, 83]);
    expect(r.boards.map((b) => b.chipTempC)).toEqual([96, 90, 88]);
    expect(r.boards.map((b) => b.chips)).toEqual([114, 114, 114]);
    expect(r.boards.map((b) => b.status)).toEqual([BoardStatus.BOARD_STATUS_DEAD, BoardStatus.BOARD_STATUS_DEAD, BoardStatus.BOARD_STATUS_DEAD]);
    expect(r.fans.map((f) => f.rpm)).toEqual([6000, 5880, 6120, 6120]);
    // Two pools flag "Stratum Active": the best-priority one is the pool in use.
    expect(r.pools.filter((p) => p.active).map((p) => p.index)).toEqual([0]);
    expect(r.pools[0]).toMatchObject({ url: 'stratum+tcp://aaa.com:9999#xnsub', status: PoolStatus.POOL_STATUS_ALIVE, accepted: 100129 });
  });

  it('antminer S19 XP Vnish: summary GHS strings, min-max temperature strings, DevFee pool', () => {
    const r = readingOf('antminer-s19xp-vnish-1.2.0');
    expect(r.hashrate5sHs).toBeCloseTo(140258.58e9, -3);
    expect(r.accepted).toBe(226146);
    expect(r.boards.map((b) => b.hashrateHs)).toEqual([47016.68e9, 47262.92e9, 45978.98e9]);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([60, 57, 59]);
    expect(r.boards.map((b) => b.chipTempC)).toEqual([75, 72, 74]);
    expect(r.pools.map((p) => p.url)).toContain('DevFee');
    expect(r.pools[2]!.status).toBe(PoolStatus.POOL_STATUS_DEAD);
    expect(r.pools[0]!.lastShareTime).toBeUndefined(); // "0:00:27" is not a timestamp
  });

  it('whatsminer M31S: MHS fields, edevs boards, pools numbered from 1', () => {
    const r = readingOf('whatsminer-m31s-btminer-20201202');
    expect(r.vendor).toBe('whatsminer');
    expect(r.firmware).toBe('btminer 20201202.22.REL');
    expect(r.hashrate5sHs).toBeCloseTo(92768288.94e6, -3);
    expect(r.hashrateAvgHs).toBeCloseTo(76718604.38e6, -3);
    expect(r.powerW).toBe(3553);
    expect(r.uptimeS).toBe(33102);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([57.5, 72, 68]);
    expect(r.boards.map((b) => b.chipTempC)).toEqual([77.44, 93, 89.17]);
    expect(r.boards.map((b) => b.chips)).toEqual([105, 105, 105]);
    expect(r.boards.map((b) => b.frequencyMhz)).toEqual([686, 726, 718]);
    expect(r.fans).toEqual([{ index: 0, rpm: 5700, percent: undefined }, { index: 1, rpm: 0, percent: undefined }]);
    expect(r.pools.map((p) => p.index)).toEqual([1, 2, 3]);
    expect(r.pools[0]).toMatchObject({ url: 'stratum+tcp://btc.ss.poolin.com:443', active: true, accepted: 2296, rejected: 1 });
  });

  it('whatsminer M20S summary with the invalid \\\' escape decodes', () => {
    const r = readingOf('whatsminer-m20s-cgminer-4.9.2');
    expect(r.firmware).toBe('btminer 20200917.22.REL');
    expect(r.powerW).toBe(3491);
    expect(r.boards).toHaveLength(3);
  });

  it('avalon 15-194: MM ID0 tokens give three boards, two fans and wall power', () => {
    const r = readingOf('avalon-1566-cgminer-4.11.1');
    expect(r.vendor).toBe('avalon');
    expect(r.model).toBe('AvalonMiner 15-194');
    expect(r.boards.map((b) => b.hashrateHs)).toEqual([59459.52e9, 61407.83e9, 63139.66e9]);
    expect(r.boards.map((b) => b.chipTempC)).toEqual([77, 78, 77]);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([69, 70, 71]);
    expect(r.fans.map((f) => [f.rpm, f.percent])).toEqual([[4275, 49], [4282, 49]]);
    expect(r.powerW).toBe(3731);
    expect(r.pools.length).toBeGreaterThan(0);
  });

  it('avalon 7xx: one board per MM module across two AUC chains', () => {
    const r = readingOf('avalon-7xx-cgminer-4.10.0');
    expect(r.boards).toHaveLength(10);
    expect(r.boards[0]).toMatchObject({ hashrateHs: 6836.48e9, boardTempC: 38, chipTempC: 89, frequencyMhz: 606.93 });
    expect(r.fans[0]).toEqual({ index: 0, rpm: 2550, percent: 36 });
    expect(r.pools[0]!.url).toMatch(/^stratum\+tcp:\/\//); // "\/" escapes decoded
  });

  it('avalon models from the MM Ver token when there is no version reply', () => {
    expect(readingOf('avalon-10xx-cgminer-4.11.1').model).toBe('Avalon 1047');
    expect(readingOf('avalon-7xx-cgminer-4.10.0').model).toBe('Avalon 741');
    expect(readingOf('avalon-8xx-cgminer-4.10.0').model).toBe('Avalon 841');
  });

  it('avalon 10xx multi-command reply with a bare nan', () => {
    const nan = loadFolder('avalon-10xx-cgminer-4.11.1', 'nan');
    expect(Object.keys(nan).sort()).toEqual(['pools', 'stats', 'summary']);
    const r = DIALECTS.avalon.decode(nan);
    expect(r.hashrateAvgHs).toBeUndefined(); // "MHS av":nan is absent, not 0
  });

  it('braiins OS 0.2.0: fans and temps commands', () => {
    const r = readingOf('braiins-s9-bosminer-0.2.0');
    expect(r.firmware).toBe('bosminer 0.2.0-d360818');
    expect(r.hashrate5sHs).toBeCloseTo(14274425.317759488e6, 0);
    expect(r.fans.map((f) => f.rpm)).toEqual([1560, 1560]);
    expect(r.boards.map((b) => b.boardTempC)).toEqual([53, 46, 52]);
    expect(r.boards.map((b) => b.chipTempC)).toEqual([undefined, undefined, undefined]); // "Chip":0.0: no sensor
    expect(r.pools[1]).toMatchObject({ status: PoolStatus.POOL_STATUS_DEAD, user: '!non-existent-user!', active: false });
    expect(r.pools[0]).toMatchObject({ active: true, accepted: 68, rejected: 2 });
  });

  it('braiins OS+ 0.2.0: the "BOSminer+" version key', () => {
    const r = readingOf('braiins-s9-bosminer-plus-0.2.0');
    expect(r.firmware).toBe('bosminer+ 0.2.0-36c56a9363');
    expect(r.boards.map((b) => b.boardTempC)).toEqual([75, 63, 70]);
  });

  it('braiins OS+ 0.4.0: devs give per-chain hashrate', () => {
    const r = readingOf('braiins-s9-bosminer-plus-0.4.0');
    const expected = [4683070.74742169e6, 4687913.424447901e6, 4213098.705765925e6];
    r.boards.forEach((b, i) => expect(b.hashrateHs).toBeCloseTo(expected[i]!, 0));
    expect(r.boards).toHaveLength(3);
  });

  it('luxos: version identifies LUXminer', () => {
    const r = readingOf('luxos-anonymised-luxminer-2000.1.1');
    expect(r.firmware).toBe('luxminer 2000.1.1.12345-aaabbbc');
    expect(r.model).toBe('A model');
  });

  it('bfgminer FutureBit Moonlander 2: a PGA with a 20s window', () => {
    const r = readingOf('futurebit-moonlander2-bfgminer-5.4.2');
    expect(r.boards).toHaveLength(1);
    expect(r.boards[0]!.hashrateHs).toBeCloseTo(2.962e6, 0);
  });

  it('unknown forks are partially supported, not errors', () => {
    const id = identifyDialect(loadFolder('innosilicon-a9-innominer-1.1.0'));
    expect(id).toMatchObject({ dialect: 'cgminer', support: 'partial' });
  });

  it('a status object instead of an array (Elphapex) is read', () => {
    const reply = decodeFile('elphapex-dg1plus-http-1.0.2', 'http-summary.json');
    expect(reply.STATUS).toMatchObject({ STATUS: 'S' });
  });

  it('the Avalon plain-text ascset reply keeps its multi-line Msg', () => {
    const reply = decodeFile('avalon-1047-cgminer-4.11.1', 'ascset-setpool.raw.txt');
    const status = (reply['STATUS'] as unknown as Record<string, unknown>[])[0]!;
    expect(status).toMatchObject({ STATUS: 'I', Code: 118, Description: 'cgminer 4.11.1' });
    expect(status['Msg']).toContain('worker is cctrix.001\n');
  });

  it('a raw newline inside a string (StrongU) decodes', () => {
    const reply = decodeFile('strongu-stu-u6-cgminer-4.11.1', 'pools.raw.txt');
    const pools = reply['POOLS'] as Record<string, unknown>[];
    expect(pools[0]!['Last Share Time']).toBe('Tue Jun 16 10:16:42 2020\n');
  });

  it('decoding errors are DriverErrors of kind parse', () => {
    expect(() => decodeReply('{"STATUS":[{"STATUS":"S"', { host: 'h', port: 1 })).toThrow(DriverError);
  });
});
