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

describe('snapshot-observation-mapper: pools and hashrate windows (issue 15)', () => {
  // bfgminer 5.5.0's summary labels "MHS 20s" and "MHS av", no 5 s window; two pools Stratum Active after its own
  // failover (testdata/traces); values as the cgminer driver maps them.
  const bfgminer = MinerSnapshot.fromJSON({
    rigId: 'bfg',
    software: 'bfgminer',
    hashrateAvgHs: 596_000,
    hashrateWindows: [{ label: 'av', hashrateHs: 596_000 }, { label: '20s', windowS: 20, hashrateHs: 277_000 }],
    pools: [
      { index: 0, url: 'stratum+tcp://127.0.0.1:3333', user: 'bfgminer-a', status: 'POOL_STATUS_ALIVE', active: true, activeEvidence: 'priority', stratumActive: true, accepted: 12, lastShareDifficulty: 0.00050001, difficultyAccepted: 0.006, getworks: 2 },
      { index: 1, url: 'stratum+tcp://127.0.0.1:3334', user: 'bfgminer-b', status: 'POOL_STATUS_ALIVE', active: false, activeEvidence: 'priority', stratumActive: true, accepted: 81, getworks: 9 },
    ],
    collectedAt: '2027-01-15T08:00:00Z',
  });

  it('snapshot-observation-mapper: Stratum Active, difficulties, getworks and the evidence for active are kept per pool', () => {
    const { pools } = observeSnapshot(bfgminer);
    expect(pools[0]).toMatchObject({ stratumActive: true, lastShareDifficulty: 0.00050001, difficultyAccepted: 0.006, getworks: 2, activeEvidence: 'priority' });
    expect(pools[1]).toMatchObject({ stratumActive: true, getworks: 9, activeEvidence: 'priority' });
    expect(pools[1]!.lastShareDifficulty).toBeUndefined();
  });

  it('snapshot-observation-mapper: windows are kept by their labels, shortest first, "av" last', () => {
    const o = observeSnapshot(bfgminer);
    expect(o.hashrateWindows).toEqual([{ label: '20s', windowS: 20, hashrateHs: 277_000 }, { label: 'av', hashrateHs: 596_000 }]);
    expect(o.hashrateAvgHs).toBe(596_000);
    expect(o.software).toBe('bfgminer');
  });

  it('snapshot-observation-mapper: without a 5 s window the current rate is the shortest labelled one (bfgminer 20 s), not the average', () => {
    expect(observeSnapshot(bfgminer).hashrateHs).toBe(277_000);
    expect(observeSnapshot(antminer).hashrateHs).toBe(95e12);
  });

  it('snapshot-observation-mapper: the lcd current pool is kept; a snapshot with windows only is a reading', () => {
    const cgminer411 = MinerSnapshot.fromJSON({
      rigId: 'c', currentPoolUrl: 'stratum+tcp://127.0.0.1:3333',
      hashrateWindows: [{ label: '5s', windowS: 5, hashrateHs: 0 }, { label: 'av', hashrateHs: 0 }],
      errors: [{ kind: 'miner_error', message: 'No ASCs' }],
    });
    const o = observeSnapshot(cgminer411, 1);
    expect(o).toMatchObject({ currentPoolUrl: 'stratum+tcp://127.0.0.1:3333', reachable: true, hashrateAvgHs: 0 });
  });

  it('snapshot-observation-mapper: an impossible window or difficulty is left out', () => {
    const bad = MinerSnapshot.fromJSON({
      rigId: 'x',
      hashrateWindows: [{ label: '5s', windowS: 5, hashrateHs: -3 }, { label: '1m', windowS: 60, hashrateHs: 5 }],
      pools: [{ index: 0, url: 'a', user: 'u', status: 'POOL_STATUS_ALIVE', active: true, lastShareDifficulty: -1, activeEvidence: '' }],
    });
    const o = observeSnapshot(bad, 1);
    expect(o.hashrateWindows).toEqual([{ label: '1m', windowS: 60, hashrateHs: 5 }]);
    expect(o.hashrateHs).toBe(5);
    expect(o.pools[0]!.lastShareDifficulty).toBeUndefined();
    expect(o.pools[0]!.activeEvidence).toBeUndefined();
  });
});
