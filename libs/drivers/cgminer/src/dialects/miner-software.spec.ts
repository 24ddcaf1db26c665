import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeReply } from '../cgminer.client';
import { replyText, step } from '../testing/recorded-session';
import { minerSoftware, softwareOfReply } from './miner-software';

const TESTDATA = join(__dirname, '..', '..', 'testdata');
const recorded = (folder: string, file: string) => decodeReply(readFileSync(join(TESTDATA, folder, file), 'latin1'), { host: 'testdata', port: 0 });
const session = (folder: string) => decodeReply(replyText(step(folder, '01-version')), { host: 'testdata', port: 0 });

describe('miner-software: the program named by its VERSION reply (recorded replies)', () => {
  it.each([
    ['bfgminer 5.5.0 ("Miner" and "CGMiner" keys)', () => session('bfgminer-5.5.0/full-session-crashed'), 'bfgminer', '5.5.0-34-g866fd36f'],
    ['cgminer 4.11.1', () => session('cgminer-4.11.1'), 'cgminer', '4.11.1'],
    ['cgminer 2.11.4', () => session('cgminer-2.11.4'), 'cgminer', '2.11.4'],
    ['Antminer S9 bmminer ("Miner":"30.0.1.3" is a build number)', () => recorded('antminer-s9-bmminer-2.0.0', 'version.json'), 'bmminer', '2.0.0'],
    ['Antminer T17+ bmminer', () => recorded('antminer-t17plus-bmminer-1.0.0', 'version.json'), 'bmminer', '1.0.0'],
    ['asicseer (a bmminer fork)', () => recorded('antminer-s9-asicseer-1.1.9', 'version.json'), 'bmminer', '2.4.0-asicseer-1.1.9-f7b7'],
    ['Antminer L3+ built on cgminer 4.9.0', () => recorded('antminer-l3plus-cgminer-4.9.0', 'version.json'), 'cgminer', '4.9.0'],
    ['Braiins OS bosminer', () => recorded('braiins-s9-bosminer-0.2.0', 'version.json'), 'bosminer', '0.2.0-d360818'],
    ['Braiins OS+ bosminer+', () => recorded('braiins-s9-bosminer-plus-0.2.0', 'version.json'), 'bosminer+', '0.2.0-36c56a9363'],
    ['LuxOS ("Miner":"some id" is no program)', () => recorded('luxos-anonymised-luxminer-2000.1.1', 'version.json'), 'luxminer', '2000.1.1.12345-aaabbbc'],
    ['Hammer D10 ccminer ("CGMiner":"2.3.3", Description "ccminer 2.3.3")', () => recorded('hammer-d10-ccminer-2.3.3', 'version.json'), 'ccminer', '2.3.3'],
    ['Innosilicon innominer (summary Description only)', () => recorded('innosilicon-a9-innominer-1.1.0', 'summary.json'), 'innominer', 'a9-1.1.0'],
  ])('%s', (_name, reply, software, version) => {
    expect(softwareOfReply(reply())).toEqual({ software, version });
  });
});

describe('miner-software: forks by their VERSION keys and descriptions', () => {
  it.each([
    // sgminer's api.c adds "SGMiner" (its cgminer heritage shows as Description "sgminer 5.6.0").
    [{ SGMiner: '5.6.0', API: '4.0' }, 'sgminer 5.6.0', 'sgminer', '5.6.0'],
    [{}, 'btminer', 'btminer', ''],
    [{ CGMiner: '3.7.2', API: '1.30' }, 'cgminer 3.7.2', 'cgminer', '3.7.2'],
    [{ BFGMiner: '3.10.0', API: '2.3' }, 'bfgminer 3.10.0', 'bfgminer', '3.10.0'],
    [{}, '', '', ''],
  ])('%j with Description "%s" is %s %s', (version, description, software, v) => {
    expect(minerSoftware(version, description)).toEqual({ software, version: v });
  });
});
