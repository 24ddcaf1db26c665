import type { RigPresence, RigPresenceStore } from '../ports/rig-presence.port';
import type { PostgresDatabase } from './postgres-database';

interface Row { rig_id: string; online: number; last_seen: number | null }

/** Rig connectivity from PostgreSQL's `rigs_seen` view (one query for any number of ids: `= ANY($1)`). */
export class PostgresRigPresenceStore implements RigPresenceStore {
  constructor(private readonly db: PostgresDatabase) {}

  async all(): Promise<RigPresence[]> {
    return toPresence(await this.db.all<Row>('SELECT rig_id, online, last_seen FROM rigs_seen'));
  }

  async some(rigIds: readonly string[]): Promise<RigPresence[]> {
    if (rigIds.length === 0) return [];
    return toPresence(await this.db.all<Row>('SELECT rig_id, online, last_seen FROM rigs_seen WHERE rig_id = ANY($1::text[])', [[...rigIds]]));
  }
}

function toPresence(rows: Row[]): RigPresence[] {
  return rows.map((r) => (r.last_seen === null ? { rigId: r.rig_id, online: r.online === 1 } : { rigId: r.rig_id, online: r.online === 1, lastSeen: r.last_seen }));
}
