import { BoardStatus, MinerSnapshot, PoolStatus } from '@rigwarden/protocol';
import { writeFleetExposition } from './fleet-exposition';
import { parsePrometheusText, samplesOf, valueOf } from './prometheus-text.parser';


describe('writeFleetExposition', () => {
  it('escapes label values so odd rig ids stay one well-formed series', () => {
    const rigId = 'row "7"\\rack\n3';
    const text = writeFleetExposition({ rigs: [{ rigId, online: true, lastSeq: 1, miners: [MinerSnapshot.fromPartial({ rigId, minerId: 'm', hashrate5sHs: 5 })] }], readSeconds: 0.01 });
    const parsed = parsePrometheusText(text);
    expect(valueOf(parsed, 'rigwarden_miner_hashrate_hs', { rig: rigId })).toBe(5);
    expect(text).toContain('rig="row \\"7\\"\\\\rack\\n3"');
  });

  it('writes a board, fan or pool reported twice once (a duplicate series fails the whole scrape)', () => {
    const m = MinerSnapshot.fromPartial({
      rigId: 'r', minerId: 'm', boards: [{ index: 0, boardTempC: 60, status: BoardStatus.BOARD_STATUS_OK }, { index: 0, boardTempC: 99, status: BoardStatus.BOARD_STATUS_DEAD }],
      fans: [{ index: 1, rpm: 1 }, { index: 1, rpm: 2 }], pools: [{ index: 0, url: 'u', user: '', status: PoolStatus.POOL_STATUS_ALIVE, active: true }, { index: 0, url: 'v', user: '', status: PoolStatus.POOL_STATUS_DEAD, active: false }],
    });
    const parsed = parsePrometheusText(writeFleetExposition({ rigs: [{ rigId: 'r', online: true, lastSeq: 1, miners: [m, m] }], readSeconds: 0 }));
    const keys = parsed.samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(valueOf(parsed, 'rigwarden_board_temperature_celsius', { board: '0', sensor: 'board' })).toBe(60);
    expect(valueOf(parsed, 'rigwarden_fan_rpm', { fan: '1' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_pool_up', { pool: '0' })).toBe(1);
  });

  it('skips absent and non-finite values and negative counters, never writing 0 for them', () => {
    const m = MinerSnapshot.fromPartial({ rigId: 'r', minerId: 'm', hashrate5sHs: Number.NaN, powerW: Number.POSITIVE_INFINITY, accepted: -1, rejected: 2 });
    const parsed = parsePrometheusText(writeFleetExposition({ rigs: [{ rigId: 'r', online: false, lastSeq: 0, miners: [m] }], readSeconds: 0 }));
    expect(samplesOf(parsed, 'rigwarden_miner_hashrate_hs')).toEqual([]);
    expect(samplesOf(parsed, 'rigwarden_miner_power_watts')).toEqual([]);
    expect(samplesOf(parsed, 'rigwarden_miner_uptime_seconds')).toEqual([]);
    expect(samplesOf(parsed, 'rigwarden_miner_shares_total').map((s) => [s.labels['result'], s.value])).toEqual([['rejected', 2]]);
    expect(samplesOf(parsed, 'rigwarden_rig_last_seen_timestamp_seconds')).toEqual([]);
    expect(valueOf(parsed, 'rigwarden_rigs', { state: 'offline' })).toBe(1);
  });

  it('exposes the controller\'s liveness per rig and by state', () => {
    const rigs = [
      { rigId: 'a', online: true, lastSeq: 1, miners: [], liveness: 'online' },
      { rigId: 'b', online: false, lastSeq: 1, miners: [], liveness: 'stale' },
      { rigId: 'c', online: false, lastSeq: 1, miners: [], liveness: 'offline' },
      { rigId: 'd', online: false, lastSeq: 1, miners: [], liveness: 'offline' },
    ];
    const parsed = parsePrometheusText(writeFleetExposition({ rigs, readSeconds: 0 }));
    expect(samplesOf(parsed, 'rigwarden_rigs_liveness').map((x) => [x.labels['state'], x.value])).toEqual([['online', 1], ['stale', 1], ['offline', 2], ['miner-unreachable', 0]]);
    expect(samplesOf(parsed, 'rigwarden_rig_liveness').map((x) => `${x.labels['rig']}=${x.labels['state']}`)).toEqual(['a=online', 'b=stale', 'c=offline', 'd=offline']);
  });
});
