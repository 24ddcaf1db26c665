import { Module, type DynamicModule } from '@nestjs/common';
import { AlertService } from './alerts/alert.service';
import { FleetGrpcServer } from './api-grpc/fleet-grpc.server';
import { FleetReadHandlers } from './api-grpc/fleet-read.handlers';
import { EmbeddedBrokerService } from './broker/embedded-broker.service';
import { COMMAND_PROVIDERS } from './commands/command.providers';
import { CONTROLLER_CONFIG, type ControllerConfig } from './config/controller-config';
import { DASHBOARD_PROVIDERS } from './dashboard/dashboard.providers';
import { DryRunPoliciesUseCase } from './fleet/dry-run-policies.usecase';
import { FleetSpecService } from './fleet/fleet-spec.service';
import { ApplyFleetSpecUseCase, GetFleetSpecUseCase } from './fleet/fleet-spec.usecases';
import { GetRigUseCase } from './fleet/get-rig.usecase';
import { ListEventsUseCase } from './fleet/list-events.usecase';
import { ListRigsUseCase } from './fleet/list-rigs.usecase';
import { QueryTelemetryUseCase } from './fleet/query-telemetry.usecase';
import { ReleaseQuarantineUseCase } from './fleet/release-quarantine.usecase';
import { RigView } from './fleet/rig-view';
import { WatchRigsUseCase } from './fleet/watch-rigs.usecase';
import { TelemetryIngestService } from './ingest/telemetry-ingest.service';
import { LivenessService } from './liveness/liveness.service';
import { MetricsService } from './metrics/metrics.service';
import { BROKER_LINK, ShardOwnership } from './ownership/shard-ownership.service';
import { PersistenceModule } from './persistence/persistence.module';
import { RigReconciler } from './reconcile/rig-reconciler.service';
import { SecurityModule } from './security/security.module';
import { SECURITY_PROVIDERS } from './security/security.providers';

/** Wiring only. */
@Module({})
export class AppModule {
  static forConfig(config: ControllerConfig): DynamicModule {
    const configModule: DynamicModule = {
      module: class ControllerConfigModule {},
      global: true,
      providers: [{ provide: CONTROLLER_CONFIG, useValue: config }],
      exports: [CONTROLLER_CONFIG],
    };
    return {
      module: AppModule,
      imports: [configModule, PersistenceModule, SecurityModule],
      providers: [EmbeddedBrokerService, TelemetryIngestService, { provide: BROKER_LINK, useExisting: TelemetryIngestService }, ShardOwnership, LivenessService, ...COMMAND_PROVIDERS, ...SECURITY_PROVIDERS, RigReconciler, ListRigsUseCase, GetRigUseCase, ListEventsUseCase, FleetGrpcServer,
        FleetSpecService, RigView, WatchRigsUseCase, QueryTelemetryUseCase, GetFleetSpecUseCase, ApplyFleetSpecUseCase, DryRunPoliciesUseCase, FleetReadHandlers, ReleaseQuarantineUseCase,
        AlertService, MetricsService, ...DASHBOARD_PROVIDERS],
      exports: [ShardOwnership, TelemetryIngestService, LivenessService, FleetGrpcServer, RigReconciler, FleetSpecService, AlertService, MetricsService],
    };
  }
}
