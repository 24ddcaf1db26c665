import type { SqliteDatabase } from './sqlite-database';

import type { FleetSpecStore, StoredFleetSpec } from './ports/fleet-spec.port';

export type { StoredFleetSpec } from './ports/fleet-spec.port';

/** Every fleet spec put in force, oldest first (schema v6): the one in force is the newest row. */
export class FleetSpecRepository implements FleetSpecStore {
  constructor(private readonly db: SqliteDatabase) {}

  async record(spec: Omit<StoredFleetSpec, 'id'>): Promise<void> {
    await this.db.transaction((tx) => tx.run(
      'INSERT INTO fleet_specs (version, yaml, applied_at, applied_by) VALUES (?, ?, ?, ?)',
      [spec.version, spec.yaml, spec.applied_at, spec.applied_by],
    ));
  }

  latest(): Promise<StoredFleetSpec | undefined> {
    return this.db.get<StoredFleetSpec>('SELECT * FROM fleet_specs ORDER BY id DESC LIMIT 1');
  }

  history(limit = 100): Promise<StoredFleetSpec[]> {
    return this.db.all<StoredFleetSpec>('SELECT * FROM fleet_specs ORDER BY id DESC LIMIT ?', [limit]);
  }
}
