#!/usr/bin/env node
/**
 * rigwarden-agent: the composition root and command line.
 *
 *   rigwarden-agent run --config agent.yaml      poll the miners and publish telemetry
 *   rigwarden-agent check-config agent.yaml      validate a config and exit
 *   rigwarden-agent --config agent.yaml          same as run
 */
import '@rigwarden/drivers-cgminer'; // drivers register themselves on import
import '@rigwarden/drivers-gpu';
import '@rigwarden/drivers-pdu';
import '@rigwarden/drivers-whatsminer';
import '@rigwarden/drivers-braiins';
import '@rigwarden/drivers-antminer-web';
import { runProbeCommand, runScanCommand } from '@rigwarden/drivers-cgminer';
import { createLogger, redactUrlSecrets, systemClock } from '@rigwarden/shared';
import { Agent, AGENT_VERSION, buildMiners, buildTargets } from './agent';
import { loadAgentConfig } from './config/agent-config';
import { ConfigError } from './config/config-error';
import { ArgvError, parseArgv, type ArgvToken } from './cli/argv';
import { runRecordCommand } from './record/record.command';

const USAGE = `usage: rigwarden-agent <command> [options]

commands:
  run --config FILE        poll the miners in FILE and publish their telemetry over MQTT (default command)
  check-config FILE        validate FILE and exit (exit code 78 when it is invalid)
  probe HOST[:PORT] [--json]   identify one miner's API (dialect, model, firmware, capabilities)
  scan CIDR|RANGE... [--json] [--write-config FILE]  find miners (cgminer API + web UI fingerprint + vendor API): vendor, model, firmware, control paths
  record --out DIR HOST:PORT [--interval MS] [--duration S]   record a miner's API byte for byte (docs/record-replay.md)
  version                  print the version

options:
  --config FILE            the agent config (default: $RIGWARDEN_AGENT_CONFIG); see agent.sample.yaml

Environment: MQTT_URL overrides mqtt.url; RIGWARDEN_MQTT_USERNAME / RIGWARDEN_MQTT_PASSWORD override the
credentials; RIGWARDEN_TOPIC_ROOT the topic root; LOG_LEVEL=debug|info|warn|error; LOG_FORMAT=json.`;

function usage(message: string): never {
  console.error(`rigwarden-agent: ${message}\n\n${USAGE}`);
  process.exit(2);
}

interface Parsed { command: string; config?: string; positional: string[] }

const OPTIONS = { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } as const;

function parseArgs(argv: string[]): Parsed {
  const parsed: Parsed = { command: 'run', config: process.env['RIGWARDEN_AGENT_CONFIG'], positional: [] };
  let tokens: ArgvToken[];
  try {
    tokens = parseArgv(argv, OPTIONS);
  } catch (err) {
    if (err instanceof ArgvError) usage(err.message === '--config needs a value' ? '--config needs a file' : err.message);
    throw err;
  }
  let commandSeen = false;
  for (const token of tokens) {
    if (token.kind === 'option') {
      if (token.name === 'config') parsed.config = token.value;
      else if (token.name === 'check') parsed.command = 'check-config';
      else if (token.name === 'help') { console.log(USAGE); process.exit(0); }
      else if (token.name === 'version') parsed.command = 'version';
    } else if (token.value === 'help') { console.log(USAGE); process.exit(0); }
    else if (!commandSeen && ['run', 'check-config', 'version'].includes(token.value)) { parsed.command = token.value; commandSeen = true; }
    else parsed.positional.push(token.value);
  }
  return parsed;
}

async function run(configFile: string): Promise<void> {
  const logger = createLogger('agent');
  const agent = new Agent(loadAgentConfig(configFile), systemClock, logger);
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await agent.stop();
    logger.info('stopped', { queued: agent.outbox.depth + agent.priorityOutbox.depth });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await agent.start();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'scan' || argv[0] === 'probe' || argv[0] === 'record') {
    const write = (s: string): void => { process.stdout.write(s.endsWith('\n') ? s : `${s}\n`); };
    const writeErr = (s: string): void => { process.stderr.write(s.endsWith('\n') ? s : `${s}\n`); };
    const code = argv[0] === 'scan' ? await runScanCommand(argv.slice(1), write, writeErr)
      : argv[0] === 'record' ? await runRecordCommand(argv.slice(1), write, writeErr) : await runProbeCommand(argv.slice(1), write, writeErr);
    process.exit(code);
  }
  const args = parseArgs(argv);
  switch (args.command) {
    case 'version':
      console.log(AGENT_VERSION);
      return;
    case 'check-config': {
      const file = args.positional[0] ?? args.config ?? usage('check-config needs a file');
      const config = loadAgentConfig(file);
      const miners = buildMiners(config);
      buildTargets(config, miners); // PDU settings are checked here
      console.log(`${config.file}: OK (${miners.length} miners on ${new Set(miners.map((m) => m.rigId)).size} rigs, broker ${redactUrlSecrets(config.mqtt.url)})`);
      return;
    }
    case 'run':
      if (args.positional.length > 0) usage(`unexpected argument "${args.positional[0]}"`);
      return run(args.config ?? usage('no config given: rigwarden-agent run --config FILE'));
    default:
      usage(`unknown command "${args.command}"`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`rigwarden-agent: bad config: ${err.message}`);
    process.exit(78); // EX_CONFIG
  }
  console.error(`rigwarden-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
