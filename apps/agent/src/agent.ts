import { join } from 'node:path';
import { driverRegistry } from '@rigwarden/drivers-core';
import { AgentStatus, RigTopics } from '@rigwarden/protocol';
import type { Clock, Logger } from '@rigwarden/shared';
import type { AgentConfig } from './config/agent-config';
import { ConfigError } from './config/config-error';
import { CollectorRuntime, type ScheduledMiner } from './runtime/collector-runtime';
import { DiskQueue } from './telemetry/disk-queue';
import { SeqStore } from './telemetry/seq-store';
import { TelemetryPublisher } from './telemetry/telemetry-publisher';

export const AGENT_VERSION = '0.1.0';

/** Builds one driver per configured miner, refusing unknown drivers with the key path. */
export function buildMiners(config: AgentConfig): ScheduledMiner[] {
  return config.miners.map((m, i) => {
    if (!driverRegistry.get(m.driver)) {
      throw new ConfigError(config.file, `miners[${i}].driver`, `unknown driver "${m.driver}"; available: ${driverRegistry.names().join(', ')}`);
    }
    return { rigId: m.rig, minerId: m.id, driver: driverRegistry.create(m.driver, { host: m.host, port: m.port, options: m.options }) };
  });
}

/**
 * The running agent: collectors, the MQTT side with its outbox, and the periodic
 * status message. The composition root (main.ts) builds one and starts it.
 */
export class Agent {
  readonly runtime: CollectorRuntime;
  readonly publisher: TelemetryPublisher;
  readonly outbox: DiskQueue;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;
  private readonly rigIds: string[];

  constructor(private readonly config: AgentConfig, private readonly clock: Clock, private readonly logger: Logger, miners = buildMiners(config)) {
    this.startedAt = clock.now();
    this.rigIds = [...new Set(miners.map((m) => m.rigId))];
    this.outbox = new DiskQueue(join(config.agent.dataDir, 'outbox'), { ...config.outbox, clock });
    this.publisher = new TelemetryPublisher({
      ...config.mqtt,
      agentId: config.agent.id,
      agentVersion: AGENT_VERSION,
      rigIds: this.rigIds,
      clock,
      logger: logger.child('mqtt'),
      seq: new SeqStore(config.agent.dataDir),
      topics: new RigTopics(config.mqtt.topicRoot),
      outbox: this.outbox,
    });
    this.runtime = new CollectorRuntime(miners, {
      ...config.poll,
      clock,
      logger: logger.child('runtime'),
      onOutcome: (outcome) => this.publisher.publishOutcome(outcome),
    });
  }

  async start(): Promise<void> {
    await this.publisher.connect();
    this.runtime.start();
    this.statusTimer = setInterval(() => this.publisher.publishStatus(this.status(true)), this.config.status.intervalMs);
    this.statusTimer.unref();
    this.publisher.publishStatus(this.status(true));
    this.logger.info('agent running', {
      agent: this.config.agent.id, miners: this.config.miners.length, rigs: this.rigIds.length,
      broker: this.config.mqtt.url, intervalMs: this.config.poll.intervalMs, queued: this.outbox.depth,
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    await this.runtime.stop();
    await this.publisher.close(this.status(false));
  }

  status(online: boolean): AgentStatus {
    const counters = this.runtime.counterSnapshot();
    const outbox = this.outbox.stats();
    return AgentStatus.fromPartial({
      agentId: this.config.agent.id,
      agentVersion: AGENT_VERSION,
      online,
      startedAt: new Date(this.startedAt),
      at: new Date(this.clock.now()),
      rigIds: this.rigIds,
      drivers: Object.entries(counters).map(([driver, c]) => ({
        driver, successes: c.successes, errors: c.errors, timeouts: c.timeouts, skipped: c.skipped,
        lastDurationMs: c.lastDurationMs, totalDurationMs: c.totalDurationMs,
      })),
      outbox: {
        depth: outbox.depth, bytes: outbox.bytes, droppedFull: outbox.droppedFull,
        droppedExpired: outbox.droppedExpired, droppedCorrupt: outbox.droppedCorrupt,
      },
    });
  }
}
