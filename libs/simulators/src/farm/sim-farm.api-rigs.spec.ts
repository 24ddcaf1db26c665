/**
 * Rigs driven through their firmware's own API in the farm: a Braiins OS+ gRPC simulator and a Whatsminer v3
 * simulator on the farm's pools; pool faults reach them by URL, overheat and cool by the farm's heat, on the farm's
 * clock (fixed here). Their simulators are reached over loopback by the drivers' own tests and the e2e scenarios.
 */
import { SimFarm, type ApiRigState } from './sim-farm';

describe('sim farm: rigs behind their firmware\'s own API', () => {
  let farm: SimFarm;
  let now = 1_800_000_000_000;
  beforeAll(async () => {
    farm = await SimFarm.start({
      pools: [{ name: 'pool-a' }, { name: 'pool-b' }],
      rigs: [
        { id: 'bos', kind: 'braiins-grpc', pools: ['pool-a', 'pool-b'], shareIntervalMs: 1000, powerTargetW: 3000 },
        { id: 'wm3', kind: 'whatsminer-v3', pools: ['pool-a', 'pool-b'], password: 'pw' },
      ],
      heat: { hotC: 90, coolC: 60, rampCPerS: 10 },
      drift: false,
    }, { now: () => now });
  });
  afterAll(async () => { await farm.stop(); });
  const state = (id: string): ApiRigState => farm.rigState(id) as ApiRigState;

  it('lists them with their ports and mines on the farm\'s pools by name', () => {
    expect(farm.endpoints().map((e) => [e.rig.id, e.rig.kind, e.port > 0])).toEqual([['bos', 'braiins-grpc', true], ['wm3', 'whatsminer-v3', true]]);
    now += 5_000;
    expect(state('bos')).toMatchObject({ kind: 'braiins-grpc', activePool: 0, hashing: true, powerTargetW: 3000, pools: [{ name: 'pool-a', alive: true, accepted: 5 }, { name: 'pool-b', alive: true, accepted: 0 }] });
    expect(state('wm3')).toMatchObject({ kind: 'whatsminer-v3', activePool: 0, powerMode: 'normal', pools: [{ name: 'pool-a', alive: true }, { name: 'pool-b', alive: true }] });
  });

  it('a silent pool keeps the Braiins miner on it without shares; a killed one sends both to the next pool', async () => {
    await farm.apply({ fault: 'silence-pool', pool: 'pool-a' });
    now += 5_000;
    expect(state('bos')).toMatchObject({ activePool: 0, pools: [{ accepted: 5 }, { accepted: 0 }] });
    await farm.apply({ fault: 'kill-pool', pool: 'pool-a' });
    now += 3_000;
    expect(state('bos')).toMatchObject({ activePool: 1, pools: [{ alive: false }, { alive: true, accepted: 3 }] });
    expect(state('wm3')).toMatchObject({ activePool: 1, pools: [{ alive: false }, { alive: true }] });
    await farm.apply({ fault: 'revive-pool', pool: 'pool-a' });
    expect(state('bos')).toMatchObject({ activePool: 0, pools: [{ alive: true }, { alive: true }] });
    expect(state('wm3').activePool).toBe(0);
  });

  it('overheat: the Braiins chips head for hotC at the nominal power target, the Whatsminer\'s out of the low mode', async () => {
    expect(await farm.apply({ fault: 'overheat', rig: 'bos' })).toBe('rig bos overheating: heading for 90 °C at its 3000 W power target, 60 °C below it');
    await farm.apply({ fault: 'overheat', rig: 'wm3' });
    now += 10_000;
    expect([state('bos').hottestC, state('wm3').hottestC, state('bos').overheating]).toEqual([90, 90, true]);
    farm.braiins('bos').state.powerTargetW = 2500;
    farm.whatsminerV3('wm3').state.mode = 'low';
    now += 10_000;
    expect([state('bos').hottestC, state('wm3').hottestC]).toEqual([60, 60]);
    await farm.apply({ fault: 'cool', rig: 'bos' });
    await farm.apply({ fault: 'clear', rig: 'wm3' });
    now += 10_000;
    expect([state('bos').hottestC, state('wm3').hottestC, state('wm3').overheating]).toEqual([71, 82, false]);
  });
});
