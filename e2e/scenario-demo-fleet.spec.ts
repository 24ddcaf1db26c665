/**
 * The demo's fleet spec (deploy/demo/fleet.demo.yaml) fits the demo farm: rendered the way npm start renders it, it
 * loads with the controller's own parser, and every simulated rig lands in the group made for its firmware.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoFarmSpec } from '@rigwarden/simulators';
import { groupForRig, parseFleetYaml } from '../apps/controller/src/fleet/fleet-spec';

const template = readFileSync(join(__dirname, '..', 'deploy/demo/fleet.demo.yaml'), 'utf8');
const pools: Record<string, string> = {
  'pool-a': 'stratum+tcp://127.0.0.1:40001', 'pool-b': 'stratum+tcp://127.0.0.1:40002', 'pool-c': 'stratum+tcp://127.0.0.1:40003', user: 'rigwarden.demo',
};
const fleet = parseFleetYaml(template.replace(/\{\{([a-z-]+)\}\}/g, (m, key: string) => pools[key] ?? m), 'fleet.demo.yaml');

const EXPECTED_GROUP: Record<string, string> = {
  avalon: 'avalon', cgminer: 'cgminer', luxos: 'luxos', whatsminer: 'whatsminer', antminer: 'read-only-asics', braiins: 'read-only-asics',
  't-rex': 'gpu', lolminer: 'gpu', gminer: 'gpu',
};

describe('demo fleet spec', () => {
  it.each(demoFarmSpec().rigs.map((r) => [r.id, r.kind === 'gpu' ? r.flavor : r.dialect, r] as const))('%s (%s) gets its group', (_id, kind, rig) => {
    const group = groupForRig(fleet, { rigId: rig.id, labels: rig.labels, model: rig.kind === 'asic' ? rig.model : undefined });
    expect(group?.name).toBe(EXPECTED_GROUP[kind]);
    expect(group?.pools.every((p) => p.url.startsWith('stratum+tcp://127.0.0.1:'))).toBe(true);
  });

  it('keeps the failback longer than a miner\'s own 90 s silence timeout, so a hung pool is never failed back to', () => {
    expect(fleet.policy?.failover?.failbackStableMs).toBeGreaterThan(90_000);
  });
});
