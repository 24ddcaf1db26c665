#!/usr/bin/env node
/**
 * rigwarden-agent: the composition root. Reads the config, builds one driver per
 * miner, runs the collectors and publishes their snapshots over MQTT.
 *
 *   rigwarden-agent --config agent.yaml     (or RIGWARDEN_AGENT_CONFIG=agent.yaml)
 */
import '@rigwarden/drivers-cgminer'; // drivers register themselves on import
import { driverRegistry } from '@rigwarden/drivers-core';
import { RigTopics } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { loadAgentConfig, type AgentConfig } from './config/agent-config';
import { ConfigError } from './config/config-error';
import { CollectorRuntime, type ScheduledMiner } from './runtime/collector-runtime';
import { SeqStore } from './telemetry/seq-store';
import { TelemetryPublisher } from './telemetry/telemetry-publisher';

const VERSION = '0.1.0';
const USAGE = `usage: rigwarden-agent --config <file.yaml>

Polls the miners listed in the config and publishes their telemetry over MQTT.
  --config <file>   agent config (default: $RIGWARDEN_AGENT_CONFIG); see agent.sample.yaml
  --check           validate the config and exit
  --version         print the version
Environment: MQTT_URL overrides mqtt.url; RIGWARDEN_MQTT_USERNAME / RIGWARDEN_MQTT_PASSWORD
override the credentials; LOG_LEVEL=debug|info|warn|error; LOG_FORMAT=json.`;

function parseArgs(argv: string[]): { config?: string; check: boolean } {
  const out: { config?: string; check: boolean } = { config: process.env['RIGWARDEN_AGENT_CONFIG'], check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config' || arg === '-c') out.config = argv[++i];
    else if (arg.startsWith('--config=')) out.config = arg.slice('--config='.length);
    else if (arg === '--check') out.check = true;
    else if (arg === '--version') { console.log(VERSION); process.exit(0); }
    else if (arg === '--help' || arg === '-h') { console.log(USAGE); process.exit(0); }
    else { console.error(`rigwarden-agent: unknown argument "${arg}"\n\n${USAGE}`); process.exit(2); }
  }
  return out;
}

function buildMiners(config: AgentConfig): ScheduledMiner[] {
  return config.miners.map((m, i) => {
    if (!driverRegistry.get(m.driver)) {
      throw new ConfigError(config.file, `miners[${i}].driver`, `unknown driver "${m.driver}"; available: ${driverRegistry.names().join(', ')}`);
    }
    return { rigId: m.rig, minerId: m.id, driver: driverRegistry.create(m.driver, { host: m.host, port: m.port, options: m.options }) };
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.config) {
    console.error(`rigwarden-agent: no config given\n\n${USAGE}`);
    process.exit(2);
  }
  const logger = createLogger('agent');
  const config = loadAgentConfig(args.config);
  const miners = buildMiners(config);
  if (args.check) {
    console.log(`${config.file}: OK (${miners.length} miners, ${new Set(miners.map((m) => m.rigId)).size} rigs)`);
    return;
  }

  const rigIds = [...new Set(miners.map((m) => m.rigId))];
  const publisher = new TelemetryPublisher({
    ...config.mqtt,
    agentId: config.agent.id,
    agentVersion: VERSION,
    rigIds,
    clock: systemClock,
    logger: logger.child('mqtt'),
    seq: new SeqStore(config.agent.dataDir),
    topics: new RigTopics(config.mqtt.topicRoot),
  });
  const runtime = new CollectorRuntime(miners, {
    ...config.poll,
    clock: systemClock,
    logger: logger.child('runtime'),
    onOutcome: (outcome) => publisher.publishOutcome(outcome),
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await runtime.stop();
    await publisher.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await publisher.connect();
  runtime.start();
  logger.info('agent running', { agent: config.agent.id, miners: miners.length, rigs: rigIds.length, broker: config.mqtt.url, intervalMs: config.poll.intervalMs });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`rigwarden-agent: bad config: ${err.message}`);
    process.exit(78); // EX_CONFIG
  }
  console.error(`rigwarden-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
