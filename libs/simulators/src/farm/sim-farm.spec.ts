import { connect } from 'node:net';
import { waitFor } from '@rigwarden/testing';
import { FarmControlServer, farmControl, parseFault } from './farm-control.server';
import { DEMO_LAYOUT, demoFarmSpec } from './demo-farm';
import { HeatFault } from './heat.fault';
import { SimFarm, type AsicRigState, type FarmState, type GpuRigState } from './sim-farm';
import { defaultSimState } from '../cgminer-simulator';

/** One cgminer API request over a real socket, as the agent's driver sends it. */
function ask(port: number, command: string, parameter?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    socket.on('end', () => resolve(JSON.parse(text.replace(/\0$/, '')) as Record<string, unknown>));
    socket.on('error', reject);
    socket.write(JSON.stringify(parameter === undefined ? { command } : { command, parameter }));
  });
}

describe('heat fault', () => {
  it.each([
    ['normal work mode heads for hotC', 1, 88],
    ['a stepped-down work mode heads for coolC', 0, 64],
  ])('%s', (_name, workMode, target) => {
    const state = { ...defaultSimState(0), workMode };
    const heat = new HeatFault(state, { hotC: 88, coolC: 64, hotFromWorkMode: 1, rampCPerS: 2 });
    const start = state.boards[0]!.chipTempC!;
    heat.start();
    heat.tick(1000);
    expect(state.boards[0]!.chipTempC).toBe(start + Math.sign(target - start) * 2);
    for (let i = 0; i < 60; i++) heat.tick(1000);
    expect(state.boards.map((b) => b.chipTempC)).toEqual([target, target, target]);
    expect(state.boards[0]!.tempC).toBe(target - 8);
  });

  it('returns to where it started once cleared, then lets go', () => {
    const state = defaultSimState(0);
    const heat = new HeatFault(state, { hotC: 90, coolC: 60, hotFromWorkMode: 1, rampCPerS: 5 });
    const before = state.boards.map((b) => b.chipTempC);
    heat.start();
    for (let i = 0; i < 10; i++) heat.tick(1000);
    heat.stop();
    expect(heat.engaged).toBe(true);
    for (let i = 0; i < 10; i++) heat.tick(1000);
    expect(state.boards.map((b) => b.chipTempC)).toEqual(before);
    expect(heat.engaged).toBe(false);
  });
});

describe('sim farm', () => {
  let farm: SimFarm;
  let control: FarmControlServer;
  let url: string;

  beforeAll(async () => {
    farm = await SimFarm.start({
      pools: [{ name: 'pool-a', notifyIntervalMs: 200 }, { name: 'pool-b', notifyIntervalMs: 200 }],
      rigs: [
        { id: 'own', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'] },
        { id: 'held', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'], mining: { ownFailover: false } },
        { id: 'ava', kind: 'asic', dialect: 'avalon', pools: ['pool-b'] },
        { id: 'gpu', kind: 'gpu', flavor: 't-rex', gpus: 2 },
      ],
      mining: { shareIntervalMs: 100, reconnectMs: 100, tickMs: 50 },
      heat: { rampCPerS: 20 },
      restartDownMs: 0,
      rebootDownMs: 0,
      drift: false,
    });
    control = new FarmControlServer(farm);
    url = await control.start();
  });
  afterAll(async () => {
    await control.stop();
    await farm.stop();
  });

  const rig = <T>(id: string): Promise<T> => farmControl<T>(url, 'GET', `/rigs/${id}`);
  const fault = (body: Record<string, unknown>): Promise<{ message: string }> => farmControl(url, 'POST', '/faults', body);

  it('kill-pool: a cgminer leaves the dead pool by itself; one without own failover stays and still names it', async () => {
    await waitFor('shares on pool-a', async () => ((await rig<AsicRigState>('held')).pools[0]!.accepted > 0 ? true : undefined), 5000);
    await fault({ fault: 'kill-pool', pool: 'pool-a' });
    const own = await waitFor('own failover', async () => {
      const r = await rig<AsicRigState>('own');
      return r.activePool === 1 ? r : undefined;
    }, 5000);
    expect(own.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'miner' })]);
    const held = await waitFor('pool-a dead on the held rig', async () => {
      const r = await rig<AsicRigState>('held');
      return r.pools[0]!.status === 'Dead' ? r : undefined;
    }, 5000);
    expect(held.activePool).toBe(0);
    const pools = (await ask(held.port, 'pools'))['POOLS'] as Array<Record<string, unknown>>;
    expect(pools.map((p) => [p['Status'], p['Stratum Active']])).toEqual([['Dead', true], ['Alive', false]]);
    // The controller's way out: switchpool over the API.
    await ask(held.port, 'switchpool', '1');
    expect((await rig<AsicRigState>('held')).poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'api' })]);
    await fault({ fault: 'revive-pool', pool: 'pool-a' });
    await waitFor('pool-a alive again', async () => ((await rig<AsicRigState>('held')).pools[0]!.status === 'Alive' ? true : undefined), 5000);
  });

  it('kill-board: a sticky dead board survives a restart and a reboot brings it back; a broken one survives both; a transient one a restart revives', async () => {
    const port = (await rig<AsicRigState>('held')).port;
    await fault({ fault: 'kill-board', rig: 'held', board: 1, sticky: true });
    await ask(port, 'restart');
    let r = await rig<AsicRigState>('held');
    expect([r.boards[1]!.alive, r.restarts]).toEqual([false, 1]);
    await fault({ fault: 'reboot', rig: 'held' });
    r = await rig<AsicRigState>('held');
    expect([r.boards[1]!.alive, r.reboots]).toEqual([true, 1]);

    await fault({ fault: 'kill-board', rig: 'held', board: 0, broken: true });
    await ask(port, 'restart');
    await fault({ fault: 'reboot', rig: 'held' });
    expect((await rig<AsicRigState>('held')).boards.map((b) => b.alive)).toEqual([false, true, true]);
    await fault({ fault: 'clear', rig: 'held' });
    expect((await rig<AsicRigState>('held')).boards[0]!.alive).toBe(true);

    await fault({ fault: 'kill-board', rig: 'held', board: 2, sticky: false });
    expect((await rig<AsicRigState>('held')).boards[2]!.alive).toBe(false);
    await ask(port, 'restart');
    r = await rig<AsicRigState>('held');
    expect([r.boards[2]!.alive, r.restarts]).toEqual([true, 3]);
  });

  it('overheat: heats at the normal work mode, cools once ascset drops it, as the miner API shows', async () => {
    const { port } = await rig<AsicRigState>('ava');
    await fault({ fault: 'overheat', rig: 'ava' });
    const all = async (c: number): Promise<true | undefined> => ((await rig<AsicRigState>('ava')).boards.every((b) => b.chipTempC === c) ? true : undefined);
    await waitFor('88 °C', () => all(88), 5000);
    const stats = (await ask(port, 'stats'))['STATS'] as Array<Record<string, unknown>>;
    expect(String(stats[0]!['MM ID0'])).toContain('MTmax[88 88 88]');
    const nominal = (await rig<AsicRigState>('ava')).boards[0]!.hashrateHs;
    await ask(port, 'ascset', '0,workmode,set,0');
    await waitFor('64 °C', () => all(64), 5000);
    // The low work mode hashes 80 % of the nominal rate.
    expect((await rig<AsicRigState>('ava')).boards[0]!.hashrateHs).toBeCloseTo(nominal * 0.8, -6);
    await ask(port, 'ascset', '0,workmode,set,1');
    await fault({ fault: 'cool', rig: 'ava' });
  });

  it('lose-gpu: the GPU hashes 0 until the rig is rebooted', async () => {
    await fault({ fault: 'lose-gpu', rig: 'gpu', gpu: 1 });
    expect((await rig<GpuRigState>('gpu')).gpus.map((g) => g.lost)).toEqual([false, true]);
    expect((await rig<GpuRigState>('gpu')).gpus[1]!.hashrateHs).toBe(0);
    await fault({ fault: 'reboot', rig: 'gpu' });
    const r = await rig<GpuRigState>('gpu');
    expect([r.gpus.map((g) => g.lost), r.reboots]).toEqual([[false, false], 1]);
  });

  it('bounce-pool: the pool goes down and up until revived', async () => {
    await fault({ fault: 'bounce-pool', pool: 'pool-b', periodMs: 300 });
    const seen = new Set<string>();
    await waitFor('pool-b seen dead and alive', async () => {
      seen.add((await rig<AsicRigState>('ava')).pools[0]!.status);
      return seen.has('Dead') && seen.has('Alive') ? true : undefined;
    }, 5000, 50);
    await fault({ fault: 'revive-pool', pool: 'pool-b' });
    const state = await farmControl<FarmState>(url, 'GET', '/state');
    expect(state.pools.find((p) => p.name === 'pool-b')!.state).toBe('up');
    expect(state.log.map((l) => l.fault.fault)).toContain('bounce-pool');
  });

  it('answers an unknown target or fault with 400 and what exists', async () => {
    await expect(fault({ fault: 'kill-pool', pool: 'nope' })).rejects.toThrow('no pool "nope"; pools: pool-a, pool-b');
    await expect(fault({ fault: 'melt', rig: 'own' })).rejects.toThrow('"fault" must be one of kill-pool');
    await expect(fault({ fault: 'overheat' })).rejects.toThrow('fault overheat needs "rig"');
    await expect(fault({ fault: 'lose-gpu', rig: 'own' })).rejects.toThrow('no GPU rig "own"; GPU rigs: gpu');
  });
});

describe('fault schedule', () => {
  it('fires each step at its time (never before the miners joined their pools) and logs what it did', async () => {
    const entries: string[] = [];
    const farm = await SimFarm.start({
      pools: [{ name: 'pool-a' }],
      rigs: [{ id: 'r1', kind: 'asic', dialect: 'cgminer', pools: ['pool-a'] }],
      drift: false,
      schedule: { startMs: -5000, steps: [{ atMs: 0, fault: { fault: 'silence-pool', pool: 'pool-a' } }, { atMs: 5200, fault: { fault: 'overheat', rig: 'r1' } }] },
    }, { onFault: (e) => entries.push(`${e.fault.fault}: ${e.message}`) });
    try {
      const started = Date.now();
      await waitFor('both faults', () => (entries.length === 2 ? entries : undefined), 5000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(entries).toEqual([
        'silence-pool: pool pool-a silent (sockets open, no jobs, no share answers)',
        'overheat: rig r1 overheating: heading for 88 °C at work mode 1 or above, 64 °C below',
      ]);
      expect(farm.state().pools[0]!.state).toBe('silent');
    } finally {
      await farm.stop();
    }
  });
});

describe('parseFault', () => {
  it.each([
    [{ fault: 'kill-board', rig: 'r', board: '1' }, '"board" must be a number'],
    [{ fault: 'kill-board', rig: 'r', sticky: 'yes' }, '"sticky" must be true or false'],
    [{ fault: 'silence-pool', rig: 'r' }, 'needs "pool"'],
  ])('%j is refused: %s', (raw, message) => {
    expect(() => parseFault(raw)).toThrow(message);
  });
});

describe('demo farm', () => {
  it('has 30 rigs across every ASIC dialect and GPU miners, with the faults on the first three', () => {
    const spec = demoFarmSpec();
    expect(spec.rigs).toHaveLength(30);
    expect(new Set(DEMO_LAYOUT)).toEqual(new Set(['cgminer', 'avalon', 't-rex', 'antminer', 'antminer-web', 'whatsminer', 'luxos', 'braiins', 'lolminer', 'gminer']));
    const web = spec.rigs.filter((r) => r.kind === 'asic' && r.web);
    expect(web.map((r) => r.id)).toEqual(['sim-004', 'sim-012', 'sim-025']);
    expect(web[0]).toMatchObject({ dialect: 'antminer', pools: ['pool-a', 'pool-b'], web: { miningRestartMs: 5000 }, labels: { control: 'web', dialect: 'antminer' } });
    expect(demoFarmSpec({ webRestartMs: 1000 }).rigs[3]).toMatchObject({ web: { miningRestartMs: 1000 } });
    const targets = spec.schedule!.steps.flatMap((s) => ('rig' in s.fault ? [s.fault.rig] : []));
    expect(new Set(targets)).toEqual(new Set(['sim-001', 'sim-002', 'sim-003']));
    expect(demoFarmSpec({ rigs: 3, faultsShiftMs: -40_000 }).schedule).toMatchObject({ startMs: -40_000 });
    expect(demoFarmSpec({ faults: false }).schedule).toBeUndefined();
  });
});
