#!/usr/bin/env node
/**
 * rigwarden-controller: ingest, storage and the gRPC API, as one NestJS process.
 * `rigwarden-controller --help` lists the options.
 */
// First: before MQTT.js and mqtt-packet load and create their `debug` loggers.
import './ingest/quiet-debug';
import 'reflect-metadata';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { createLogger, redactUrlSecrets } from '@rigwarden/shared';
import { FleetGrpcServer } from './api-grpc/fleet-grpc.server';
import { AppModule } from './app.module';
import { EmbeddedBrokerService } from './broker/embedded-broker.service';
import { DashboardHttpServer } from './dashboard/dashboard-http.server';
import { ControllerConfigError, loadControllerConfig } from './config/controller-config';
import { describeStorage } from './persistence/storage-backend';
import { TelemetryIngestService } from './ingest/telemetry-ingest.service';
import { NestLogger } from './nest-logger';

async function main(): Promise<void> {
  const config = loadControllerConfig(process.argv.slice(2), process.env);
  const logger = createLogger('controller');
  const nestLogger = new NestLogger();
  const app = await NestFactory.createApplicationContext(AppModule.forConfig(config), { logger: nestLogger });
  // Our own signal handling instead of Nest's shutdown hooks (which re-raise the signal): flush ingest, finish
  // in-flight reconciles and close the servers, then exit 0 so systemd and `npm start` see a clean stop.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const force = setTimeout(() => {
      logger.warn('shutdown took longer than 15 s: exiting anyway');
      process.exit(1);
    }, 15_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { error: err as Error });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await app.init();

  const grpc = app.get(FleetGrpcServer).address;
  // The embedded broker's address without the controller's own login; MQTT_URL otherwise.
  const mqttUrl = app.get(EmbeddedBrokerService).listenUrl ?? app.get(TelemetryIngestService).url;
  const http = app.get(DashboardHttpServer).url;
  // A broker password in MQTT_URL stays out of the ready file (the logger redacts it from the log line too).
  const endpoints = { grpc, mqtt: redactUrlSecrets(mqttUrl), http, db: describeStorage(config), pid: process.pid };
  if (config.readyFile) {
    mkdirSync(dirname(config.readyFile), { recursive: true });
    writeFileSync(config.readyFile, JSON.stringify(endpoints));
  }
  logger.info('controller ready', endpoints);
}

main().catch((err: unknown) => {
  if (err instanceof ControllerConfigError) {
    console.error(err.message.startsWith('usage:') ? err.message : `rigwarden-controller: ${err.message}`);
    process.exit(err.message.startsWith('usage:') ? 0 : 2);
  }
  console.error(`rigwarden-controller: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
