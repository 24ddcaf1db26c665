import { MinerSnapshot, type Rig } from '@rigwarden/protocol';
import { overview, queryRigs, summarise, type RigQuery, type RigSummary } from './rig-summary';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function rig(rigId: string, over: Partial<Rig> = {}, miners: Array<Partial<MinerSnapshot>> = [{}]): Rig {
  return {
    rigId, online: true, lastSeen: new Date(T0), lastSeq: 1, labels: {}, group: '', quarantined: false,
    liveness: 'online', livenessReason: 'telemetry-fresh', livenessMessage: '', livenessSince: undefined, expectedIntervalMs: 5000, agentId: '', fieldWarningCounts: [],
    miners: miners.map((m, i) => MinerSnapshot.fromPartial({ rigId, minerId: `m${i}`, model: 'S19', algorithm: 'sha256d', hashrate5sHs: 1e12, collectedAt: new Date(T0), ...m })),
    ...over,
  };
}

const Q: RigQuery = { sort: 'rigId', dir: 'asc', offset: 0, limit: 100 };

describe('rig-summary: summarise', () => {
  it.each<[string, Rig, Partial<RigSummary>]>([
    ['a quarantined rig is quarantined even when online', rig('r', { quarantined: true }), { status: 'quarantined' }],
    ['an offline rig is offline', rig('r', { online: false }), { status: 'offline' }],
    ['hashrate sums the miners, falling back to the average', rig('r', {}, [{ hashrate5sHs: 2e12 }, { hashrate5sHs: undefined, hashrateAvgHs: 1e12 }]), { hashrateHs: 3e12, miners: 2 }],
    ['no hashrate at all is null, not 0', rig('r', {}, [{ hashrate5sHs: undefined }]), { hashrateHs: null }],
    ['the hottest of board and chip temperatures', rig('r', {}, [{ boards: [{ index: 0, boardTempC: 60, chipTempC: 81, status: 1, phantomReason: '', pciBusId: '', name: '' }, { index: 1, boardTempC: 79, status: 1, phantomReason: '', pciBusId: '', name: '' }] }]), { maxTempC: 81 }],
    ['power from the boards when the miner reports none', rig('r', {}, [{ boards: [{ index: 0, powerW: 150, status: 1, phantomReason: '', pciBusId: '', name: '' }, { index: 1, powerW: 170, status: 1, phantomReason: '', pciBusId: '', name: '' }] }]), { powerW: 320 }],
    ['the slowest fan', rig('r', {}, [{ fans: [{ index: 0, rpm: 5200 }, { index: 1, rpm: 4100 }] }]), { fanMinRpm: 4100 }],
    ['the active pool of the first miner', rig('r', {}, [{ pools: [{ index: 0, url: 'a', user: 'u', status: 1, active: false, lastShareTime: undefined, activeEvidence: '' }, { index: 1, url: 'b', user: 'u', status: 1, active: true, lastShareTime: undefined, activeEvidence: '' }] }]), { activePool: 'b' }],
    ['bfgminer: named by VERSION, its 20 s window as the hashrate (never shown as 5 s)', rig('r', {}, [{
      vendor: 'cgminer', firmware: '5.5.0-34-g866fd36f', software: 'bfgminer', softwareVersion: '5.5.0-34-g866fd36f', hashrate5sHs: undefined, hashrateAvgHs: 894_000,
      hashrateWindows: [{ label: '20s', windowS: 20, hashrateHs: 1e6 }, { label: 'av', hashrateHs: 894_000 }],
    }]), { hashrateHs: 1e6, hashrateWindow: '20s', program: 'bfgminer 5.5.0-34-g866fd36f' }],
    ['only an average: labelled av', rig('r', {}, [{ hashrate5sHs: undefined, hashrateAvgHs: 5e12 }]), { hashrateHs: 5e12, hashrateWindow: 'av' }],
    ['the controller\'s liveness and its reason', rig('r', { online: false, liveness: 'stale', livenessMessage: 'no telemetry for 18 s, expected every 5 s' }), { status: 'offline', liveness: 'stale', livenessMessage: 'no telemetry for 18 s, expected every 5 s' }],
    ['distinct models joined', rig('r', {}, [{ model: 'S19' }, { model: 'S21' }, { model: 'S19' }]), { model: 'S19, S21' }],
  ])('%s', (_name, input, expected) => {
    expect(summarise(input)).toMatchObject(expected);
  });
});

describe('rig-summary: queryRigs', () => {
  const rows = [
    summarise(rig('b', { group: 'row1' }, [{ hashrate5sHs: 3e12, model: 'S19 Pro' }])),
    summarise(rig('a', { group: 'row2', online: false }, [{ hashrate5sHs: 1e12 }])),
    summarise(rig('c', { group: 'row1', labels: { site: 'north' } }, [{ hashrate5sHs: undefined }])),
    summarise(rig('d', { group: 'row2', quarantined: true }, [{ hashrate5sHs: 2e12, model: 'L7' }])),
  ];
  it.each<[string, Partial<RigQuery>, string[], number]>([
    ['by id', {}, ['a', 'b', 'c', 'd'], 4],
    ['by hashrate descending, missing values last', { sort: 'hashrateHs', dir: 'desc' }, ['b', 'd', 'a', 'c'], 4],
    ['by hashrate ascending, missing values still last', { sort: 'hashrateHs', dir: 'asc' }, ['a', 'd', 'b', 'c'], 4],
    ['status', { status: 'quarantined' }, ['d'], 1],
    ['group', { group: 'row1' }, ['b', 'c'], 2],
    ['model substring, any case', { model: 's19 p' }, ['b'], 1],
    ['text matches label values', { text: 'NORTH' }, ['c'], 1],
    ['a page of the filtered, sorted rows with the full total', { group: 'row2', sort: 'rigId', dir: 'desc', offset: 1, limit: 1 }, ['a'], 2],
  ])('%s', (_name, q, ids, total) => {
    const result = queryRigs(rows, { ...Q, ...q });
    expect(result.rigs.map((r) => r.rigId)).toEqual(ids);
    expect(result.total).toBe(total);
  });
});

describe('rig-summary: overview', () => {
  it('counts statuses, sums hashrate per algorithm over online rigs and ranks the hottest devices', () => {
    const rigs = [
      rig('a', {}, [{ algorithm: 'sha256d', hashrate5sHs: 1e12, boards: [{ index: 0, chipTempC: 90, status: 1, phantomReason: '', pciBusId: '', name: '' }] }]),
      rig('b', {}, [{ algorithm: 'scrypt', hashrate5sHs: 5e9, boards: [{ index: 2, boardTempC: 70, status: 1, phantomReason: '', pciBusId: '', name: 'GPU 2' }] }]),
      rig('c', { online: false }, [{ algorithm: 'sha256d', hashrate5sHs: 9e12, boards: [{ index: 1, chipTempC: 99, status: 1, phantomReason: '', pciBusId: '', name: '' }] }]),
      rig('d', { quarantined: true, group: 'g' }, [{ algorithm: '', hashrate5sHs: 2e12 }]),
    ];
    const o = overview(rigs, rigs.map(summarise), 2);
    expect(o.rigs).toEqual({ total: 4, online: 2, offline: 1, quarantined: 1 });
    expect(o.hashrateByAlgorithm).toEqual({ sha256d: 1e12, scrypt: 5e9, unknown: 2e12 });
    expect(o.hottest).toEqual([
      { rigId: 'c', minerId: 'm0', board: 1, name: 'board 1', tempC: 99 },
      { rigId: 'a', minerId: 'm0', board: 0, name: 'board 0', tempC: 90 },
    ]);
    expect(o.groups).toEqual(['g']);
  });
});
