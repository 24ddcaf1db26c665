import { MinerSnapshot, BoardStatus, PoolStatus } from './generated/rigwarden/v1/telemetry';
import { decodeRigState, decodeSnapshot, encodeJson } from './codec';
import { ProtocolError } from './protocol-error';

const base = (): MinerSnapshot => MinerSnapshot.fromPartial({
  rigId: 'rig-1', minerId: '10.0.0.5:4028', host: '10.0.0.5', port: 4028, vendor: 'antminer', model: 'S19 Pro',
  hashrate5sHs: 110e12, accepted: 0, collectedAt: new Date('2026-11-22T10:00:00.000Z'), seq: 7,
  boards: [{ index: 0, hashrateHs: 36e12, boardTempC: 61.5, status: BoardStatus.BOARD_STATUS_OK }],
  fans: [{ index: 1, rpm: 5400 }],
  pools: [{ index: 0, url: 'stratum+tcp://a:3333', user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: true, lastShareTime: new Date('2026-11-22T09:59:58.000Z') }],
});

function errorOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('MinerSnapshot JSON codec', () => {
  it('uses the proto3 JSON mapping: lowerCamelCase keys, RFC 3339 times, enum names', () => {
    const json = JSON.parse(encodeJson(MinerSnapshot, base()).toString());
    expect(json).toMatchObject({
      rigId: 'rig-1', minerId: '10.0.0.5:4028', hashrate5sHs: 110e12, collectedAt: '2026-11-22T10:00:00.000Z', seq: 7,
      boards: [{ hashrateHs: 36e12, boardTempC: 61.5, status: 'BOARD_STATUS_OK' }],
      pools: [{ url: 'stratum+tcp://a:3333', status: 'POOL_STATUS_ALIVE', active: true, lastShareTime: '2026-11-22T09:59:58.000Z' }],
    });
  });

  it('keeps a reported 0 and leaves unreported values absent', () => {
    const json = JSON.parse(encodeJson(MinerSnapshot, base()).toString());
    expect(json.accepted).toBe(0);
    expect('powerW' in json).toBe(false);
    expect('rejected' in json).toBe(false);
    const decoded = decodeSnapshot(JSON.stringify(json));
    expect(decoded.accepted).toBe(0);
    expect(decoded.powerW).toBeUndefined();
    expect(decoded.boards[0]!.chipTempC).toBeUndefined();
  });

  it('round-trips through bytes unchanged', () => {
    expect(decodeSnapshot(encodeJson(MinerSnapshot, base()))).toEqual(base());
  });

  it.each([
    ['not JSON', '{"rigId":', undefined, /not JSON/],
    ['an array', '[1,2]', undefined, /must be a JSON object/],
    ['no rigId', JSON.stringify({ minerId: 'm', seq: 1, collectedAt: '2026-11-22T10:00:00Z' }), 'rigId', /rigId is missing/],
    ['a wildcard rigId', JSON.stringify({ rigId: 'a/+', minerId: 'm', seq: 1, collectedAt: '2026-11-22T10:00:00Z' }), 'rigId', /rigId/],
    ['no collectedAt', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 1 }), 'collectedAt', /collectedAt must be/],
    ['a bad collectedAt', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 1, collectedAt: 'yesterday' }), 'collectedAt', /RFC 3339/],
    ['seq 0', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 0, collectedAt: '2026-11-22T10:00:00Z' }), 'seq', /seq must be a positive/],
    ['seq 1.5', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 1.5, collectedAt: '2026-11-22T10:00:00Z' }), 'seq', /seq must be a positive integer, got 1.5/],
    ['seq 1e300', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 1e300, collectedAt: '2026-11-22T10:00:00Z' }), 'seq', /seq must be a positive integer/],
    ['seq "1e300" (a string)', JSON.stringify({ rigId: 'r', minerId: 'm', seq: '1e300', collectedAt: '2026-11-22T10:00:00Z' }), 'seq', /seq must be a positive integer/],
    ['no minerId', JSON.stringify({ rigId: 'r', seq: 3, collectedAt: '2026-11-22T10:00:00Z' }), 'minerId', /minerId is missing/],
    ['a negative hashrate', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', hashrate5sHs: -1 }), 'hashrate5sHs', /non-negative/],
    ['a negative fan speed', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', fans: [{ rpm: -5 }] }), 'fans[0].rpm', /non-negative/],
    ['a text temperature', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', boards: [{ boardTempC: 'hot' }] }), 'boards[0].boardTempC', /must be a finite number/],
    ['a negative count deep in the second pool', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', pools: [{ accepted: 1 }, { index: 1, accepted: '-2' }] }), 'pools[1].accepted', /non-negative number, got "-2"/],
    ['an infinite temperature after good ones', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', boards: [{ boardTempC: 60 }, { boardTempC: 61, chipTempC: 'Infinity' }] }), 'boards[1].chipTempC', /must be a finite number, got "Infinity"/],
    ['boards not a list', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', boards: {} }), 'boards', /must be an array/],
    ['an unknown pool status', JSON.stringify({ rigId: 'r', minerId: 'm', seq: 3, collectedAt: '2026-11-22T10:00:00Z', pools: [{ status: 'SORT_OF' }] }), undefined, /schema/],
  ])('rejects a payload with %s, naming the field', (_label, payload, field, message) => {
    const err = errorOf(() => decodeSnapshot(payload as string));
    expect(err.message).toMatch(message as RegExp);
    if (field) expect(err.field).toBe(field);
  });

  it('names the rig in the error when it is known', () => {
    const err = errorOf(() => decodeSnapshot(JSON.stringify({ rigId: 'rig-9', minerId: 'm', seq: 1, collectedAt: 'soon' })));
    expect(err.message).toContain('rig-9');
  });
});

describe('RigState JSON codec', () => {
  it('decodes a birth message', () => {
    const state = decodeRigState(JSON.stringify({ rigId: 'r', agentId: 'a', online: true, at: '2026-11-22T10:00:00Z' }));
    expect(state).toMatchObject({ rigId: 'r', online: true });
    expect(state.at!.toISOString()).toBe('2026-11-22T10:00:00.000Z');
  });

  it('refuses a state without a time', () => {
    expect(() => decodeRigState(JSON.stringify({ rigId: 'r', online: false }))).toThrow(ProtocolError);
  });
});
