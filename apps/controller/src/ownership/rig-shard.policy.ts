/**
 * Which shard a rig belongs to and how many shards each live controller should hold. Pure: no I/O, no clock.
 * The shard count is fixed by the database (one lease row per shard, migration 11) so that every controller maps a
 * rig to the same shard and a rig's lease epochs only ever grow.
 */

/** FNV-1a (32 bit) of the rig id's UTF-16 code units, modulo the shard count. */
export function shardOf(rigId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < rigId.length; i++) {
    h ^= rigId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/**
 * This controller's fair share: the shards split as evenly as they go over the live controllers, the first ones in
 * id order taking one more when they do not divide evenly, so the shares add up to the shard count exactly.
 */
export function fairShare(shards: number, live: readonly string[], me: string): number {
  const ids = [...new Set([...live, me])].sort();
  const i = ids.indexOf(me);
  return Math.floor(shards / ids.length) + (i < shards % ids.length ? 1 : 0);
}

/** The shards to give back to reach `target`: the highest numbered ones held beyond it. */
export function shardsToRelease(held: readonly number[], target: number): number[] {
  return [...held].sort((a, b) => a - b).slice(Math.max(0, target));
}
