import { Inject, Module, type FactoryProvider, type OnApplicationShutdown } from '@nestjs/common';
import { RigPresenceReader } from '../alerts/rig-presence.reader';
import { CommandRepository } from '../commands/command-repository';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { DashboardReadRepository } from '../dashboard/dashboard-read.repository';
import { ApiKeyRepository } from '../security/api-key.repository';
import { EventRepository } from './event-repository';
import { FleetSpecRepository } from './fleet-spec.repository';
import { LatestStatusCache } from './latest-status.cache';
import { LivenessRepository } from './liveness.repository';
import { API_KEY_STORE, type ApiKeyStore } from './ports/api-key.port';
import { COMMAND_STORE, type CommandStore } from './ports/command.port';
import { DASHBOARD_READ_STORE, type DashboardReadStore } from './ports/dashboard-read.port';
import { EVENT_STORE, type EventStore } from './ports/event.port';
import { FLEET_SPEC_STORE, type FleetSpecStore } from './ports/fleet-spec.port';
import { INGEST_FEED } from './ports/ingest-feed.port';
import { LEASE_STORE } from './ports/lease.port';
import { LIVENESS_STORE, type LivenessStore } from './ports/liveness.port';
import { RIG_PRESENCE_STORE, type RigPresenceStore } from './ports/rig-presence.port';
import { RIG_STATUS_STORE, type RigStatusStore } from './ports/rig-status.port';
import { ROLLUP_STORE, type RollupStore } from './ports/rollup.port';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from './ports/telemetry-query.port';
import { PostgresApiKeyStore } from './postgres/postgres-api-key.store';
import { PostgresCommandStore } from './postgres/postgres-command.store';
import { PostgresDashboardReadStore } from './postgres/postgres-dashboard-read.store';
import type { PostgresDatabase } from './postgres/postgres-database';
import { PostgresEventStore } from './postgres/postgres-event.store';
import { PostgresFleetSpecStore } from './postgres/postgres-fleet-spec.store';
import { PostgresIngestFeed } from './postgres/postgres-ingest-feed';
import { PostgresLeaseStore } from './postgres/postgres-lease.store';
import { PostgresLivenessStore } from './postgres/postgres-liveness.store';
import { PostgresRigPresenceStore } from './postgres/postgres-rig-presence.store';
import { PostgresRigStatusStore } from './postgres/postgres-rig-status.store';
import { PostgresRollupStore } from './postgres/postgres-rollup.store';
import { PostgresTelemetryQueryStore } from './postgres/postgres-telemetry-query.store';
import { RigRepository } from './rig-repository';
import { RollupRepository } from './rollup-repository';
import { RollupJob } from './rollup.job';
import { SqliteDatabase } from './sqlite-database';
import { STORAGE_BACKEND, byBackend, closeStorageBackend, openStorageBackend, type StorageBackend } from './storage-backend';
import { TelemetryQueryRepository } from './telemetry-query.repository';

/** A port bound to its SQLite or PostgreSQL implementation, whichever backend `--database` chose. */
function port<T>(token: symbol, sqlite: (db: SqliteDatabase) => T, postgres: (db: PostgresDatabase) => T): FactoryProvider<T> {
  return { provide: token, inject: [STORAGE_BACKEND], useFactory: (b: StorageBackend): T => byBackend(b, sqlite, postgres) };
}

/**
 * The controller's storage: every port (ports/*.port.ts) bound to SQLite (the default) or PostgreSQL (`--database
 * postgres://...` / RIGWARDEN_DATABASE_URL), migrated at start. The audit log's port is bound in SecurityModule,
 * which holds its key.
 */
@Module({
  providers: [
    { provide: STORAGE_BACKEND, inject: [CONTROLLER_CONFIG], useFactory: (config: ControllerConfig) => openStorageBackend(config) },
    // The SQLite connection for specs that query the file directly; undefined on PostgreSQL (no consumer injects it).
    { provide: SqliteDatabase, inject: [STORAGE_BACKEND], useFactory: (b: StorageBackend) => (b.kind === 'sqlite' ? b.sqlite : undefined) },
    { provide: LatestStatusCache, useFactory: () => new LatestStatusCache() },
    {
      provide: RIG_STATUS_STORE, inject: [STORAGE_BACKEND, LatestStatusCache],
      useFactory: (b: StorageBackend, cache: LatestStatusCache) => byBackend<RigStatusStore>(b, (db) => new RigRepository(db, cache), (db) => new PostgresRigStatusStore(db, cache)),
    },
    port<EventStore>(EVENT_STORE, (db) => new EventRepository(db), (db) => new PostgresEventStore(db)),
    port<RollupStore>(ROLLUP_STORE, (db) => new RollupRepository(db), (db) => new PostgresRollupStore(db)),
    port<FleetSpecStore>(FLEET_SPEC_STORE, (db) => new FleetSpecRepository(db), (db) => new PostgresFleetSpecStore(db)),
    port<TelemetryQueryStore>(TELEMETRY_QUERY_STORE, (db) => new TelemetryQueryRepository(db), (db) => new PostgresTelemetryQueryStore(db)),
    port<LivenessStore>(LIVENESS_STORE, (db) => new LivenessRepository(db), (db) => new PostgresLivenessStore(db)),
    port<CommandStore>(COMMAND_STORE, (db) => new CommandRepository(db), (db) => new PostgresCommandStore(db)),
    port<DashboardReadStore>(DASHBOARD_READ_STORE, (db) => new DashboardReadRepository(db), (db) => new PostgresDashboardReadStore(db)),
    port<RigPresenceStore>(RIG_PRESENCE_STORE, (db) => new RigPresenceReader(db), (db) => new PostgresRigPresenceStore(db)),
    port<ApiKeyStore>(API_KEY_STORE, (db) => new ApiKeyRepository(db), (db) => new PostgresApiKeyStore(db)),
    // Shard leases of controllers sharing the database (ownership/): PostgreSQL only; one SQLite controller owns every rig.
    { provide: LEASE_STORE, inject: [STORAGE_BACKEND], useFactory: (b: StorageBackend) => (b.kind === 'postgres' ? new PostgresLeaseStore(b.postgres) : undefined) },
    // What each controller of a shared group stores, told to the others (--mqtt-shared-group with --replica-id on
    // PostgreSQL): each message reaches one of them, every one must hear of it.
    {
      provide: INGEST_FEED, inject: [STORAGE_BACKEND, CONTROLLER_CONFIG],
      useFactory: (b: StorageBackend, config: ControllerConfig) =>
        (b.kind === 'postgres' && config.replicaId !== undefined && config.mqttSharedGroup !== undefined ? new PostgresIngestFeed(b.postgres, config.replicaId) : undefined),
    },
    // The SQLite class names resolve to the port (whichever backend): specs get their stores by these names.
    { provide: RigRepository, useExisting: RIG_STATUS_STORE },
    { provide: EventRepository, useExisting: EVENT_STORE },
    { provide: RollupRepository, useExisting: ROLLUP_STORE },
    { provide: FleetSpecRepository, useExisting: FLEET_SPEC_STORE },
    { provide: TelemetryQueryRepository, useExisting: TELEMETRY_QUERY_STORE },
    { provide: LivenessRepository, useExisting: LIVENESS_STORE },
    { provide: CommandRepository, useExisting: COMMAND_STORE },
    RollupJob,
  ],
  exports: [
    STORAGE_BACKEND, SqliteDatabase, LatestStatusCache,
    RIG_STATUS_STORE, EVENT_STORE, ROLLUP_STORE, FLEET_SPEC_STORE, TELEMETRY_QUERY_STORE, LIVENESS_STORE, COMMAND_STORE, DASHBOARD_READ_STORE,
    RIG_PRESENCE_STORE, API_KEY_STORE, LEASE_STORE, INGEST_FEED,
    RigRepository, EventRepository, RollupRepository, FleetSpecRepository, TelemetryQueryRepository, LivenessRepository, CommandRepository,
  ],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(STORAGE_BACKEND) private readonly backend: StorageBackend) {}

  // After every other module has stopped writing (ingest flushes in onModuleDestroy).
  async onApplicationShutdown(): Promise<void> {
    await closeStorageBackend(this.backend);
  }
}
