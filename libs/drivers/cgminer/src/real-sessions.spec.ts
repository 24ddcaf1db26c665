import { BoardStatus, MinerSnapshot, PoolStatus, encodeJson } from '@rigwarden/protocol';
import { driverRegistry, sanitizeReading, type MinerReading } from '@rigwarden/drivers-core';
import { decodeReply, type CgminerReply } from './cgminer.client';
import type { CollectedReplies } from './dialects/dialect';
import { decodeGeneric } from './dialects/generic.dialect';
import { identifyDialect } from './dialects/dialect-identification';
import { loadSession, replyText, step } from './testing/recorded-session';
import { RecordedMinerServer, repliesByCommand } from './testing/recorded-miner.server';
import './index';

/**
 * The exact bytes three real miner programs sent (testdata/real-sessions, copied from the shared fixtures):
 * cgminer 4.11.1 without devices, cgminer 2.11.4 and bfgminer 5.5.0 mining on the CPU, pools A (:3333) and B (:3334).
 */
const CG4 = 'cgminer-4.11.1';
const CG2 = 'cgminer-2.11.4';
const BFG = 'bfgminer-5.5.0/full-session-crashed';

function reply(folder: string, name: string): CgminerReply {
  return decodeReply(replyText(step(folder, name)), { host: 'testdata', port: 0, command: name });
}

/** The replies of one collect: version, summary, pools, devs, stats and lcd as the program answered them first. */
function collected(folder: string, pools = '04-pools'): CollectedReplies {
  const out: CollectedReplies = {};
  for (const [cmd, name] of [['version', '01-version'], ['summary', '03-summary'], ['pools', pools], ['devs', '05-devs'], ['stats', '07-stats'], ['lcd', '14-lcd']] as const) {
    const r = reply(folder, name);
    if (!(Array.isArray(r.STATUS) && r.STATUS[0]?.STATUS === 'E')) out[cmd] = r;
  }
  return out;
}

async function collectOverSocket(folder: string, joins: boolean): Promise<{ reading: MinerReading; requests: string[] }> {
  const steps = loadSession(folder);
  const server = new RecordedMinerServer({ replies: repliesByCommand(steps), invalidCommand: step(folder, '29-invalid-command').response, joins });
  const endpoint = await server.start();
  try {
    const reading = await driverRegistry.create('auto', endpoint).collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
    return { reading, requests: [...server.requests] };
  } finally {
    await server.stop();
  }
}

describe('real sessions: the miner program is named by its VERSION reply', () => {
  it('bfgminer 5.5.0 ("Miner":"bfgminer 5.5.0-34-g866fd36f" next to "CGMiner":"5.5.0-34-g866fd36f") is bfgminer, not cgminer 5.5.0', () => {
    const r = decodeGeneric(collected(BFG), 'cgminer');
    expect(r).toMatchObject({ software: 'bfgminer', softwareVersion: '5.5.0-34-g866fd36f', vendor: 'bfgminer', firmware: 'bfgminer 5.5.0-34-g866fd36f' });
    expect(identifyDialect(collected(BFG))).toMatchObject({ dialect: 'cgminer', software: 'bfgminer', support: 'full' });
  });

  it('cgminer 4.11.1 and 2.11.4 ("CGMiner":"4.11.1") are cgminer with their versions', () => {
    expect(decodeGeneric(collected(CG4), 'cgminer')).toMatchObject({ software: 'cgminer', softwareVersion: '4.11.1', firmware: 'cgminer 4.11.1' });
    expect(decodeGeneric(collected(CG2), 'cgminer')).toMatchObject({ software: 'cgminer', softwareVersion: '2.11.4', firmware: 'cgminer 2.11.4' });
  });
});

describe('real sessions: hashrate windows by their labels', () => {
  it('cgminer 4.11.1: 5s, 1m, 5m, 15m and av', () => {
    const r = decodeGeneric(collected(CG4), 'cgminer');
    expect(r.hashrateWindows).toEqual([
      { label: '5s', windowS: 5, hashrateHs: 0 }, { label: '1m', windowS: 60, hashrateHs: 0 }, { label: '5m', windowS: 300, hashrateHs: 0 },
      { label: '15m', windowS: 900, hashrateHs: 0 }, { label: 'av', windowS: undefined, hashrateHs: 0 },
    ]);
    expect(r.hashrate5sHs).toBe(0);
  });

  it('bfgminer: "MHS 20s" is a 20 s window, never the 5 s rate; "MHS av" 0.894 is 894 kH/s', () => {
    const r = decodeGeneric(collected(BFG), 'cgminer');
    expect(r.hashrateWindows).toEqual([{ label: '20s', windowS: 20, hashrateHs: 0 }, { label: 'av', windowS: undefined, hashrateHs: 894_000 }]);
    expect(r.hashrate5sHs).toBeUndefined();
    expect(r.hashrateAvgHs).toBe(894_000);
    // The CPU is a PGA with "MHS 20s":0.131.
    expect(r.boards).toHaveLength(1);
    expect(r.boards[0]).toMatchObject({ index: 0, hashrateHs: 131_000 });
  });

  it('cgminer 2.11.4 has only "MHS av" in its summary', () => {
    const r = decodeGeneric(collected(CG2), 'cgminer');
    expect(r.hashrateWindows).toEqual([{ label: 'av', windowS: undefined, hashrateHs: 0 }]);
    expect(r.hashrate5sHs).toBeUndefined();
  });
});

describe('real sessions: pools and the pool in use', () => {
  it('cgminer 4.11.1: lcd "Current Pool" names the pool in use; Stratum Active, difficulties and getworks are kept', () => {
    const r = decodeGeneric(collected(CG4), 'cgminer');
    expect(r.currentPoolUrl).toBe('stratum+tcp://127.0.0.1:3333');
    expect(r.pools.map((p) => [p.index, p.active, p.activeEvidence, p.stratumActive, p.getworks])).toEqual([
      [0, true, 'lcd-current-pool', true, 3], [1, false, 'lcd-current-pool', false, 0],
    ]);
    expect(r.pools[0]).toMatchObject({ lastShareDifficulty: 0, difficultyAccepted: 0, lastShareTime: undefined, status: PoolStatus.POOL_STATUS_ALIVE });
  });

  it('bfgminer: one pool stratum-active; its share time, last share difficulty and accepted difficulty', () => {
    const r = decodeGeneric(collected(BFG), 'cgminer');
    expect(r.currentPoolUrl).toBe(''); // bfgminer has no lcd (Code 14)
    expect(r.pools[0]).toMatchObject({
      active: true, activeEvidence: 'stratum-active', stratumActive: true, accepted: 5, getworks: 2,
      lastShareDifficulty: 0.00050001, difficultyAccepted: 0.00250004, lastShareTime: new Date(1795321420_000),
      // "Diff1 Shares": the work found for the pool, counted before its answer (the failover's hung-pool evidence).
      diff1Shares: 0.00250004,
    });
    expect(r.pools[1]).toMatchObject({ active: false, stratumActive: false, lastShareTime: undefined });
  });

  it('bfgminer after a switch keeps "Stratum Active" on both pools: not the priority-0 pool by rule, the latest share, marked as a guess', () => {
    const r = decodeGeneric(collected(BFG, '41-pools-after-switchpool-1'), 'cgminer');
    expect(r.pools.map((p) => p.stratumActive)).toEqual([true, true]);
    // Pool 1 had the latest share (1795321446 against 1795321433): the guess, and the evidence says it is one.
    expect(r.pools.map((p) => [p.active, p.activeEvidence])).toEqual([[false, 'last-share'], [true, 'last-share']]);
  });

  it('cgminer 2.11.4 after poolpriority 2,0,1: several stratum-active pools and no share to tell: the best priority, marked "priority" (a weak guess)', () => {
    const r = decodeGeneric(collected(CG2, '45-pools-after-poolpriority'), 'cgminer');
    expect(r.pools.filter((p) => p.stratumActive).map((p) => p.index)).toEqual([1, 2]);
    expect(r.pools.map((p) => [p.active, p.activeEvidence])).toEqual([[false, 'priority'], [false, 'priority'], [true, 'priority']]);
  });
});

describe('real sessions: the auto driver over a loopback socket that answers the recorded bytes', () => {
  it('cgminer 4.11.1: one joined read, lcd asked too, "No ASCs" (Code 10) is no devices and no error', async () => {
    const { reading, requests } = await collectOverSocket(CG4, true);
    expect(requests[0]).toBe('{"command":"version+summary+pools+devs+stats"}');
    expect(requests).toContain('{"command":"lcd"}');
    expect(reading).toMatchObject({ software: 'cgminer', softwareVersion: '4.11.1', currentPoolUrl: 'stratum+tcp://127.0.0.1:3333', boards: [], errors: [] });
    expect(() => encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ ...reading, collectedAt: new Date(0) }))).not.toThrow();
  });

  it('bfgminer 5.5.0 over the socket: named bfgminer, a 20 s window, no lcd', async () => {
    const { reading } = await collectOverSocket(BFG, true);
    expect(reading).toMatchObject({ software: 'bfgminer', vendor: 'bfgminer', hashrate5sHs: undefined, currentPoolUrl: '' });
    expect(reading.hashrateWindows.map((w) => w.label)).toEqual(['20s', 'av']);
  });

  it('cgminer 2.11.4 does not join: every command alone, and the reading is whole', async () => {
    const { reading, requests } = await collectOverSocket(CG2, false);
    expect(requests).toContain('{"command":"summary"}');
    expect(reading).toMatchObject({ software: 'cgminer', softwareVersion: '2.11.4' });
    expect(reading.pools).toHaveLength(2);
  });
});

describe('real sessions: impossible values are refused one by one, the reading is kept', () => {
  it('cgminer 2.11.4: the uninitialised CPU 1 is a phantom (with reasons), not a dead board; CPU 0 is kept as it is', () => {
    const r = decodeGeneric(collected(CG2), 'cgminer');
    expect(r.boards).toHaveLength(2);
    expect(r.boards[0]).toMatchObject({ index: 0, phantomReason: '', hashrateHs: 0 });
    const phantom = r.boards[1]!;
    expect(phantom.index).toBe(1);
    expect(phantom.status).not.toBe(BoardStatus.BOARD_STATUS_DEAD);
    expect(phantom.phantomReason).toContain('Last Share Time 7221068133453556000 is no date') // 7221068133453555255 as a double;
    expect(phantom.phantomReason).toContain('Last Share Pool 812005680 names no pool');
    expect(phantom.phantomReason).toContain('Difficulty Rejected 1.11e+165 is beyond any share');
    expect(phantom.phantomReason).toContain('Accepted 1701146671 after 26 s');
    expect(r.fieldWarnings.map((w) => [w.field, w.reason])).toEqual(expect.arrayContaining([
      ['devs[1].Last Share Time', 'out of range'], ['devs[1].Last Share Pool', 'implausible'],
      ['devs[1].Difficulty Rejected', 'out of range'], ['devs[1].Accepted', 'implausible'], ['devs[1].Rejected', 'implausible'],
    ]));
    expect(r.fieldWarnings.find((w) => w.field === 'devs[1].Difficulty Rejected')!.value.length).toBeLessThanOrEqual(64);
    // The summary and pools of the same reading are whole.
    expect(r.pools).toHaveLength(2);
    expect(r.uptimeS).toBe(26);
  });

  it('a pool "Last Share Time" out of range is refused with a warning and the snapshot still encodes (it threw "Invalid time value")', () => {
    const replies = collected(BFG);
    const pools = JSON.parse(JSON.stringify(replies['pools'])) as { POOLS: Record<string, unknown>[] };
    pools.POOLS[0]!['Last Share Time'] = 7221068133453555255;
    const r = decodeGeneric({ ...replies, pools: pools as unknown as CgminerReply }, 'cgminer');
    expect(r.pools[0]!.lastShareTime).toBeUndefined();
    expect(r.pools[0]!.accepted).toBe(5);
    expect(r.fieldWarnings).toEqual([{ field: 'pools[0].Last Share Time', value: '7221068133453556000', reason: 'out of range' }]);
    expect(() => encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ ...r, collectedAt: new Date(0) }))).not.toThrow();
  });

  it('a device temperature of 7e18 is refused with a warning; a -273 placeholder (no sensor) is absent without one', () => {
    const withTemp = (t: number): MinerReading => {
      const replies = collected(BFG);
      const devs = JSON.parse(JSON.stringify(replies['devs'])) as { DEVS: Record<string, unknown>[] };
      devs.DEVS[0]!['Temperature'] = t;
      return sanitizeReading(decodeGeneric({ ...replies, devs: devs as unknown as CgminerReply }, 'cgminer'));
    };
    const absurd = withTemp(7e18);
    expect(absurd.boards[0]!.boardTempC).toBeUndefined();
    expect(absurd.boards[0]!.hashrateHs).toBe(131_000);
    expect(absurd.fieldWarnings).toEqual([{ field: 'boards[0].boardTempC', value: '7000000000000000000', reason: 'out of range' }]);
    const placeholder = withTemp(-273);
    expect(placeholder.boards[0]!.boardTempC).toBeUndefined();
    expect(placeholder.fieldWarnings).toEqual([]);
    expect(withTemp(61.5).boards[0]!.boardTempC).toBe(61.5);
  });
});
