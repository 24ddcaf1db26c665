import { createServer } from 'node:net';
import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import {
  DriverError, capabilityNames, driverRegistry, hasFaultLight, hasMinerControl, hasMiningSwitch, hasPowerTarget, hasSettleTimes, isRebootable, isRestartable,
  type CollectContext,
} from '@rigwarden/drivers-core';
import { BraiinsGrpcSimulator, type BraiinsGrpcSimulatorOptions } from '@rigwarden/simulators';
import { waitFor } from '@rigwarden/testing';
import { BraiinsGrpcDriver, type BraiinsDriverDeps } from './braiins-grpc.driver';
import { BraiinsOptionsError } from './braiins-options';

const ctx = (ms = 5_000): CollectContext => ({ signal: AbortSignal.timeout(ms), deadlineMs: ms });

describe('braiins-grpc driver against the Braiins OS+ gRPC simulator', () => {
  let sim: BraiinsGrpcSimulator | undefined;
  let driver: BraiinsGrpcDriver | undefined;

  async function start(simOptions: BraiinsGrpcSimulatorOptions = {}, options: Record<string, unknown> = {}, deps: BraiinsDriverDeps = {}): Promise<{ sim: BraiinsGrpcSimulator; driver: BraiinsGrpcDriver }> {
    sim = new BraiinsGrpcSimulator(simOptions);
    const port = await sim.start();
    driver = new BraiinsGrpcDriver({ host: '127.0.0.1', port, options }, { pollMs: 20, ...deps });
    return { sim, driver };
  }

  afterEach(async () => {
    driver?.close();
    await sim?.stop();
    sim = undefined;
    driver = undefined;
  });

  it('braiins-grpc: reads details, stats, hashboards, cooling, pools and tuner into one reading after one login', async () => {
    const { sim, driver } = await start({ model: 'Antminer S19 XP', firmware: '2025-08-06-0-3881c51d-25.07-plus', boards: 3, chipsPerBoard: 110, boardGhs: 47_000 });
    const reading = await driver.collect(ctx());
    expect(reading).toMatchObject({
      driver: 'braiins-grpc', vendor: 'braiins', model: 'Antminer S19 XP', software: 'bosminer+',
      firmware: 'Braiins OS+ 25.07 (2025-08-06-0-3881c51d-25.07-plus)', softwareVersion: '2025-08-06-0-3881c51d-25.07-plus',
      algorithm: 'sha256d', powerW: 2970, currentPoolUrl: 'stratum+tcp://pool-a.example:3333', errors: [],
    });
    expect(reading.hashrate5sHs).toBeCloseTo(141_000e9);
    expect(reading.boards).toHaveLength(3);
    expect(reading.boards[0]).toMatchObject({ index: 1, chips: 110, boardTempC: 56, chipTempC: 69, frequencyMhz: 525, status: BoardStatus.BOARD_STATUS_OK, name: 'BHB56902 BM1366' });
    expect(reading.boards[0]!.hashrateHs).toBeCloseTo(47_000e9);
    expect(reading.fans).toEqual([0, 1, 2, 3].map((index) => ({ index, rpm: 4800, percent: 80 })));
    expect(reading.pools.map((p) => [p.index, p.url, p.active, p.status, p.priority])).toEqual([
      [0, 'stratum+tcp://pool-a.example:3333', true, PoolStatus.POOL_STATUS_ALIVE, 0],
      [1, 'stratum+tcp://pool-b.example:3333', false, PoolStatus.POOL_STATUS_ALIVE, 1],
    ]);
    expect(reading.hashrateWindows.map((w) => w.label)).toEqual(['5s', '15s', '30s', '1m', '5m', '15m', '30m', '1h', '24h', 'av']);
    expect(driver.lastState).toMatchObject({
      macAddress: '02:00:5e:10:00:01', minerStatus: 'normal', coolingMode: 'auto',
      tuner: { enabled: true, mode: 'power-target', state: 'stable', powerTargetW: 3000 },
    });
    await driver.collect(ctx());
    expect(sim.counters.logins).toBe(1);
    const auth = sim.calls.filter((c) => c.method !== 'AuthenticationService/Login');
    expect(auth.length).toBeGreaterThanOrEqual(14);
    expect(sim.counters.unauthenticated).toBe(0);
  });

  it('braiins-grpc: a board switched off is disabled, a board hashing nothing while the miner mines is dead (0 H/s, not unknown)', async () => {
    const { sim, driver } = await start({ boards: 3 });
    sim.state.disabledBoards.add(2);
    sim.state.deadBoards.add(3);
    const reading = await driver.collect(ctx());
    expect(reading.boards.map((b) => [b.index, b.status, b.hashrateHs])).toEqual([
      [1, BoardStatus.BOARD_STATUS_OK, 47_000e9], [2, BoardStatus.BOARD_STATUS_DISABLED, 0], [3, BoardStatus.BOARD_STATUS_DEAD, 0],
    ]);
    expect(reading.hashrate5sHs).toBeCloseTo(47_000e9);
  });

  it('braiins-grpc: a pool that stops answering reads as dead and the miner mines on the next pool of its group', async () => {
    const { sim, driver } = await start();
    sim.state.killPool('stratum+tcp://pool-a.example:3333');
    const reading = await driver.collect(ctx());
    expect(reading.pools.map((p) => [p.url, p.status, p.active])).toEqual([
      ['stratum+tcp://pool-a.example:3333', PoolStatus.POOL_STATUS_DEAD, false], ['stratum+tcp://pool-b.example:3333', PoolStatus.POOL_STATUS_ALIVE, true],
    ]);
    expect(reading.currentPoolUrl).toBe('stratum+tcp://pool-b.example:3333');
    sim.state.killPool('stratum+tcp://pool-b.example:3333');
    const none = await driver.collect(ctx());
    expect(none.currentPoolUrl).toBe('');
    expect(none.hashrate5sHs).toBe(0);
  });

  it('braiins-grpc: identify asks the API version without a token, then names the miner; a refused login still says Braiins', async () => {
    const { sim, driver } = await start({ apiVersion: '1.3.0', model: 'Antminer S21 Pro' });
    expect(await driver.identify(ctx())).toEqual({
      vendor: 'braiins', apiVersion: '1.3.0', model: 'Antminer S21 Pro', firmware: 'Braiins OS+ 26.04 (2026-04-14-0-912d084c-26.04-plus)',
      serial: '', macAddress: '02:00:5e:10:00:01', loggedIn: true,
    });
    expect(sim.calls[0]).toEqual({ method: 'ApiVersionService/GetApiVersion', request: {} });
    expect(driver.operations()).toEqual(['read', 'set-pools', 'switch-pool', 'power-target', 'stop-resume', 'restart', 'reboot', 'fault-light']);
    const stranger = new BraiinsGrpcDriver({ host: '127.0.0.1', port: sim.port, options: { password: 'wrong' } });
    try {
      expect(await stranger.identify(ctx())).toMatchObject({ vendor: 'braiins', apiVersion: '1.3.0', model: '', loggedIn: false });
    } finally {
      stranger.close();
    }
  });

  it('braiins-grpc: offers every control capability it implements and is registered with port 50051', () => {
    const registration = driverRegistry.get('braiins-grpc');
    expect(registration?.defaultPort).toBe(50051);
    const made = driverRegistry.create('braiins-grpc', { host: '127.0.0.1', port: 1, options: { user: 'admin', password: 'pw' } });
    expect(made).toBeInstanceOf(BraiinsGrpcDriver);
    for (const guard of [hasMinerControl, hasMiningSwitch, hasPowerTarget, hasFaultLight, hasSettleTimes, isRebootable, isRestartable]) expect(guard(made)).toBe(true);
    expect((made as BraiinsGrpcDriver).controlCapabilities()).toMatchObject({ setPools: true, switchPool: true, poolPriority: true, restart: true, workMode: false, frequency: false });
    expect((made as BraiinsGrpcDriver).settleTimeMs('reboot')).toBeGreaterThan((made as BraiinsGrpcDriver).settleTimeMs('faultlight'));
    expect([...capabilityNames(made)].sort()).toEqual(['fault-light', 'power-target', 'read', 'reboot', 'restart', 'set-pools', 'switch-pool']);
    (made as BraiinsGrpcDriver).close();
    expect(() => driverRegistry.create('braiins-grpc', { host: 'h', port: 1, options: { pasword: 'typo' } })).toThrow(/unknown option "pasword"/);
    expect(() => driverRegistry.create('braiins-grpc', { host: 'h', port: 1, options: { password: 7 } })).toThrow(BraiinsOptionsError);
  });

  it('braiins-grpc: set pools replaces every group with one, restarts bosminer and reads the pools back', async () => {
    const { sim, driver } = await start({ restartPauseMs: 200 });
    const result = await driver.setPools([
      { url: 'stratum+tcp://backup.example:3333', user: 'farm.w1', password: 'p1' },
      { url: 'stratum+tcp://third.example:25', user: 'farm.w2' },
    ], ctx());
    expect(result).toMatchObject({ ok: true, action: 'setpools' });
    expect(result.steps?.map((s) => [s.command, s.ok])).toEqual([
      ['ConfigurationService/GetMinerConfiguration', true], ['PoolService/SetPoolGroups', true], ['PoolService/GetPoolGroups', true],
    ]);
    expect(sim.state.groups).toHaveLength(1);
    expect(sim.state.groups[0]).toMatchObject({ name: 'Default', pools: [
      { url: 'stratum+tcp://backup.example:3333', user: 'farm.w1', password: 'p1', enabled: true },
      { url: 'stratum+tcp://third.example:25', user: 'farm.w2', enabled: true },
    ] });
    expect(sim.state.restarts).toBe(1);
    const reading = await waitFor('hashing on the new pool', async () => {
      const r = await driver.collect(ctx());
      return r.currentPoolUrl === 'stratum+tcp://backup.example:3333' ? r : undefined;
    });
    expect(reading.pools.map((p) => p.url)).toEqual(['stratum+tcp://backup.example:3333', 'stratum+tcp://third.example:25']);
  });

  it('braiins-grpc: a miner that does not answer while bosminer restarts still gets its pool write and restart verified', async () => {
    const { sim, driver } = await start({ restartPauseMs: 300, unavailableWhileRestarting: true });
    const result = await driver.setPools([{ url: 'stratum+tcp://backup.example:3333', user: 'farm.w1' }], ctx());
    expect(result).toMatchObject({ ok: true });
    expect(sim.state.restarts).toBe(1);
    expect(sim.calls.filter((c) => c.method === 'PoolService/GetPoolGroups').length).toBeGreaterThan(1);
    const restart = await driver.control({ kind: 'restart', waitForApiMs: 5_000 }, ctx());
    expect(restart).toMatchObject({ ok: true, message: expect.stringMatching(/mining again/) });
    expect(sim.state.restarts).toBe(2);
  });

  it('braiins-grpc: a pool write the miner acknowledges but does not apply fails with what the miner shows', async () => {
    const { sim, driver } = await start({ ignoredWrites: ['PoolService/SetPoolGroups'] }, { verifyWaitMs: 100 });
    const result = await driver.setPools([{ url: 'stratum+tcp://backup.example:3333', user: 'farm.w1' }], ctx());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe('miner_error');
    expect(result.error.message).toMatch(/accepted the pool groups but shows otherwise: group "Default" has 2 pool\(s\), not 1/);
    expect(sim.state.groups[0]!.pools).toHaveLength(2);
  });

  it('braiins-grpc: a pool URL the miner refuses is a failed set-pools with its gRPC status, nothing changed', async () => {
    const { sim, driver } = await start();
    const result = await driver.setPools([{ url: 'http://not-stratum', user: 'u' }], ctx());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(DriverError);
    expect(result.error).toMatchObject({ kind: 'bad_request', context: { command: 'PoolService/SetPoolGroups', statusCode: 3 } });
    expect(result.steps?.at(-1)).toMatchObject({ command: 'PoolService/SetPoolGroups', ok: false, refused: true });
    expect(sim.state.groups[0]!.pools[0]!.url).toBe('stratum+tcp://pool-a.example:3333');
  });

  it('braiins-grpc: switch pool moves the pool to the front of its group and keeps the pool passwords', async () => {
    const { sim, driver } = await start({ restartPauseMs: 0 });
    const result = await driver.control({ kind: 'switchpool', pool: 1 }, ctx());
    expect(result).toMatchObject({ ok: true, action: 'switchpool' });
    expect(sim.state.groups[0]!.pools.map((p) => [p.url, p.password])).toEqual([
      ['stratum+tcp://pool-b.example:3333', 'x'], ['stratum+tcp://pool-a.example:3333', 'x'],
    ]);
    const missing = await driver.control({ kind: 'switchpool', pool: 5 }, ctx());
    expect(missing).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
    const order = await driver.control({ kind: 'poolpriority', order: [1, 0] }, ctx());
    expect(order.ok).toBe(true);
    expect(sim.state.groups[0]!.pools.map((p) => p.url)).toEqual(['stratum+tcp://pool-a.example:3333', 'stratum+tcp://pool-b.example:3333']);
  });

  it('braiins-grpc: a configuration without pool groups (as recorded on 25.07-26.04) is reordered from the live groups', async () => {
    const { sim, driver } = await start({ restartPauseMs: 0, configurationWithoutPools: true });
    const result = await driver.control({ kind: 'switchpool', pool: 1 }, ctx());
    expect(result).toMatchObject({ ok: true });
    expect(result.steps?.[1]).toMatchObject({ command: 'PoolService/GetPoolGroups', message: expect.stringMatching(/pool passwords are not known/) });
    expect(sim.state.groups[0]!.pools.map((p) => [p.url, p.password])).toEqual([
      ['stratum+tcp://pool-b.example:3333', undefined], ['stratum+tcp://pool-a.example:3333', undefined],
    ]);
  });

  it('braiins-grpc: the power target is set in watts and read back; out of range and ignored writes fail', async () => {
    const { sim, driver } = await start({ minPowerTargetW: 1200, maxPowerTargetW: 3600 });
    await driver.setPowerTargetW(2500, ctx());
    expect(sim.state.powerTargetW).toBe(2500);
    expect(sim.calls.find((c) => c.method === 'PerformanceService/SetPowerTarget')?.request).toEqual({ save_action: 2, power_target: { watt: 2500 } });
    await driver.collect(ctx());
    expect(driver.lastState?.tuner.powerTargetW).toBe(2500);
    await expect(driver.setPowerTargetW(5000, ctx())).rejects.toMatchObject({ kind: 'bad_request', message: expect.stringMatching(/outside this miner's power target range 1200-3600 W/) });
    await expect(driver.setPowerTargetW(0, ctx())).rejects.toMatchObject({ kind: 'bad_request' });
    expect(sim.state.powerTargetW).toBe(2500);
  });

  it('braiins-grpc: a power target the firmware acknowledges but does not apply is reported as failed', async () => {
    const { sim, driver } = await start({ ignoredWrites: ['PerformanceService/SetPowerTarget'] }, { verifyWaitMs: 100 });
    await expect(driver.setPowerTargetW(2500, ctx())).rejects.toMatchObject({
      kind: 'miner_error', message: expect.stringMatching(/does not show a configured power target of 2500 W \(reads 3000 W\)/),
    });
    expect(sim.state.powerTargetW).toBe(3000);
  });

  it('braiins-grpc: pause stops hashing with the miner reachable, resume starts it again', async () => {
    const { sim, driver } = await start();
    await driver.stopMining(ctx());
    expect(sim.state.paused).toBe(true);
    const paused = await driver.collect(ctx());
    expect(paused.hashrate5sHs).toBe(0);
    expect(driver.lastState?.minerStatus).toBe('paused');
    expect(paused.boards.every((b) => b.status === BoardStatus.BOARD_STATUS_OK)).toBe(true);
    await driver.resumeMining(ctx());
    expect(sim.state.paused).toBe(false);
    expect((await driver.collect(ctx())).hashrate5sHs).toBeGreaterThan(0);
  });

  it('braiins-grpc: a pause the firmware ignores is reported as failed', async () => {
    await start({ ignoredWrites: ['ActionsService/PauseMining'] }, { verifyWaitMs: 100 });
    await expect(driver!.stopMining(ctx())).rejects.toMatchObject({ kind: 'miner_error', message: expect.stringMatching(/does not show the miner paused \(reads status normal\)/) });
  });

  it('braiins-grpc: restart restarts bosminer and waits until it hashes again', async () => {
    const { sim, driver } = await start({ restartPauseMs: 300 });
    const result = await driver.control({ kind: 'restart', waitForApiMs: 5_000 }, ctx());
    expect(result).toMatchObject({ ok: true, action: 'restart', message: expect.stringMatching(/bosminer restarted and mining again after \d+ ms/) });
    expect(sim.state.restarts).toBe(1);
    expect(sim.state.hashing).toBe(true);
  });

  it('braiins-grpc: a restart that bosminer does not do is reported as failed', async () => {
    const { driver } = await start({ ignoredWrites: ['ActionsService/Restart'] });
    const result = await driver.control({ kind: 'restart', waitForApiMs: 100 }, ctx());
    expect(result).toMatchObject({ ok: false, error: { kind: 'miner_error', message: expect.stringMatching(/accepted the restart but bosminer kept running/) } });
  });

  it('braiins-grpc: reboot is accepted, and the sessions the reboot dropped are replaced by a new login', async () => {
    const { sim, driver } = await start({ restartPauseMs: 0 });
    await driver.collect(ctx());
    await driver.rebootMiner(ctx());
    expect(sim.state.reboots).toBe(1);
    await driver.collect(ctx());
    expect(sim.counters.logins).toBe(2);
  });

  it('braiins-grpc: after the miner is gone and back (a reboot), the driver reconnects and logs in again', async () => {
    const { sim: first, driver } = await start();
    await driver.collect(ctx());
    const port = first.port;
    await first.stop();
    await expect(driver.collect(ctx(2_000))).rejects.toMatchObject({ kind: 'unreachable' });
    sim = new BraiinsGrpcSimulator({ port });
    await sim.start();
    const back = await waitFor('the reading after the restart', () => driver.collect(ctx(2_000)), 15_000, 200);
    expect(back.model).toBe('Antminer S19 XP');
    expect(sim.counters.logins).toBe(1);
    expect(sim.counters.unauthenticated).toBeGreaterThanOrEqual(1);
  });

  it('braiins-grpc: the locate light turns on and off and reads back', async () => {
    const { sim, driver } = await start();
    await driver.setFaultLight(true, ctx());
    expect(sim.state.locate).toBe(true);
    expect(await driver.faultLight(ctx())).toBe(true);
    await driver.setFaultLight(false, ctx());
    expect(sim.state.locate).toBe(false);
    expect(sim.calls.filter((c) => c.method === 'ActionsService/SetLocateDeviceStatus').map((c) => c.request)).toEqual([{ enable: true }, { enable: false }]);
  });

  it('braiins-grpc: a token the miner let lapse is answered UNAUTHENTICATED, and the driver logs in again and retries', async () => {
    let simNow = 1_000_000;
    const { sim, driver } = await start({ tokenTimeoutS: 60, now: () => simNow }, {}, { now: () => 0 });
    await driver.collect(ctx());
    simNow += 61_000;
    const reading = await driver.collect(ctx());
    expect(reading.model).toBe('Antminer S19 XP');
    expect(sim.counters.unauthenticated).toBeGreaterThanOrEqual(1);
    expect(sim.counters.logins).toBe(2);
  });

  it('braiins-grpc: the driver renews its token before it lapses, so the miner never refuses a call', async () => {
    let now = 1_000_000;
    const { sim, driver } = await start({ tokenTimeoutS: 60, now: () => now }, {}, { now: () => now });
    await driver.collect(ctx());
    now += 30_000;
    await driver.collect(ctx());
    expect(sim.counters.logins).toBe(1);
    now += 55_000; // 55 s after the last use: inside the 6 s margin of its 60 s lifetime
    await driver.collect(ctx());
    expect(sim.counters.logins).toBe(2);
    expect(sim.counters.unauthenticated).toBe(0);
  });

  it('braiins-grpc: the token only in the reply header (older API versions) is used too', async () => {
    const { sim, driver } = await start({ tokenInHeaderOnly: true });
    await driver.collect(ctx());
    expect(sim.counters.logins).toBe(1);
    expect(sim.counters.unauthenticated).toBe(0);
  });

  it('braiins-grpc: a wrong password is a clear access_denied error naming the user and the options', async () => {
    const { sim, driver } = await start({ password: 'secret' }, { user: 'root', password: 'wrong' });
    const err: unknown = await driver.collect(ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ kind: 'access_denied', context: { command: 'AuthenticationService/Login', statusCode: 16 } });
    expect((err as Error).message).toMatch(/login refused for user "root": wrong user or password \(set options.user and options.password/);
    expect(sim.counters.loginsRefused).toBe(1);
  });

  it('braiins-grpc: the configured user and password are sent; root with an empty password is the default', async () => {
    const { sim } = await start({ username: 'admin', password: 'pw' }, { username: 'admin', password: 'pw' });
    await driver!.collect(ctx());
    expect(sim.calls[0]).toEqual({ method: 'AuthenticationService/Login', request: { username: 'admin' } });
    expect(new BraiinsGrpcDriver({ host: 'h', port: 1 }).options).toMatchObject({ user: 'root', password: '' });
  });

  it('braiins-grpc: a firmware without the method (older API) says to use the cgminer API driver', async () => {
    const { driver } = await start({ unimplemented: ['MinerService/GetMinerDetails'] });
    await expect(driver.collect(ctx())).rejects.toMatchObject({ kind: 'unsupported', message: expect.stringMatching(/driver "braiins" \(cgminer API on TCP 4028\)/) });
  });

  it('braiins-grpc: an optional read the firmware lacks is one collect error, then not asked again', async () => {
    const { sim, driver } = await start({ unimplemented: ['PerformanceService/GetTunerState'] });
    const first = await driver.collect(ctx());
    expect(first.errors).toEqual([expect.objectContaining({ kind: 'unsupported', command: 'PerformanceService/GetTunerState', statusCode: 12 })]);
    expect(driver.lastState?.tuner).toMatchObject({ mode: 'power-target', powerTargetW: 3000 });
    const second = await driver.collect(ctx());
    expect(second.errors).toEqual([]);
    expect(sim.calls.filter((c) => c.method === 'PerformanceService/GetTunerState')).toHaveLength(1);
  });

  it('braiins-grpc: a closed gRPC port (Braiins OS before 23.03) is unreachable with the hint to use the cgminer API', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    driver = new BraiinsGrpcDriver({ host: '127.0.0.1', port });
    await expect(driver.collect(ctx(3_000))).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/Braiins OS before 23.03 has no gRPC API/) });
  });

  it('braiins-grpc: a miner slower than the collect deadline is a timeout, in about the deadline', async () => {
    const { driver } = await start({ replyDelayMs: 2_000 });
    const started = Date.now();
    await expect(driver.collect({ signal: new AbortController().signal, deadlineMs: 300 })).rejects.toMatchObject({
      kind: 'timeout', context: { command: expect.stringMatching(/^MinerService\/GetMiner(Details|Stats)$/), statusCode: 4 },
    });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('braiins-grpc: a collect whose deadline has passed is aborted, not sent', async () => {
    const { sim, driver } = await start();
    const controller = new AbortController();
    controller.abort();
    await expect(driver.collect({ signal: controller.signal, deadlineMs: 0 })).rejects.toMatchObject({ kind: 'aborted' });
    expect(sim.calls).toHaveLength(0);
  });
});
