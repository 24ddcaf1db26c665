import '@rigwarden/drivers-cgminer';
import '@rigwarden/drivers-whatsminer';
import '@rigwarden/drivers-antminer-web';
import '@rigwarden/drivers-braiins';
import { parseAgentConfig } from './agent-config';

const portOf = (miner: Record<string, unknown>): number =>
  parseAgentConfig({ miners: [{ rig: 'r1', host: '10.0.0.2', ...miner }] }, '/etc/rigwarden/agent.yaml', {}).miners[0]!.port;

describe('agent config: a miner port defaults to its driver', () => {
  it.each([
    ['cgminer', 4028], ['whatsminer-v3', 4433], ['antminer-web', 80], ['braiins-grpc', 50051],
  ])('driver %s listens on %d unless told otherwise', (driver, port) => {
    expect(portOf({ driver })).toBe(port);
    expect(parseAgentConfig({ miners: [{ rig: 'r1', host: '10.0.0.2', driver }] }, 'agent.yaml', {}).miners[0]!.id).toBe(`10.0.0.2:${port}`);
  });

  it('an explicit port wins', () => {
    expect(portOf({ driver: 'whatsminer-v3', port: 14433 })).toBe(14433);
  });

  it('no driver given: cgminer on 4028', () => {
    expect(portOf({})).toBe(4028);
  });
});
