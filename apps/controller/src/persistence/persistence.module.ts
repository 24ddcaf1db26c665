import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createLogger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { migrate } from './migrations';
import { EventRepository } from './event-repository';
import { FleetSpecRepository } from './fleet-spec.repository';
import { LatestStatusCache } from './latest-status.cache';
import { LivenessRepository } from './liveness.repository';
import { EVENT_STORE } from './ports/event.port';
import { FLEET_SPEC_STORE } from './ports/fleet-spec.port';
import { LIVENESS_STORE } from './ports/liveness.port';
import { RIG_STATUS_STORE } from './ports/rig-status.port';
import { ROLLUP_STORE } from './ports/rollup.port';
import { TELEMETRY_QUERY_STORE } from './ports/telemetry-query.port';
import { RigRepository } from './rig-repository';
import { RollupRepository } from './rollup-repository';
import { RollupJob } from './rollup.job';
import { SqliteDatabase } from './sqlite-database';
import { TelemetryQueryRepository } from './telemetry-query.repository';

@Module({
  providers: [
    {
      provide: SqliteDatabase,
      inject: [CONTROLLER_CONFIG],
      useFactory: async (config: ControllerConfig): Promise<SqliteDatabase> => {
        const db = await SqliteDatabase.open(config.dbPath);
        const version = await migrate(db);
        createLogger('controller.persistence').info('SQLite ready', { path: config.dbPath, schema: version, journal: 'wal' });
        return db;
      },
    },
    { provide: LatestStatusCache, useFactory: () => new LatestStatusCache() },
    { provide: RigRepository, inject: [SqliteDatabase, LatestStatusCache], useFactory: (db: SqliteDatabase, cache: LatestStatusCache) => new RigRepository(db, cache) },
    { provide: EventRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new EventRepository(db) },
    { provide: RollupRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new RollupRepository(db) },
    { provide: FleetSpecRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new FleetSpecRepository(db) },
    { provide: TelemetryQueryRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new TelemetryQueryRepository(db) },
    { provide: LivenessRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new LivenessRepository(db) },
    // The ports (ports/*.port.ts): what the rest of the controller injects; the SQLite classes by name stay for the
    // modules that still inject them.
    { provide: RIG_STATUS_STORE, useExisting: RigRepository },
    { provide: EVENT_STORE, useExisting: EventRepository },
    { provide: ROLLUP_STORE, useExisting: RollupRepository },
    { provide: FLEET_SPEC_STORE, useExisting: FleetSpecRepository },
    { provide: TELEMETRY_QUERY_STORE, useExisting: TelemetryQueryRepository },
    { provide: LIVENESS_STORE, useExisting: LivenessRepository },
    RollupJob,
  ],
  exports: [
    SqliteDatabase, LatestStatusCache, RigRepository, EventRepository, RollupRepository, FleetSpecRepository, TelemetryQueryRepository, LivenessRepository,
    RIG_STATUS_STORE, EVENT_STORE, ROLLUP_STORE, FLEET_SPEC_STORE, TELEMETRY_QUERY_STORE, LIVENESS_STORE,
  ],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(SqliteDatabase) private readonly db: SqliteDatabase) {}

  // After every other module has stopped writing (ingest flushes in onModuleDestroy).
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
