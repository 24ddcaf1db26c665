import { BoardStatus, MinerSnapshot, PoolStatus, encodeJson } from '@rigwarden/protocol';
import type { MinerReading } from './driver';
import { sanitizeReading } from './reading.sanitizer';

function reading(over: Partial<MinerReading> = {}): MinerReading {
  return {
    host: '127.0.0.1', port: 4028, vendor: 'cgminer', model: '', firmware: 'cgminer 4.11.1', uptimeS: 3600,
    hashrate5sHs: 14e12, hashrateAvgHs: 13.9e12, accepted: 1000, rejected: 2, stale: 0, hwErrors: 5, powerW: 1400,
    boards: [{ index: 0, hashrateHs: 4.6e12, boardTempC: 70, chipTempC: 80, chips: 63, hwErrors: 1, status: BoardStatus.BOARD_STATUS_OK, pciBusId: '', name: '', phantomReason: '' }],
    fans: [{ index: 0, rpm: 3600, percent: 50 }],
    pools: [{
      index: 0, url: 'stratum+tcp://a:3333', user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, priority: 0, active: true, activeEvidence: 'stratum-active',
      accepted: 1000, rejected: 2, stale: 0, lastShareTime: new Date(Date.UTC(2026, 10, 22)), stratumActive: true, lastShareDifficulty: 65536,
      difficultyAccepted: 65536000, getworks: 300,
    }],
    errors: [], driver: 'cgminer', algorithm: 'sha256d',
    hashrateWindows: [{ label: '5s', windowS: 5, hashrateHs: 14e12 }, { label: 'av', windowS: undefined, hashrateHs: 13.9e12 }],
    fieldWarnings: [], software: 'cgminer', softwareVersion: '4.11.1', currentPoolUrl: '',
    ...over,
  };
}

const board = (over: Record<string, unknown>): MinerReading['boards'][number] => ({ ...reading().boards[0]!, ...over });
const pool = (over: Record<string, unknown>): MinerReading['pools'][number] => ({ ...reading().pools[0]!, ...over });

describe('reading sanitizer: one bad field is left out with a warning, the rest is kept', () => {
  const cases: { name: string; input: Partial<MinerReading>; field: string; reason: string; absent: (r: MinerReading) => unknown }[] = [
    { name: 'a negative hashrate', input: { hashrate5sHs: -5 }, field: 'hashrate5sHs', reason: 'negative', absent: (r) => r.hashrate5sHs },
    { name: 'an infinite average hashrate', input: { hashrateAvgHs: Infinity }, field: 'hashrateAvgHs', reason: 'not finite', absent: (r) => r.hashrateAvgHs },
    { name: 'NaN power', input: { powerW: Number.NaN }, field: 'powerW', reason: 'not finite', absent: (r) => r.powerW },
    { name: 'a hashrate above any miner (1e20 H/s)', input: { hashrate5sHs: 1e20 }, field: 'hashrate5sHs', reason: 'out of range', absent: (r) => r.hashrate5sHs },
    { name: 'a board temperature of 7e18', input: { boards: [board({ boardTempC: 7e18 })] }, field: 'boards[0].boardTempC', reason: 'out of range', absent: (r) => r.boards[0]!.boardTempC },
    { name: 'a negative board frequency', input: { boards: [board({ frequencyMhz: -600 })] }, field: 'boards[0].frequencyMhz', reason: 'negative', absent: (r) => r.boards[0]!.frequencyMhz },
    { name: 'a board hashrate above any board', input: { boards: [board({ hashrateHs: 5e15 })] }, field: 'boards[0].hashrateHs', reason: 'out of range', absent: (r) => r.boards[0]!.hashrateHs },
    { name: 'accepted shares faster than any miner shares', input: { uptimeS: 26, accepted: 1701146671 }, field: 'accepted', reason: 'implausible', absent: (r) => r.accepted },
    { name: 'a counter beyond a safe integer', input: { hwErrors: 2 ** 60 }, field: 'hwErrors', reason: 'out of range', absent: (r) => r.hwErrors },
    { name: 'a fan at 250 %', input: { fans: [{ index: 0, rpm: 3000, percent: 250 }] }, field: 'fans[0].percent', reason: 'out of range', absent: (r) => r.fans[0]!.percent },
    { name: 'a share time that is no date', input: { pools: [pool({ lastShareTime: new Date(Number.NaN) })] }, field: 'pools[0].lastShareTime', reason: 'out of range', absent: (r) => r.pools[0]!.lastShareTime },
    { name: 'a share time before Bitcoin', input: { pools: [pool({ lastShareTime: new Date(1000) })] }, field: 'pools[0].lastShareTime', reason: 'out of range', absent: (r) => r.pools[0]!.lastShareTime },
    { name: 'a rejected difficulty of 1e165', input: { pools: [pool({ difficultyAccepted: 1e165 })] }, field: 'pools[0].difficultyAccepted', reason: 'out of range', absent: (r) => r.pools[0]!.difficultyAccepted },
    { name: 'a negative hashrate window', input: { hashrateWindows: [{ label: '20s', windowS: 20, hashrateHs: -1 }] }, field: 'hashrateWindows[0].hashrateHs', reason: 'negative', absent: (r) => r.hashrateWindows[0] },
  ];
  for (const c of cases) {
    it(`${c.name}: absent, one warning "${c.reason}" on ${c.field}, and the snapshot encodes`, () => {
      const out = sanitizeReading(reading(c.input));
      expect(c.absent(out)).toBeUndefined();
      expect(out.fieldWarnings).toHaveLength(1);
      expect(out.fieldWarnings[0]).toMatchObject({ field: c.field, reason: c.reason });
      expect(out.fieldWarnings[0]!.value.length).toBeLessThanOrEqual(64);
      expect(out.pools[0]!.url).toBe('stratum+tcp://a:3333');
      expect(out.firmware).toBe('cgminer 4.11.1');
      expect(() => encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ ...out, rigId: 'r', minerId: 'm', seq: 1, collectedAt: new Date(0) }))).not.toThrow();
    });
  }

  it('a sane reading passes unchanged, and sanitising twice adds nothing', () => {
    const once = sanitizeReading(reading({ hashrate5sHs: -1 }));
    expect(sanitizeReading(reading())).toEqual(reading());
    expect(sanitizeReading(once)).toEqual(once);
  });

  it('warnings the decoder already made are kept first', () => {
    const out = sanitizeReading(reading({ powerW: -3, fieldWarnings: [{ field: 'devs[1].Accepted', value: '1701146671', reason: 'implausible' }] }));
    expect(out.fieldWarnings.map((w) => w.field)).toEqual(['devs[1].Accepted', 'powerW']);
  });
});
