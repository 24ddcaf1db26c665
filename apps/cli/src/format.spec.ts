import { BoardStatus, MinerSnapshot, PoolStatus, type Rig } from '@rigwarden/protocol';
import { minerProgram, rigDetail, rigHashrate, rigsTable, shortestWindow } from './format';

const T0 = Date.parse('2026-12-03T12:00:00Z');

/**
 * What the driver makes of bfgminer 5.5.0's replies (values from ../shared/fixtures/cgminer-real/bfgminer-5.5.0/
 * full-session-crashed 01-version and 03-summary: "Miner":"bfgminer 5.5.0-34-g866fd36f", "MHS 20s":0.000,
 * "MHS av":0.894, a CGMiner key of 5.5.0-34-g866fd36f that used to be taken for the program).
 */
const bfgminer = MinerSnapshot.fromPartial({
  rigId: 'bfg-1', minerId: '127.0.0.1:4028', vendor: 'cgminer', firmware: '5.5.0-34-g866fd36f', driver: 'cgminer',
  software: 'bfgminer', softwareVersion: '5.5.0-34-g866fd36f', collectedAt: new Date(T0),
  hashrateAvgHs: 894_000, hashrateWindows: [{ label: '20s', windowS: 20, hashrateHs: 0 }, { label: 'av', hashrateHs: 894_000 }],
  fieldWarnings: [{ field: 'devs[1].Temperature', value: '-273', reason: 'out of range' }],
  boards: [
    { index: 0, hashrateHs: 900_000, status: BoardStatus.BOARD_STATUS_OK },
    { index: 1, status: BoardStatus.BOARD_STATUS_DEAD, phantomReason: 'uninitialised counters (cgminer 2.x phantom CPU)' },
  ],
  pools: [
    { index: 0, url: 'stratum+tcp://127.0.0.1:3333', user: 'w', status: PoolStatus.POOL_STATUS_DEAD, active: false, stratumActive: true },
    { index: 1, url: 'stratum+tcp://127.0.0.1:3334', user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: true, stratumActive: true, activeEvidence: 'share-progress' },
  ],
});

const rig = (over: Partial<Rig> = {}): Rig => ({
  rigId: 'bfg-1', online: false, lastSeen: new Date(T0 - 47_000), lastSeq: 9, miners: [bfgminer], labels: {}, group: 'g', quarantined: false,
  liveness: 'offline', livenessReason: 'no-telemetry', livenessMessage: 'no telemetry for 47 s, expected every 5 s', livenessSince: new Date(T0 - 10_000),
  expectedIntervalMs: 5000, agentId: 'agent-1', fieldWarningCounts: [{ rigId: 'bfg-1', field: 'devs[1].Temperature', reason: 'out of range', count: 12 }], ...over,
});

describe('rigctl format', () => {
  it('names bfgminer by its VERSION, not "cgminer 5.5.0-34-g866fd36f"', () => {
    expect(minerProgram(bfgminer)).toBe('bfgminer 5.5.0-34-g866fd36f');
    expect(minerProgram(MinerSnapshot.fromPartial({ vendor: 'antminer', firmware: '2023.01' }))).toBe('antminer 2023.01');
    expect(minerProgram(MinerSnapshot.fromPartial({ vendor: 't-rex', firmware: 't-rex 0.26.8' }))).toBe('t-rex 0.26.8');
  });

  it('shows the hashrate with the window the miner labels it by: 20s for bfgminer, never as the 5 s rate', () => {
    expect(shortestWindow(bfgminer)).toEqual({ label: '20s', hs: 0 });
    expect(rigHashrate([bfgminer])).toBe('0.00 H/s (20s)');
    expect(rigHashrate([MinerSnapshot.fromPartial({ hashrate5sHs: 2e12 })])).toBe('2.00 TH/s (5s)');
    expect(rigHashrate([bfgminer, MinerSnapshot.fromPartial({ hashrate5sHs: 2e12 })])).toBe('2.00 TH/s (mixed)');
  });

  it('rigs: the liveness state, the program, the labelled hashrate and the warnings', () => {
    const table = rigsTable([rig()], T0);
    const [header, row] = table.split('\n');
    expect(header).toMatch(/^RIG +STATE +MINERS +PROGRAM +HASHRATE +HASHRATE AVG/);
    expect(row).toMatch(/^bfg-1 +offline +1 +bfgminer 5\.5\.0-34-g866fd36f +0\.00 H\/s \(20s\) +894\.0 kH\/s/);
    expect(row).toContain('1 refused, 1 phantom');
  });

  it('rig: why it is offline, every window by label, refused values, phantom devices, Stratum Active per pool', () => {
    const text = rigDetail(rig(), T0);
    expect(text).toContain('rig bfg-1: offline, last seen 47s ago, seq 9, agent agent-1');
    expect(text).toContain('liveness: no telemetry for 47 s, expected every 5 s (since 10s ago) [no-telemetry]');
    expect(text).toContain('miner 127.0.0.1:4028: bfgminer 5.5.0-34-g866fd36f (cgminer) via cgminer');
    expect(text).toContain('hashrate 0.00 H/s (20s), 894.0 kH/s (av);');
    expect(text).not.toContain('(5s)');
    expect(text).toContain('refused: devs[1].Temperature = "-273" (out of range)');
    expect(text).toContain('refused by the agent since it started: devs[1].Temperature (out of range) x12');
    expect(text).toMatch(/ 1 +.*phantom: uninitialised counters \(cgminer 2\.x phantom CPU\) \(ignored\)/);
    expect(text).toMatch(/ 0 +stratum\+tcp:\/\/127\.0\.0\.1:3333 +w +dead +up /);
    expect(text).toMatch(/ 1 +stratum\+tcp:\/\/127\.0\.0\.1:3334 +w +alive +up .*\* \(share-progress\)/);
  });

  it('rig: what each miner can do, when its agent says; nothing when the list is unknown (empty)', () => {
    expect(rigDetail(rig({ miners: [{ ...bfgminer, capabilities: ['read', 'switch-pool', 'restart'] }] }), T0)).toContain('  can: read, switch-pool, restart');
    expect(rigDetail(rig(), T0)).not.toContain('can:');
  });
});
