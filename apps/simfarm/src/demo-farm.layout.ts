import { demoFarmSpec, type DemoFarmOptions, type FarmApiRigSpec, type FarmRigSpec, type FarmSpec } from '@rigwarden/simulators';

/**
 * The rigs of the demo layout (libs/simulators/src/farm/demo-farm.ts) that `npm start` runs behind their firmware's
 * own API instead (issue 17): one Braiins OS+ over gRPC, one Whatsminer on API v3, each driven by its own agent
 * driver (braiins-grpc, whatsminer-v3) and grouped by its `control` label in deploy/demo/fleet.demo.yaml.
 *
 * sim-007 (a Braiins OS cgminer-API rig in the base layout) mines on pool-a with pool-b behind it: when the schedule
 * hangs pool-a, the failover policy moves it through PoolService/SetPoolGroups. sim-009 (a Whatsminer, API v2) mines
 * on pool-c: API v3 shows no share counters per pool, so a hung pool cannot be seen there (docs/drivers.md).
 */
export const DEMO_API_RIGS: Readonly<Record<string, (id: string) => FarmApiRigSpec>> = {
  'sim-007': (id) => ({
    id, kind: 'braiins-grpc', model: 'Antminer S19 XP', pools: ['pool-a', 'pool-b'], password: 'demo', powerTargetW: 3000,
    labels: { kind: 'asic', firmware: 'braiins-os-plus', model: 'Antminer S19 XP', control: 'grpc' },
  }),
  'sim-009': (id) => ({
    id, kind: 'whatsminer-v3', model: 'M60S_VK40', pools: ['pool-c', 'pool-b'], password: 'super',
    labels: { kind: 'asic', firmware: 'whatsminer-v3', model: 'Whatsminer M60S', control: 'api-v3' },
  }),
};

/** The farm `npm start` runs: the demo layout with DEMO_API_RIGS in their places. */
export function demoFarmWithApiRigs(options: DemoFarmOptions = {}): FarmSpec {
  const spec = demoFarmSpec(options);
  return { ...spec, rigs: spec.rigs.map((rig): FarmRigSpec => DEMO_API_RIGS[rig.id]?.(rig.id) ?? rig) };
}
