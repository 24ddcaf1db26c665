import { MinerSnapshot } from '@rigwarden/protocol';
import { observeSnapshot, plausibleTempC } from './snapshot-observation.mapper';

// Decoded by the real proto3 JSON mapping, as the controller's ingest receives it.
const antminer = MinerSnapshot.fromJSON({
  rigId: 'rig-7',
  minerId: '10.0.0.7:4028',
  vendor: 'antminer',
  model: 'S19',
  uptimeS: 3600,
  hashrate5sHs: 95e12,
  hwErrors: 12,
  boards: [
    { index: 0, status: 'BOARD_STATUS_OK', chipTempC: 78, boardTempC: 61, hashrateHs: 32e12 },
    { index: 1, status: 'BOARD_STATUS_DEAD', chipTempC: 0, boardTempC: 0 },
    { index: 2, status: 'BOARD_STATUS_OK', chipTempC: 255, boardTempC: 64 },
  ],
  fans: [{ index: 0, rpm: 5400 }, { index: 1, rpm: 0, percent: 100 }],
  pools: [
    { index: 0, url: 'stratum+tcp://a:3333', user: 'u', status: 'POOL_STATUS_ALIVE', active: true, accepted: 10, rejected: 1, lastShareTime: '2027-01-15T07:59:55Z' },
    { index: 1, url: 'stratum+tcp://b:3333', user: 'u', status: 'POOL_STATUS_REJECTING', active: false },
    { index: 2, url: 'stratum+tcp://c:3333', user: 'u', status: 'POOL_STATUS_DISABLED', active: false },
  ],
  errors: [],
  collectedAt: '2027-01-15T08:00:00Z',
  seq: 42,
});

describe('snapshot-observation-mapper', () => {
  it('snapshot-observation-mapper: collectedAt becomes the reading time in epoch ms', () => {
    expect(observeSnapshot(antminer)).toMatchObject({ at: 1_800_000_000_000, seq: 42, rigId: 'rig-7', minerId: '10.0.0.7:4028', reachable: true });
  });

  it('snapshot-observation-mapper: pool states, counters and the last share time are kept', () => {
    const { pools } = observeSnapshot(antminer);
    expect(pools.map((p) => p.state)).toEqual(['alive', 'rejecting', 'disabled']);
    expect(pools[0]).toMatchObject({ index: 0, active: true, accepted: 10, rejected: 1, lastShareAt: 1_800_000_000_000 - 5_000 });
  });

  it('snapshot-observation-mapper: a board takes its hottest plausible sensor, 0 and 255 are not readings', () => {
    const { boards } = observeSnapshot(antminer);
    expect(boards.map((b) => [b.state, b.tempC])).toEqual([['ok', 78], ['dead', undefined], ['ok', 64]]);
  });

  it('snapshot-observation-mapper: fans and counters are carried over', () => {
    expect(observeSnapshot(antminer)).toMatchObject({ uptimeS: 3600, hashrateHs: 95e12, hwErrors: 12, fans: [{ index: 0, rpm: 5400 }, { index: 1, rpm: 0, percent: 100 }] });
  });

  it('snapshot-observation-mapper: a snapshot with errors and no data is an unreachable miner', () => {
    const down = MinerSnapshot.fromJSON({ rigId: 'rig-7', errors: [{ kind: 'timeout', message: 'no reply in 3 s' }], collectedAt: '2027-01-15T08:00:00Z' });
    expect(observeSnapshot(down)).toMatchObject({ reachable: false, errorKinds: ['timeout'] });
  });

  it('snapshot-observation-mapper: a snapshot with errors but some data is reachable', () => {
    const partial = MinerSnapshot.fromJSON({ rigId: 'rig-7', hashrate5sHs: 1, errors: [{ kind: 'parse', command: 'stats' }], collectedAt: '2027-01-15T08:00:00Z' });
    expect(observeSnapshot(partial)).toMatchObject({ reachable: true, errorKinds: ['parse'] });
  });

  it('snapshot-observation-mapper: the collecting agent is kept for neighbourhoods', () => {
    expect(observeSnapshot(MinerSnapshot.fromJSON({ rigId: 'r', agentId: 'agent-hall-a', hashrate5sHs: 1 }), 1).agentId).toBe('agent-hall-a');
    expect(observeSnapshot(antminer).agentId).toBeUndefined();
  });

  it('snapshot-observation-mapper: without collectedAt the receive time stands in', () => {
    const undated = MinerSnapshot.fromJSON({ rigId: 'rig-7', hashrate5sHs: 1 });
    expect(observeSnapshot(undated, 1_800_000_001_000).at).toBe(1_800_000_001_000);
  });

  it('snapshot-observation-mapper: rig hardware errors fall back to the sum over boards', () => {
    const gpu = MinerSnapshot.fromJSON({ rigId: 'r', boards: [{ index: 0, hwErrors: 2, pciBusId: '0000:01:00.0', name: 'RTX 3070' }, { index: 1, hwErrors: 3 }] });
    const o = observeSnapshot(gpu, 1);
    expect(o.hwErrors).toBe(5);
    expect(o.boards[0]).toMatchObject({ pciBusId: '0000:01:00.0', name: 'RTX 3070', state: 'unknown' });
  });

  it.each([
    [undefined, undefined],
    [0, undefined],
    [-1, undefined],
    [255, undefined],
    [Number.NaN, undefined],
    [71.5, 71.5],
  ])('snapshot-observation-mapper: %p °C is read as %p', (raw, read) => {
    expect(plausibleTempC(raw)).toBe(read);
  });
});
