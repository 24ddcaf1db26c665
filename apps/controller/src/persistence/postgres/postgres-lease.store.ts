import type { HeldLease, LeaseRound, LeaseRoundRequest, LeaseStore } from '../ports/lease.port';
import { fairShare } from '../../ownership/rig-shard.policy';
import type { PgQueries, PostgresDatabase } from './postgres-database';

/** The database's clock in epoch ms: every replica judges expiry on this one clock, not on its own. */
const NOW_MS = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint';

/**
 * Shard leases in PostgreSQL. Each round is one transaction: heartbeat, renew, release, then take free or expired
 * shards with FOR UPDATE SKIP LOCKED (two replicas never take one shard in the same instant; the UPDATE checks the
 * expiry again), each under epoch + 1.
 */
export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly db: PostgresDatabase) {}

  round(request: LeaseRoundRequest): Promise<LeaseRound> {
    const { replicaId: me, leaseMs, release, reclaim } = request;
    return this.db.transaction(async (tx) => {
      await tx.run(`INSERT INTO replicas (replica_id, seen_at) VALUES ($1, ${NOW_MS})
        ON CONFLICT (replica_id) DO UPDATE SET seen_at = excluded.seen_at`, [me]);
      const live = (await tx.all<{ replica_id: string }>(`SELECT replica_id FROM replicas WHERE seen_at > ${NOW_MS} - $1 ORDER BY replica_id`, [leaseMs]))
        .map((r) => r.replica_id);
      const shards = (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM shard_leases'))!.n;
      if (release.length > 0) {
        await tx.run('UPDATE shard_leases SET owner = NULL, expires_at = 0 WHERE owner = $1 AND shard = ANY($2::int[])', [me, [...release]]);
      }
      // A restarted replica takes its own leases again under a new epoch: commands of its previous run are older.
      const renewed = reclaim
        ? await tx.all<HeldLease>(`UPDATE shard_leases SET epoch = epoch + 1, expires_at = ${NOW_MS} + $2 WHERE owner = $1 AND expires_at > ${NOW_MS} RETURNING shard, epoch`, [me, leaseMs])
        : await tx.all<HeldLease>(`UPDATE shard_leases SET expires_at = ${NOW_MS} + $2 WHERE owner = $1 AND expires_at > ${NOW_MS} RETURNING shard, epoch`, [me, leaseMs]);
      const target = fairShare(shards, live, me);
      const held = [...renewed];
      if (held.length < target) held.push(...await this.take(tx, me, leaseMs, target - held.length));
      return { held: held.sort((a, b) => a.shard - b.shard), live, target, shards };
    });
  }

  private take(tx: PgQueries, me: string, leaseMs: number, count: number): Promise<HeldLease[]> {
    return tx.all<HeldLease>(
      `UPDATE shard_leases SET owner = $1, epoch = epoch + 1, expires_at = ${NOW_MS} + $2
        WHERE shard IN (SELECT shard FROM shard_leases WHERE owner IS NULL OR expires_at <= ${NOW_MS} ORDER BY shard LIMIT $3 FOR UPDATE SKIP LOCKED)
          AND (owner IS NULL OR expires_at <= ${NOW_MS})
        RETURNING shard, epoch`,
      [me, leaseMs, count],
    );
  }

  async epochOf(shard: number): Promise<number> {
    return (await this.db.get<{ epoch: number }>('SELECT epoch FROM shard_leases WHERE shard = $1', [shard]))?.epoch ?? 0;
  }

  async leave(replicaId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE shard_leases SET owner = NULL, expires_at = 0 WHERE owner = $1', [replicaId]);
      await tx.run('DELETE FROM replicas WHERE replica_id = $1', [replicaId]);
    });
  }
}
