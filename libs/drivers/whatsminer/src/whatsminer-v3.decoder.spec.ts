import { BoardStatus } from '@rigwarden/protocol';
import { sanitizeReading } from '@rigwarden/drivers-core';
import { decodeV3Reading, decodeV3Settings, v3Number, v3PowerMode } from './whatsminer-v3.decoder';

describe('whatsminer v3 decoder on replies no recording shows', () => {
  it('wrong types and impossible values are left out (with a warning where the sanitizer sees them), never thrown', () => {
    const reading = sanitizeReading(decodeV3Reading({
      deviceInfo: { miner: 'not an object', system: { fwversion: 42 } },
      summary: { 'hash-realtime': 'abc', 'hash-average': -3, 'fan-speed-in': -5, 'fan-speed-out': '5280', 'board-temperature': 'hot', elapsed: 1.5 },
      pools: [null, 'x', { url: 7, 'stratum-active': 'yes' }],
      edevs: { id: 0 },
    }));
    expect(reading.model).toBe('');
    expect(reading.firmware).toBe('btminer 42');
    expect(reading.hashrateWindows).toEqual([]); // 'abc' is no number; the negative average is refused by the sanitizer
    expect(reading.hashrateAvgHs).toBeUndefined();
    expect(reading.fieldWarnings.map((w) => [w.field, w.reason])).toEqual(expect.arrayContaining([['hashrateAvgHs', 'negative']]));
    expect(reading.fans).toEqual([{ index: 1, rpm: 5280, percent: undefined }]);
    expect(reading.uptimeS).toBeUndefined();
    expect(reading.boards).toEqual([]);
    expect(reading.pools).toHaveLength(1);
    expect(reading.pools[0]).toMatchObject({ url: '7', active: false, stratumActive: undefined });
  });

  it('a board the firmware does not call alive, or with no chips, is dead; with btminer stopped every board is disabled', () => {
    const edevs = [{ id: 0, status: 'alive', 'hash-average': 50, 'effective-chips': 75 }, { id: 1, status: 'dead', 'hash-average': 0 }, { id: 2, 'effective-chips': 0, 'hash-average': 1 }];
    expect(decodeV3Reading({ edevs }).boards.map((b) => b.status)).toEqual([BoardStatus.BOARD_STATUS_OK, BoardStatus.BOARD_STATUS_DEAD, BoardStatus.BOARD_STATUS_DEAD]);
    expect(decodeV3Reading({ deviceInfo: { miner: { working: 'false' } }, edevs }).boards.every((b) => b.status === BoardStatus.BOARD_STATUS_DISABLED)).toBe(true);
  });

  it('numbers as strings, modes as digits or words', () => {
    expect([v3Number('3'), v3Number(' '), v3Number('1e3'), v3Number(Number.NaN), v3Number(true)]).toEqual([3, undefined, 1000, undefined, undefined]);
    expect(['0', '1', '2', 'LOW', 'turbo', 3].map(v3PowerMode)).toEqual(['low', 'normal', 'high', 'low', undefined, undefined]);
    expect(decodeV3Settings({ power: {} }, { 'power-mode': 'high', 'power-limit': '3300' })).toEqual({ powerMode: 'high', powerLimitW: 3300 });
  });
});
