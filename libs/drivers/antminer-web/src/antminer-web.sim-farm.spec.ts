/**
 * The demo farm's stock Antminer with its web UI, driven by the real antminer-web driver (here, so that the
 * simulators lib does not depend on a driver: drivers depend on simulators for their tests, not the other way).
 */
import { connect } from 'node:net';
import { FarmControlServer, SimFarm, farmControl, type AsicRigState } from '@rigwarden/simulators';
import { waitFor } from '@rigwarden/testing';
import { AntminerWebDriver } from './antminer-web.driver';

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

describe('a stock Antminer with its web UI in the farm', () => {
  let farm: SimFarm;
  let control: FarmControlServer;
  let url: string;
  const ctx = (): { signal: AbortSignal; deadlineMs: number } => ({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });

  beforeAll(async () => {
    farm = await SimFarm.start({
      pools: [{ name: 'pool-a', notifyIntervalMs: 200 }, { name: 'pool-b', notifyIntervalMs: 200 }],
      rigs: [{ id: 'stock', kind: 'asic', dialect: 'antminer', model: 'Antminer S19', pools: ['pool-a', 'pool-b'], web: { miningRestartMs: 1500, password: 'hunter2' } }],
      mining: { shareIntervalMs: 100, reconnectMs: 100, tickMs: 50 },
      restartDownMs: 0,
      drift: false,
    });
    control = new FarmControlServer(farm);
    url = await control.start();
  });
  afterAll(async () => {
    await control.stop();
    await farm.stop();
  });

  const stock = (): Promise<AsicRigState> => farmControl<AsicRigState>(url, 'GET', '/rigs/stock');
  const poolNamed = (r: AsicRigState, name: string): AsicRigState['pools'][number] => r.pools.find((p) => p.name === name)!;

  it('a pool write through the web UI stops mining for the restart, then moves it to the new first pool; the state shows both', async () => {
    const before = await waitFor('shares on pool-a', async () => {
      const r = await stock();
      return poolNamed(r, 'pool-a').accepted > 0 ? r : undefined;
    }, 5000);
    expect(before.web).toEqual({ port: expect.any(Number), personality: 's19-2020', powerMode: 'normal', writes: 0, restarting: false, configuredPools: ['pool-a', 'pool-b'], poolChanges: [] });
    expect(farm.endpoints()).toEqual([expect.objectContaining({ port: before.port, webPort: before.web!.port })]);
    // The cgminer API is read-only, as on stock firmware.
    expect(((await ask(before.port, 'switchpool', '1'))['STATUS'] as Array<Record<string, unknown>>)[0]).toMatchObject({ STATUS: 'E', Code: 45 });

    const driver = new AntminerWebDriver({ host: '127.0.0.1', port: before.web!.port, options: { apiPort: before.port, password: 'hunter2', verifyEveryMs: 50 } });
    const reading = await driver.collect(ctx());
    expect(reading.driver).toBe('antminer-web+cgminer-api');
    const result = await driver.control({ kind: 'switchpool', pool: 1 }, ctx());
    expect(result).toMatchObject({ ok: true, action: 'switchpool' });

    const restarting = await stock();
    expect(restarting.web).toMatchObject({ writes: 1, restarting: true, configuredPools: ['pool-b', 'pool-a'] });
    expect(restarting.web!.poolChanges).toEqual([{ atMs: expect.any(Number), pools: ['pool-b', 'pool-a'], from: 'pool-a' }]);
    expect(farm.web('stock').hashingFactor()).toBe(0);
    const frozen = poolNamed(restarting, 'pool-a').accepted;

    const after = await waitFor('mining on pool-b after the restart', async () => {
      const r = await stock();
      return !r.web!.restarting && r.pools[0]?.name === 'pool-b' && r.pools[0].accepted > 0 ? r : undefined;
    }, 5000);
    expect(after.pools.map((p) => [p.name, p.priority])).toEqual([['pool-b', 0], ['pool-a', 1]]);
    expect(after.activePool).toBe(0);
    expect(poolNamed(after, 'pool-a').accepted).toBe(frozen);
    const change = after.web!.poolChanges[0]!;
    expect(change).toMatchObject({ from: 'pool-a', to: 'pool-b' });
    expect(change.resumedAtMs! - change.atMs).toBeGreaterThanOrEqual(1500);
    expect(after.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 0, by: 'api' })]);
    // The cgminer API now lists the written pools, in their order.
    const pools = (await ask(after.port, 'pools'))['POOLS'] as Array<Record<string, unknown>>;
    expect(pools.map((p) => p['URL'])).toEqual([farm.poolUrl('pool-b'), farm.poolUrl('pool-a')]);
    expect(farm.web('stock').hashingFactor()).toBe(1);
  });

  it('a write that leaves the pools as they are (a power mode) does not restart mining', async () => {
    const driver = new AntminerWebDriver({ host: '127.0.0.1', port: (await stock()).web!.port, options: { password: 'hunter2', verifyEveryMs: 50 } });
    await driver.setPowerMode('low', ctx());
    const r = await stock();
    expect(r.web).toMatchObject({ powerMode: 'low', writes: 2, restarting: false, configuredPools: ['pool-b', 'pool-a'] });
    expect(r.web!.poolChanges).toHaveLength(1);
    await driver.setPowerMode('normal', ctx());
  });

  it('the web UI shows what the rig does, as the cgminer API does: heat, a dead board, the power mode; sleep stops hashing', async () => {
    const rig = await stock();
    const driver = new AntminerWebDriver({ host: '127.0.0.1', port: rig.web!.port, options: { apiPort: rig.port, password: 'hunter2', verifyEveryMs: 50 } });
    const sim = farm.asic('stock');
    sim.state.boards[1]!.chipTempC = 91.5;
    sim.state.boards[1]!.tempC = 83.5;
    sim.killBoard(2);
    const hot = await driver.collect(ctx());
    // Boards come from the web's stats.cgi: the same chips the API reports, not the personality's nominal figures.
    expect(hot.boards.map((b) => [b.chipTempC, (b.hashrateHs ?? 0) > 0])).toEqual([
      [sim.state.boards[0]!.chipTempC, true], [91.5, true], [sim.state.boards[2]!.chipTempC, false],
    ]);
    expect(hot.fans.map((f) => f.rpm)).toEqual(sim.state.fans);
    expect(hot.hashrate5sHs).toBeCloseTo(sim.state.boards[0]!.hashrateHs + sim.state.boards[1]!.hashrateHs, -6);
    farm.asic('stock').reviveBoards();

    // Low power through the web is the rig's low work mode (the farm's heat model cools there), normal its normal one.
    await driver.setPowerMode('low', ctx());
    expect((await stock()).workMode).toBe(0);
    await driver.setPowerMode('normal', ctx());
    expect((await stock()).workMode).toBe(1);

    await driver.setPowerMode('sleep', ctx());
    const asleep = await stock();
    expect(asleep.web!.powerMode).toBe('sleep');
    const accepted = asleep.pools[asleep.activePool]!.accepted;
    const sleeping = await driver.collect(ctx());
    expect(sleeping.hashrate5sHs).toBe(0);
    await driver.setPowerMode('normal', ctx());
    await waitFor('shares again after waking', async () => ((await stock()).pools[asleep.activePool]!.accepted > accepted ? true : undefined), 5000);
  });

  it('refuses a web UI on firmware other than stock Antminer, and more pools than its config holds', async () => {
    await expect(SimFarm.start({ pools: [{ name: 'p' }], rigs: [{ id: 'w', kind: 'asic', dialect: 'whatsminer', pools: ['p'], web: {} }], drift: false }))
      .rejects.toThrow('rig w: a web UI needs dialect "antminer" (stock firmware); got "whatsminer"');
    await expect(SimFarm.start({ pools: [{ name: 'p' }], rigs: [{ id: 'w', kind: 'asic', dialect: 'antminer', pools: ['p', 'p', 'p', 'p'], web: {} }], drift: false }))
      .rejects.toThrow('rig w: a stock Antminer\'s config holds 3 pools; got 4');
    expect(() => farm.web('nope')).toThrow('no ASIC rig "nope"');
  });
});

