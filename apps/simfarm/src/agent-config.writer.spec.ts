import { parse } from 'yaml';
import type { FarmRigSpec } from '@rigwarden/simulators';
import { driverFor, renderAgentConfig, type AgentConfigOptions } from './agent-config.writer';

const stock: FarmRigSpec = {
  id: 'sim-004', kind: 'asic', dialect: 'antminer', model: 'Antminer S19', pools: ['pool-a', 'pool-b'],
  web: { miningRestartMs: 5000 }, labels: { kind: 'asic', dialect: 'antminer', model: 'Antminer S19', control: 'web' },
};
const plain: FarmRigSpec = { id: 'sim-008', kind: 'asic', dialect: 'antminer', pools: ['pool-c', 'pool-b'] };
const whatsminer: FarmRigSpec = { id: 'sim-005', kind: 'asic', dialect: 'whatsminer', pools: ['pool-c'] };
const gpu: FarmRigSpec = { id: 'sim-003', kind: 'gpu', flavor: 't-rex' };

function render(miners: AgentConfigOptions['miners']): Record<string, unknown> {
  return parse(renderAgentConfig({
    agentId: 'a', dataDir: '/tmp/a', intervalMs: 2000, controlArgv: ['node', 'simfarm.js', 'ctl', '--control', 'http://127.0.0.1:1'], miners,
  })) as Record<string, unknown>;
}

describe('agent config writer', () => {
  it('drives a stock Antminer with a web UI through antminer-web on the web port, the cgminer API merged through apiPort', () => {
    const config = render([
      { rig: stock, host: '127.0.0.1', port: 40004, webPort: 40104 },
      { rig: plain, host: '127.0.0.1', port: 40008 },
      { rig: whatsminer, host: '127.0.0.1', port: 40005 },
      { rig: gpu, host: '127.0.0.1', port: 40003 },
    ]);
    expect(config['miners']).toEqual([
      { rig: 'sim-004', driver: 'antminer-web', host: '127.0.0.1', port: 40104, options: { apiPort: 40004, user: 'root', password: 'root' } },
      { rig: 'sim-008', driver: 'antminer', host: '127.0.0.1', port: 40008 },
      { rig: 'sim-005', driver: 'whatsminer', host: '127.0.0.1', port: 40005, options: { password: 'admin' } },
      { rig: 'sim-003', driver: 't-rex', host: '127.0.0.1', port: 40003 },
    ]);
    expect((config['rigs'] as Record<string, unknown>)['sim-004']).toEqual({
      rebootCommand: ['node', 'simfarm.js', 'ctl', '--control', 'http://127.0.0.1:1', 'reboot', 'sim-004'],
      labels: { kind: 'asic', dialect: 'antminer', model: 'Antminer S19', control: 'web' },
    });
  });

  it('writes the web UI credentials the rig has, quoted', () => {
    const rig: FarmRigSpec = { ...stock, web: { user: 'admin', password: 'p: "x"' } };
    const config = render([{ rig, host: '127.0.0.1', port: 1, webPort: 2 }]);
    expect((config['miners'] as Array<Record<string, unknown>>)[0]!['options']).toEqual({ apiPort: 1, user: 'admin', password: 'p: "x"' });
  });

  it('names the driver per rig, and refuses a web rig without its web port', () => {
    expect([stock, plain, whatsminer, gpu].map(driverFor)).toEqual(['antminer-web', 'antminer', 'whatsminer', 't-rex']);
    expect(() => render([{ rig: stock, host: '127.0.0.1', port: 40004 }])).toThrow('rig sim-004 has a web UI but no webPort was given for it');
  });

  it('drives a Braiins OS+ rig through braiins-grpc and a Whatsminer v3 rig through whatsminer-v3, with their logins', () => {
    const bos: FarmRigSpec = { id: 'bos-1', kind: 'braiins-grpc', pools: ['pool-a'], password: 'bos-pass' };
    const wm3: FarmRigSpec = { id: 'wm3-1', kind: 'whatsminer-v3', pools: ['pool-a'] };
    expect(render([{ rig: bos, host: '127.0.0.1', port: 50051 }, { rig: wm3, host: '127.0.0.1', port: 4433 }])['miners']).toEqual([
      { rig: 'bos-1', driver: 'braiins-grpc', host: '127.0.0.1', port: 50051, options: { user: 'root', password: 'bos-pass' } },
      { rig: 'wm3-1', driver: 'whatsminer-v3', host: '127.0.0.1', port: 4433, options: { password: 'super' } },
    ]);
  });
});
