import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { EmbeddedBrokerService } from '../broker/embedded-broker.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { PersistenceModule } from '../persistence/persistence.module';
import { COMMAND_CORE_PROVIDERS } from './command.providers';

/**
 * For tests: the commands feature with the real parts it stands on (SQLite file, the ingest's MQTT connection) and
 * nothing else of the controller, so its tests do not depend on features they do not exercise.
 */
export function commandsTestModule(config: ControllerConfig, extra: Provider[] = []): Promise<TestingModule> {
  @Module({})
  class ConfigModule {}
  const configModule: DynamicModule = { module: ConfigModule, global: true, providers: [{ provide: CONTROLLER_CONFIG, useValue: config }], exports: [CONTROLLER_CONFIG] };
  return Test.createTestingModule({
    imports: [configModule, PersistenceModule],
    providers: [EmbeddedBrokerService, TelemetryIngestService, ...COMMAND_CORE_PROVIDERS, ...extra],
  }).compile();
}
