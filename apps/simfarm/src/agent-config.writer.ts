import type { FarmRigSpec } from '@rigwarden/simulators';

export interface AgentConfigOptions {
  agentId: string;
  dataDir: string;
  mqttUrl?: string;
  intervalMs: number;
  keysFile?: string;
  /** argv prefix that reaches this farm's control port; the rig id and "reboot" are appended. */
  controlArgv: string[];
  miners: Array<{ rig: FarmRigSpec; host: string; port: number }>;
}

const q = (v: string): string => JSON.stringify(v);

/** The agent driver for a farm rig. */
export function driverFor(rig: FarmRigSpec): string {
  return rig.kind === 'gpu' ? rig.flavor : rig.dialect;
}

/**
 * An agent config that reads every rig of the farm: the dialect's driver, the demo profiles (eco = work mode 0,
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
    ...o.miners.flatMap(({ rig, host, port }) => [
      `  - rig: ${rig.id}`,
      `    driver: ${driverFor(rig)}`,
      `    host: ${host}`,
      `    port: ${port}`,
      ...(rig.kind === 'asic' && rig.dialect === 'whatsminer' ? [`    options: { password: ${q(rig.adminPassword ?? 'admin')} }`] : []),
    ]),
    '',
  ];
  return lines.join('\n');
}
