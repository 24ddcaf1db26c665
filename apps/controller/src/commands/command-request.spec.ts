import { FleetError } from '../fleet/fleet-error';
import type { RigRecord } from '../persistence/rig-repository';
import { checkPools, checkProfile, resolveMiner, timeoutMs } from './command-request';

const pool = (url: string, user = 'w') => ({ url, user, password: '' });

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof FleetError ? `${err.kind}:${err.field}` : String(err);
  }
}

describe('command request validation', () => {
  it.each([
    ['stratum+tcp://pool.example.com:3333', undefined],
    ['stratum+ssl://pool.example.com:443', undefined],
    ['stratum2+tcp://pool.example.com:3336', undefined],
    ['tcp://10.0.0.5:3333', undefined],
    ['stratum+tcp://pool.example.com', 'invalid_argument:pools[0].url'],
    ['http://pool.example.com:3333', 'invalid_argument:pools[0].url'],
    ['stratum+tcp://pool.example.com:70000', 'invalid_argument:pools[0].url'],
    ['stratum+tcp://user@pool.example.com:3333', 'invalid_argument:pools[0].url'],
    ['', 'invalid_argument:pools[0].url'],
  ])('pool URL %j -> %s', (url, expected) => {
    expect(fieldOf(() => checkPools([pool(url)], 'pools'))).toBe(expected);
  });

  it('names the pool at fault, a missing worker, and the list bounds', () => {
    expect(fieldOf(() => checkPools([pool('stratum+tcp://a:1'), pool('stratum+tcp://b:1', '')], 'set_pools.pools'))).toBe('invalid_argument:set_pools.pools[1].user');
    expect(fieldOf(() => checkPools([], 'pools'))).toBe('invalid_argument:pools');
    expect(fieldOf(() => checkPools(Array.from({ length: 9 }, () => pool('stratum+tcp://a:1')), 'pools'))).toBe('invalid_argument:pools');
  });

  it.each([
    [0, 60_000, undefined],
    [1, 1000, undefined],
    [3600, 3_600_000, undefined],
    [3601, undefined, 'invalid_argument:timeout_seconds'],
  ])('timeout_seconds %i -> %s ms', (seconds, ms, error) => {
    expect(fieldOf(() => timeoutMs(seconds, 'timeout_seconds'))).toBe(error);
    if (ms !== undefined) expect(timeoutMs(seconds, 'timeout_seconds')).toBe(ms);
  });

  it.each([['eco', undefined], ['S19-turbo_2.1', undefined], ['', 'invalid_argument:profile'], ['eco mode', 'invalid_argument:profile']])('profile %j -> %s', (profile, expected) => {
    expect(fieldOf(() => checkProfile(profile, 'profile'))).toBe(expected);
  });

  const rig = (miners: string[]): RigRecord => ({ rigId: 'r1', online: true, lastSeq: 1, labels: {}, miners: miners.map((minerId) => ({ minerId }) as RigRecord['miners'][number]) });
  const restart = { $case: 'restartMiner' as const, value: {} };
  const reboot = { $case: 'rebootHost' as const, value: {} };

  it('picks the named miner, or the first, and lets rig-level commands go to a rig without known miners', () => {
    expect(resolveMiner(rig(['a', 'b']), 'b', restart, 'miner_id')).toBe('b');
    expect(resolveMiner(rig(['a', 'b']), '', restart, 'miner_id')).toBe('a');
    expect(resolveMiner(rig([]), '', reboot, 'miner_id')).toBe('');
    expect(resolveMiner(rig([]), 'x', restart, 'miner_id')).toBe('x');
    expect(fieldOf(() => resolveMiner(rig(['a']), 'z', restart, 'target.miner_id'))).toBe('not_found:target.miner_id');
    expect(fieldOf(() => resolveMiner(rig([]), '', restart, 'miner_id'))).toBe('invalid_argument:miner_id');
  });
});
