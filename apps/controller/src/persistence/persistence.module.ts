import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createLogger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { migrate } from './migrations';
import { EventRepository } from './event-repository';
import { FleetSpecRepository } from './fleet-spec.repository';
import { LivenessRepository } from './liveness.repository';
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
    { provide: RigRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new RigRepository(db) },
    { provide: EventRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new EventRepository(db) },
    { provide: RollupRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new RollupRepository(db) },
    { provide: FleetSpecRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new FleetSpecRepository(db) },
    { provide: TelemetryQueryRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new TelemetryQueryRepository(db) },
    { provide: LivenessRepository, inject: [SqliteDatabase], useFactory: (db: SqliteDatabase) => new LivenessRepository(db) },
    RollupJob,
  ],
  exports: [SqliteDatabase, RigRepository, EventRepository, RollupRepository, FleetSpecRepository, TelemetryQueryRepository, LivenessRepository],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(SqliteDatabase) private readonly db: SqliteDatabase) {}

  // After every other module has stopped writing (ingest flushes in onModuleDestroy).
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
