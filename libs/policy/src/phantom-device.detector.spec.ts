import { Board, BoardStatus, MinerSnapshot } from '@rigwarden/protocol';
import devs211 from '../testdata/cgminer-real/cgminer-2.11.4/05-devs.json';
import { phantomReason } from './phantom-device.detector';
import { observeSnapshot } from './snapshot-observation.mapper';

const [cpu0, cpu1] = devs211.DEVS;
const DEAD = BoardStatus.BOARD_STATUS_DEAD;
const OK = BoardStatus.BOARD_STATUS_OK;

describe('phantom-device-detector', () => {
  it.each<[string, Partial<Board>, string | undefined]>([
    ['the driver\'s phantom_reason comes first', { phantomReason: 'Last Share Time 7221068133453555255 is no date', hashrateHs: 0 }, 'Last Share Time 7221068133453555255 is no date'],
    ['cgminer 2.11.4\'s uninitialised CPU 1 (Accepted 1701146671 at 0 H/s)', { index: 1, hashrateHs: 0, accepted: cpu1!.Accepted, rejected: cpu1!.Rejected, status: DEAD },
      'accepted 1701146671 at 0 H/s: beyond any real device (uninitialised values)'],
    ['cgminer 2.11.4\'s real CPU 0 (all zero 26 s in) is real', { index: 0, hashrateHs: cpu0!['MHS 5s'] * 1e6, accepted: cpu0!.Accepted, rejected: cpu0!.Rejected, status: DEAD }, undefined],
    ['a hashing board with 2e9 accepted shares is real (an old, fast device)', { hashrateHs: 14e12, accepted: 2e9 }, undefined],
    ['a counter above 1e12 is impossible whatever the hashrate', { hashrateHs: 14e12, hwErrors: 5e12 }, 'hardware errors 5000000000000: beyond any real device'],
    ['a chip temperature of 1e165 is not a reading', { hashrateHs: 1e12, chipTempC: 1.1e165 }, 'chip temperature 1.1e+165 °C: not a real reading'],
    ['a board temperature of 4000 °C at 0 H/s is not a reading', { hashrateHs: 0, boardTempC: 4000 }, 'board temperature 4000 °C: not a real reading'],
    ['a broken sensor reading 255 on a real board is not a phantom', { hashrateHs: 1e12, chipTempC: 255, status: OK }, undefined],
    ['a broken sensor reading 65535 on a dead board is not a phantom (the board may really be dead)', { hashrateHs: 0, boardTempC: 65535, status: DEAD }, undefined],
    ['a dead board at 0 H/s with ordinary counters is dead, not a phantom', { hashrateHs: 0, accepted: 120_000, status: DEAD }, undefined],
    ['200 PH/s on one board is beyond any hardware', { hashrateHs: 2e17 }, 'hashrate 200000000000000000 H/s: beyond any real device'],
  ])('phantom-device-detector: %s', (_name, board, reason) => {
    expect(phantomReason(Board.fromPartial(board))).toBe(reason);
  });

  it('phantom-device-detector: observeSnapshot keeps a phantom out of the boards, and out of the summed hardware errors', () => {
    const o = observeSnapshot(MinerSnapshot.fromPartial({
      rigId: 'cpu-1', minerId: 'm', uptimeS: 26, hashrate5sHs: 0,
      boards: [
        Board.fromPartial({ index: 0, hashrateHs: 0.7e6, hwErrors: 3, status: OK }),
        Board.fromPartial({ index: 1, hashrateHs: 0, accepted: cpu1!.Accepted, hwErrors: 959918386, status: DEAD, name: 'CPU 1' }),
      ],
    }), 1_800_000_000_000);
    expect(o.boards.map((b) => b.index)).toEqual([0]);
    expect(o.phantomBoards).toEqual([{ index: 1, name: 'CPU 1', reason: 'accepted 1701146671 at 0 H/s: beyond any real device (uninitialised values)' }]);
    expect(o.hwErrors).toBe(3);
  });

  it('phantom-device-detector: a snapshot without phantoms has no phantomBoards key', () => {
    const o = observeSnapshot(MinerSnapshot.fromPartial({ rigId: 'r', minerId: 'm', uptimeS: 5, boards: [Board.fromPartial({ index: 0, hashrateHs: 1e12, status: OK })] }), 0);
    expect(o).not.toHaveProperty('phantomBoards');
  });
});
