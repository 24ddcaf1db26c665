/**
 * The demo's fleet spec (deploy/demo/fleet.demo.yaml) fits the demo farm: rendered the way npm start renders it, it
 * loads with the controller's own parser, and every simulated rig lands in the group made for its firmware. The
 * agent config the farm writes loads with the agent's parser, with each rig's driver, labels and reboot command.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@rigwarden/testing';
import { loadAgentConfig } from '../apps/agent/src/config/agent-config';
import { groupForRig, parseFleetYaml } from '../apps/controller/src/fleet/fleet-spec';
import { driverFor, renderAgentConfig } from '../apps/simfarm/src/agent-config.writer';
import { demoFarmWithApiRigs as demoFarmSpec } from '../apps/simfarm/src/demo-farm.layout';

const template = readFileSync(join(__dirname, '..', 'deploy/demo/fleet.demo.yaml'), 'utf8');
const pools: Record<string, string> = {
  'pool-a': 'stratum+tcp://127.0.0.1:40001', 'pool-b': 'stratum+tcp://127.0.0.1:40002', 'pool-c': 'stratum+tcp://127.0.0.1:40003', user: 'rigwarden.demo',
};
const fleet = parseFleetYaml(template.replace(/\{\{([a-z-]+)\}\}/g, (m, key: string) => pools[key] ?? m), 'fleet.demo.yaml');

const EXPECTED_GROUP: Record<string, string> = {
  avalon: 'avalon', cgminer: 'cgminer', luxos: 'luxos', whatsminer: 'whatsminer', antminer: 'read-only-asics', braiins: 'read-only-asics',
  't-rex': 'gpu', lolminer: 'gpu', gminer: 'gpu', 'antminer-web': 'stock-antminer-web',
  'braiins-grpc': 'braiins-os-plus', 'whatsminer-v3': 'whatsminer-v3',
};

describe('demo fleet spec', () => {
  it.each(demoFarmSpec().rigs.map((r) => [r.id, driverFor(r), r] as const))('%s (%s) gets its group', (_id, kind, rig) => {
    const group = groupForRig(fleet, { rigId: rig.id, labels: rig.labels, model: rig.kind === 'asic' ? rig.model : undefined });
    expect(group?.name).toBe(EXPECTED_GROUP[kind]);
    expect(group?.pools.every((p) => p.url.startsWith('stratum+tcp://127.0.0.1:'))).toBe(true);
  });

  it('keeps the failback longer than a miner\'s own 90 s silence timeout, so a hung pool is never failed back to', () => {
    expect(fleet.policy?.failover?.failbackStableMs).toBeGreaterThan(90_000);
  });

  it('the agent config the farm writes for it loads, with drivers, labels, profiles and reboot commands', () => {
    const dir = makeTempDir('rigwarden-demo-agent-');
    try {
      const rigs = demoFarmSpec().rigs;
      const file = join(dir.path, 'agent.yaml');
      writeFileSync(file, renderAgentConfig({
        agentId: 'demo-agent', dataDir: join(dir.path, 'agent'), intervalMs: 2000, controlArgv: ['/usr/bin/node', 'simfarm.js', 'ctl', '--control', 'http://127.0.0.1:1'],
        miners: rigs.map((rig, i) => ({ rig, host: '127.0.0.1', port: 40000 + i, ...(rig.kind === 'asic' && rig.web ? { webPort: 41000 + i } : {}) })),
      }));
      const config = loadAgentConfig(file, {});
      expect(config.miners.map((m) => m.driver)).toEqual(rigs.map(driverFor));
      expect(config.miners.filter((m) => m.driver === 'antminer-web').map((m) => [m.rig, m.port, m.options])).toEqual([
        ['sim-004', 41003, { apiPort: 40003, user: 'root', password: 'root' }],
        ['sim-012', 41011, { apiPort: 40011, user: 'root', password: 'root' }],
        ['sim-025', 41024, { apiPort: 40024, user: 'root', password: 'root' }],
      ]);
      expect(config.rigs['sim-002']).toEqual({
        labels: { kind: 'asic', dialect: 'avalon', model: 'Avalon 1566' },
        rebootCommand: ['/usr/bin/node', 'simfarm.js', 'ctl', '--control', 'http://127.0.0.1:1', 'reboot', 'sim-002'],
      });
      expect(Object.keys(config.profiles)).toEqual(['eco', 'normal', 'high']);
      expect(config.miners.find((m) => m.rig === 'sim-005')!.options).toEqual({ password: 'admin' });
      // One Braiins OS+ and one Whatsminer v3 rig, each behind its own API with its own driver.
      expect(config.miners.filter((m) => m.driver === 'braiins-grpc' || m.driver === 'whatsminer-v3').map((m) => [m.rig, m.driver, m.port, m.options])).toEqual([
        ['sim-007', 'braiins-grpc', 40006, { user: 'root', password: 'demo' }],
        ['sim-009', 'whatsminer-v3', 40008, { password: 'super' }],
      ]);
    } finally {
      dir.remove();
    }
  });
});
