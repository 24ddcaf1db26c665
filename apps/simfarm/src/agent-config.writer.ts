import { isApiRig, type FarmRigSpec } from '@rigwarden/simulators';

export interface AgentConfigOptions {
  agentId: string;
  dataDir: string;
  mqttUrl?: string;
  intervalMs: number;
  keysFile?: string;
  /** argv prefix that reaches this farm's control port; the rig id and "reboot" are appended. */
  controlArgv: string[];
  /** port: the miner API; webPort: a stock Antminer's web UI (rigs with `web`, see SimFarm.endpoints). */
  miners: Array<{ rig: FarmRigSpec; host: string; port: number; webPort?: number }>;
}

const q = (v: string): string => JSON.stringify(v);

/** The agent driver for a farm rig: a stock Antminer with its web UI is driven through it (antminer-web). */
export function driverFor(rig: FarmRigSpec): string {
  if (rig.kind === 'gpu') return rig.flavor;
  if (isApiRig(rig)) return rig.kind;
  return rig.web ? 'antminer-web' : rig.dialect;
}

/** A miner's `port` and `options` lines: the web UI's port, with the cgminer API merged (apiPort) and the digest login. */
function minerLines(rig: FarmRigSpec, port: number, webPort: number | undefined): string[] {
  if (rig.kind === 'braiins-grpc') return [`    port: ${port}`, `    options: { user: ${q(rig.user ?? 'root')}, password: ${q(rig.password ?? '')} }`];
  if (rig.kind === 'whatsminer-v3') return [`    port: ${port}`, `    options: { password: ${q(rig.password ?? 'super')} }`];
  if (rig.kind === 'asic' && rig.web) {
    if (webPort === undefined) throw new Error(`rig ${rig.id} has a web UI but no webPort was given for it`);
    const options = { apiPort: port, user: rig.web.user ?? 'root', password: rig.web.password ?? 'root' };
    return [`    port: ${webPort}`, `    options: { apiPort: ${options.apiPort}, user: ${q(options.user)}, password: ${q(options.password)} }`];
  }
  return [
    `    port: ${port}`,
    ...(rig.kind === 'asic' && rig.dialect === 'whatsminer' ? [`    options: { password: ${q(rig.adminPassword ?? 'admin')} }`] : []),
  ];
}

/**
 * An agent config that reads every rig of the farm: the dialect's driver (antminer-web on the web UI's port for a
 * stock Antminer with one, its cgminer API merged through options.apiPort), the demo profiles (eco = work mode 0,
 * normal = 1, high = 2), a rebootCommand per rig that asks the farm's control port to reboot it, and the rig's
 * labels. See apps/agent/agent.sample.yaml for every key.
 */
export function renderAgentConfig(o: AgentConfigOptions): string {
  const lines = [
    '# Written by rigwarden-simfarm for the simulated farm; see apps/agent/agent.sample.yaml for every key.',
    'agent:',
    `  id: ${q(o.agentId)}`,
    `  dataDir: ${q(o.dataDir)}`,
    ...(o.mqttUrl ? ['mqtt:', `  url: ${q(o.mqttUrl)}`] : []),
    'poll:',
    `  intervalMs: ${o.intervalMs}`,
    ...(o.keysFile ? ['security:', `  keysFile: ${q(o.keysFile)}`] : []),
    'profiles:',
    '  eco: { workMode: 0 }',
    '  normal: { workMode: 1 }',
    '  high: { workMode: 2 }',
    'rigs:',
    ...o.miners.flatMap(({ rig }) => [
      `  ${rig.id}:`,
      `    rebootCommand: [${[...o.controlArgv, 'reboot', rig.id].map(q).join(', ')}]`,
      ...(rig.labels && Object.keys(rig.labels).length > 0
        ? [`    labels: { ${Object.entries(rig.labels).map(([k, v]) => `${k}: ${q(v)}`).join(', ')} }`]
        : []),
    ]),
    'miners:',
    ...o.miners.flatMap(({ rig, host, port, webPort }) => [
      `  - rig: ${rig.id}`,
      `    driver: ${driverFor(rig)}`,
      `    host: ${host}`,
      ...minerLines(rig, port, webPort),
    ]),
    '',
  ];
  return lines.join('\n');
}
