import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_TOPIC_ROOT, RigTopics, isValidRigId } from '@rigwarden/protocol';
import { isRigIdPattern } from '@rigwarden/security';
import { mosquittoConfig, rigwardenBrokerConfig } from './broker-config';
import { UsageError, type CommandSpec, type ParsedArgs } from './fleet-command';

const DESCRIPTION = `Write the broker's users and ACLs: each agent may publish only its own rigs' topics and read only their commands.

FILE (YAML) maps each agent id to the rigs it speaks for:
  agents:
    farm-a-lan-1: [s19-row1-01, s19-row1-02]
    gpu-rig-03: [gpu-rig-03]
    farm-b-scanner: ["scan-*"]      # rig id prefix (rigwarden format only): every rig id starting with "scan-"

--format mosquitto writes passwd, acl and rigwarden.conf for Mosquitto 2 (controller and agents).
--format rigwarden writes broker-users.yaml for the controller's embedded broker (rigwarden-controller
  --broker-users DIR/broker-users.yaml; agents only: the controller's own login is internal to it).
Either way the clear passwords are printed once on stdout, "username<TAB>password" per line.`;

/** rigctl broker-config: the broker's password file and ACLs from the agents' rig lists (no controller needed). */
export const brokerConfigCommand: CommandSpec = {
  name: 'broker-config',
  summary: "write the broker's users and per-agent ACLs; prints the generated passwords once",
  description: DESCRIPTION,
  flags: {
    format: { kind: 'value', placeholder: 'F', choices: ['mosquitto', 'rigwarden'], description: 'mosquitto (passwd, acl, conf snippet) or rigwarden (the embedded broker\'s users file) (required)' },
    agents: { kind: 'value', placeholder: 'FILE', completes: 'file', description: 'the agents and their rigs, YAML (required)' },
    'out-dir': { kind: 'value', placeholder: 'DIR', completes: 'dir', description: 'where to write the files (required)' },
    'topic-root': { kind: 'value', placeholder: 'R', description: `mosquitto: the topic root (default ${DEFAULT_TOPIC_ROOT})` },
    'controller-user': { kind: 'value', placeholder: 'U', description: "mosquitto: the controller's broker user (default rigwarden-controller)" },
  },
  examples: ['rigctl broker-config --format mosquitto --agents agents.yaml --out-dir /etc/mosquitto/rigwarden', 'rigctl broker-config --format rigwarden --agents agents.yaml --out-dir data'],
};

/** `rigctl broker-config` with its parsed options: returns the exit code. Usage mistakes throw a UsageError. */
export function runBrokerConfig(args: ParsedArgs): number {
  const flags = new Map([...args.values].map(([name, values]) => [name, values[0]!]));
  const format = flags.get('format');
  if (format !== 'mosquitto' && format !== 'rigwarden') throw new UsageError('broker-config: --format must be mosquitto or rigwarden');
  const agentsFile = flags.get('agents');
  const outDir = flags.get('out-dir');
  if (!agentsFile || !outDir) throw new UsageError('broker-config: --agents and --out-dir are required');
  const topicRoot = flags.get('topic-root') ?? DEFAULT_TOPIC_ROOT;
  try {
    new RigTopics(topicRoot);
  } catch (err) {
    console.error(`rigctl broker-config: --topic-root: ${(err as Error).message}`);
    return 2;
  }
  let raw: unknown;
  try {
    raw = parse(readFileSync(agentsFile, 'utf8'));
  } catch (err) {
    console.error(`rigctl broker-config: ${agentsFile}: ${(err as Error).message.split('\n')[0]}`);
    return 2;
  }
  const agents = (raw as { agents?: unknown })?.agents;
  if (agents === null || typeof agents !== 'object' || Array.isArray(agents)) {
    console.error(`rigctl broker-config: ${agentsFile}: agents: must be a mapping of agent id to a list of rig ids`);
    return 2;
  }
  const principals = [];
  for (const [agentId, rigIds] of Object.entries(agents as Record<string, unknown>)) {
    if (!isValidRigId(agentId)) { console.error(`rigctl broker-config: ${agentsFile}: agents.${agentId}: not a valid agent id`); return 2; }
    const valid = format === 'rigwarden' ? isRigIdPattern : isValidRigId;
    if (!Array.isArray(rigIds) || !rigIds.every((r) => typeof r === 'string' && valid(r))) {
      console.error(`rigctl broker-config: ${agentsFile}: agents.${agentId}: must be a list of valid rig ids${format === 'rigwarden' ? ' or rig id prefixes like "scan-*"' : ' (rig id prefixes like "scan-*" need --format rigwarden: Mosquitto ACLs cannot express them)'}`);
      return 2;
    }
    principals.push({ agentId, rigIds: rigIds as string[] });
  }
  if (format === 'rigwarden') {
    if (flags.has('controller-user') || flags.has('topic-root')) {
      console.error('rigctl broker-config: --format rigwarden takes no --controller-user or --topic-root (the controller\'s login is internal to it; the topic root is the controller\'s)');
      return 2;
    }
    const config = rigwardenBrokerConfig({ agents: principals });
    const dir = resolve(outDir);
    mkdirSync(dir, { recursive: true });
    const usersPath = join(dir, 'broker-users.yaml');
    // Whole or not at all: a running controller re-reads the file when it changes.
    const partial = `${usersPath}.${process.pid}.tmp`;
    writeFileSync(partial, config.usersFile, { mode: 0o600 });
    chmodSync(partial, 0o600);
    renameSync(partial, usersPath);
    console.error(`wrote ${usersPath}: give it to the controller (--broker-users ${usersPath}; it is re-read when it changes).`);
    console.error('The passwords below are shown once: give each agent its own (mqtt.username = its agent id, RIGWARDEN_MQTT_PASSWORD).');
    for (const { username, password } of config.credentials) console.log(`${username}\t${password}`);
    return 0;
  }
  const controller = flags.get('controller-user') ?? 'rigwarden-controller';
  const config = mosquittoConfig({ topicRoot, controller, agents: principals });
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const passwordPath = join(dir, 'passwd');
  const aclPath = join(dir, 'acl');
  writeFileSync(passwordPath, config.passwordFile, { mode: 0o600 });
  chmodSync(passwordPath, 0o600);
  writeFileSync(aclPath, config.aclFile);
  writeFileSync(join(dir, 'rigwarden.conf'), config.confSnippet(passwordPath, aclPath));
  console.error(`wrote ${passwordPath}, ${aclPath} and ${join(dir, 'rigwarden.conf')} (include it from mosquitto.conf;`);
  console.error('the broker\'s user must be able to read the password file: chown mosquitto the files if it runs as mosquitto).');
  console.error('The passwords below are shown once: give each agent its own (RIGWARDEN_MQTT_USERNAME / RIGWARDEN_MQTT_PASSWORD).');
  for (const { username, password } of config.credentials) console.log(`${username}\t${password}`);
  return 0;
}
