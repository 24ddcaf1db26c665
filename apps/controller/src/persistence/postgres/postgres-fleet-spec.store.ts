import type { FleetSpecStore, StoredFleetSpec } from '../ports/fleet-spec.port';
import type { PostgresDatabase } from './postgres-database';

/** Every fleet spec put in force, in PostgreSQL. */
export class PostgresFleetSpecStore implements FleetSpecStore {
  constructor(private readonly db: PostgresDatabase) {}

  async record(spec: Omit<StoredFleetSpec, 'id'>): Promise<void> {
    await this.db.run('INSERT INTO fleet_specs (version, yaml, applied_at, applied_by) VALUES ($1, $2, $3, $4)', [spec.version, spec.yaml, spec.applied_at, spec.applied_by]);
  }

  latest(): Promise<StoredFleetSpec | undefined> {
    return this.db.get<StoredFleetSpec>('SELECT id, version, yaml, applied_at, applied_by FROM fleet_specs ORDER BY id DESC LIMIT 1');
  }

  history(limit = 100): Promise<StoredFleetSpec[]> {
    return this.db.all<StoredFleetSpec>('SELECT id, version, yaml, applied_at, applied_by FROM fleet_specs ORDER BY id DESC LIMIT $1', [limit]);
  }
}
