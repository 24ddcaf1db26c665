import { fairShare, shardOf, shardsToRelease } from './rig-shard.policy';

describe('rig shards', () => {
  it('maps a rig to one shard, the same everywhere, spread over all of them', () => {
    expect(shardOf('rig-0001', 64)).toBe(shardOf('rig-0001', 64));
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardOf(`sim-${i}`, 64)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(100);
    expect(Math.max(...counts)).toBeLessThan(220);
    expect(shardOf('', 64)).toBeGreaterThanOrEqual(0);
  });

  it.each<[number, string[], Record<string, number>]>([
    [64, ['a'], { a: 64 }],
    [64, ['a', 'b'], { a: 32, b: 32 }],
    [64, ['c', 'a', 'b'], { a: 22, b: 21, c: 21 }],
    [2, ['a', 'b', 'c'], { a: 1, b: 1, c: 0 }],
  ])('splits %d shards over %j as %j, adding up to all of them', (shards, live, expected) => {
    for (const [me, n] of Object.entries(expected)) expect(fairShare(shards, live, me)).toBe(n);
    expect(live.reduce((sum, me) => sum + fairShare(shards, live, me), 0)).toBe(shards);
  });

  it('counts itself live even before its first heartbeat is seen', () => {
    expect(fairShare(64, ['a'], 'b')).toBe(32);
  });

  it('gives back the highest shards beyond the target', () => {
    expect(shardsToRelease([5, 1, 9, 3], 2)).toEqual([5, 9]);
    expect(shardsToRelease([1, 2], 4)).toEqual([]);
  });
});
