import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import { DriverError, driverRegistry, hasFaultLight, hasMinerControl, hasMiningSwitch, hasPowerModeControl, hasSettleTimes, isRebootable, type CollectContext } from '@rigwarden/drivers-core';
import { AntminerWebSimulator, CgminerSimulator, UNAUTHORIZED_PAGE, type AntminerWebSimulatorOptions } from '@rigwarden/simulators';
import { waitFor } from '@rigwarden/testing';
import { AntminerWebDriver, type AntminerWebDriverDeps } from './antminer-web.driver';
import { AntminerWebError } from './antminer-web.error';

const ctx = (ms = 5_000): CollectContext => ({ signal: AbortSignal.timeout(ms), deadlineMs: ms });
/** Read-backs without waiting: the simulator applies a write before it answers. */
const noSleep = { sleep: () => Promise.resolve() };

describe('antminer-web driver against the web UI simulator over HTTP', () => {
  let sim: AntminerWebSimulator;
  let driver: AntminerWebDriver;

  async function boot(options: AntminerWebSimulatorOptions = {}, driverOptions: Record<string, unknown> = {}, deps: AntminerWebDriverDeps = noSleep): Promise<void> {
    sim = new AntminerWebSimulator({ lifetimeMs: 30_000, ...options });
    const { host, port } = await sim.start();
    driver = new AntminerWebDriver({ host, port, options: { verifyWithinMs: 0, ...driverOptions } }, deps);
  }

  afterEach(() => sim?.stop());

  const failure = async (p: Promise<unknown>): Promise<DriverError> => {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(DriverError);
      return err as DriverError;
    }
    throw new Error('expected a failure');
  };

  it('registers as antminer-web on port 80 with every capability the web API has', () => {
    const reg = driverRegistry.get('antminer-web');
    expect(reg?.defaultPort).toBe(80);
    const d = reg!.create({ host: '127.0.0.1', port: 80 });
    expect(hasMinerControl(d) && hasPowerModeControl(d) && hasFaultLight(d) && isRebootable(d) && hasMiningSwitch(d) && hasSettleTimes(d)).toBe(true);
  });

  it('reads an S19 (2020, JSON generation): model, build, hashrate in H/s, boards with the hottest sensors, fans, pools', async () => {
    await boot({ personality: 's19-2020' });
    const r = await driver.collect(ctx());
    expect(r).toMatchObject({ vendor: 'antminer', model: 'Antminer S19', firmware: 'Fri Dec 11 17:37:21 CST 2020', driver: 'antminer-web', algorithm: 'sha256d' });
    expect(r.software).toBe('bmminer');
    expect(r.softwareVersion).toBe('49.0.1.3');
    expect(r.hashrate5sHs).toBeCloseTo(95e12, -6);
    expect(r.boards).toHaveLength(3);
    expect(r.boards[2]).toMatchObject({ index: 2, chips: 76, boardTempC: 64, chipTempC: 72, frequencyMhz: 675 });
    expect(r.fans.map((f) => f.rpm)).toEqual([4000, 4060, 4120, 4180]);
    expect(r.pools.map((p) => [p.url, p.active])).toEqual([
      ['stratum+tcp://pool-a.example:3333', true], ['stratum+tcp://pool-b.example:25', false], ['stratum+tcp://pool-c.example:443', false]]);
    expect(r.errors).toEqual([]);
    expect(driver.powerMode()).toBe('normal');
    expect(driver.powerModes()).toEqual(['normal', 'sleep', 'low']);
    expect(driver.controlCapabilities()).toMatchObject({ setPools: true, switchPool: true, workMode: true, restart: false });
    // The first request is challenged, then each one carries the digest with a growing nonce count.
    expect(sim.requests[0]!.authorized).toBe(false);
    const ncs = sim.requests.filter((q) => q.authorized).map((q) => /nc=([0-9a-f]{8})/.exec(String(q.headers['authorization']))![1]);
    expect(ncs).toEqual(['00000001', '00000002', '00000003', '00000004', '00000005']);
  });

  it('reads an S21 (2024, pretty-printed) and keeps the realm in the digest', async () => {
    await boot({ personality: 's21-2024' });
    const r = await driver.collect(ctx());
    expect(r).toMatchObject({ model: 'Antminer S21', firmware: 'Thu Jul 11 16:38:25 CST 2024' });
    expect(r.hashrate5sHs).toBeCloseTo(200e12, -6);
    expect(String(sim.requests[1]!.headers['authorization'])).toContain('realm="antMiner Configuration"');
  });

  it('reads a T17+ (form generation, no live pages): configured pools, no error for the pages it lacks', async () => {
    await boot({ personality: 't17plus-2020' });
    const r = await driver.collect(ctx());
    expect(r.model).toBe('Antminer T17+');
    expect(r.pools.map((p) => [p.url, p.status])).toEqual([
      ['stratum+tcp://pool-a.example:3333', PoolStatus.POOL_STATUS_UNKNOWN], ['stratum+tcp://pool-b.example:25', PoolStatus.POOL_STATUS_UNKNOWN],
      ['stratum+tcp://pool-c.example:443', PoolStatus.POOL_STATUS_UNKNOWN]]);
    expect(r.errors).toEqual([]);
    expect(driver.lastConf?.generation).toBe('form');
    expect(driver.powerModes()).toEqual(['normal', 'sleep']);
    // The missing pages are asked once, then remembered.
    const before = sim.requests.length;
    await driver.collect(ctx());
    expect(sim.requests.slice(before).map((q) => q.path)).toEqual(['/cgi-bin/get_system_info.cgi', '/cgi-bin/get_miner_conf.cgi']);
  });

  it('tolerates the unconfigured config ("bitmain-fan-ctrl" : ,) and says which key had no value', async () => {
    await boot({ personality: 's19pro-unconfigured' });
    expect(sim.renderConf()).toContain('"bitmain-fan-ctrl" : ,');
    const r = await driver.collect(ctx());
    expect(r.fieldWarnings).toContainEqual({ field: 'get_miner_conf.bitmain-fan-ctrl', value: '', reason: 'missing value' });
    expect(driver.lastConf?.uninitialised).toBe(true);
  });

  it('set pools (JSON): the whole config in the browser\'s keys, the other settings kept, verified by reading back', async () => {
    await boot({ personality: 's19-2020' });
    sim.state.conf['bitmain-work-mode'] = '1';
    sim.state.conf['bitmain-fan-ctrl'] = true;
    sim.state.conf['bitmain-fan-pwm'] = '80';
    const result = await driver.setPools([{ url: 'stratum+tcp://new-a:3333', user: 'w.1', password: 'p1' }, { url: 'stratum+tcp://new-b:3333', user: 'w.1' }], ctx());
    expect(result).toMatchObject({ ok: true, action: 'setpools' });
    const write = sim.requests.find((q) => q.path === '/cgi-bin/set_miner_conf.cgi')!;
    expect(write.headers['content-type']).toBe('text/plain;charset=UTF-8');
    expect(write.headers['x-requested-with']).toBe('XMLHttpRequest');
    expect(JSON.parse(write.body)).toEqual({
      'bitmain-fan-ctrl': true, 'bitmain-fan-pwm': '80', 'miner-mode': 1, 'freq-level': '100',
      pools: [{ url: 'stratum+tcp://new-a:3333', user: 'w.1', pass: 'p1' }, { url: 'stratum+tcp://new-b:3333', user: 'w.1', pass: '' }, { url: '', user: '', pass: '' }],
    });
    // A sleeping miner stays asleep and keeps its fan override.
    expect(sim.state.conf).toMatchObject({ 'bitmain-work-mode': '1', 'bitmain-fan-ctrl': true, 'bitmain-fan-pwm': '80' });
    expect(result.steps?.map((s) => s.command)).toEqual(['get_miner_conf.cgi', 'set_miner_conf.cgi', 'get_miner_conf.cgi']);
  });

  it('set pools (form, T17+): _ant_* fields in the stock order, _ant_freq=O and the work mode echoed', async () => {
    await boot({ personality: 't17plus-2020' });
    sim.state.conf['bitmain-work-mode'] = '254';
    const result = await driver.setPools([{ url: 'stratum+tcp://new-a:3333', user: 'w.1', password: 'x' }], ctx());
    expect(result.ok).toBe(true);
    const write = sim.requests.find((q) => q.path === '/cgi-bin/set_miner_conf.cgi')!;
    expect(write.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=UTF-8');
    expect(write.body).toBe('_ant_pool1url=stratum%2Btcp%3A%2F%2Fnew-a%3A3333&_ant_pool1user=w.1&_ant_pool1pw=x&_ant_pool2url=&_ant_pool2user=&_ant_pool2pw='
      + '&_ant_pool3url=&_ant_pool3user=&_ant_pool3pw=&_ant_nobeeper=false&_ant_notempoverctrl=false&_ant_fan_customize_switch=false'
      + '&_ant_fan_customize_value=&_ant_freq=O&_ant_voltage=1950&_ant_work_mode=254');
    expect(sim.state.conf).toMatchObject({ 'bitmain-freq': 'O', 'bitmain-voltage': '1950', 'bitmain-work-mode': '254' });
  });

  it('set pools on the unconfigured S19 Pro writes the empty fan setting as automatic and the pools stick', async () => {
    await boot({ personality: 's19pro-unconfigured' });
    const result = await driver.setPools([{ url: 'stratum+tcp://first:3333', user: 'w' }], ctx());
    expect(result.ok).toBe(true);
    expect(sim.state.conf['bitmain-fan-ctrl']).toBe(false);
    expect(sim.renderConf()).not.toContain(': ,');
  });

  it('switch pool puts the chosen pool first and keeps the others after it', async () => {
    await boot({ personality: 's21-2024' });
    const result = await driver.control({ kind: 'switchpool', pool: 2 }, ctx());
    expect(result.ok).toBe(true);
    expect((sim.state.conf['pools'] as { url: string }[]).map((p) => p.url)).toEqual([
      'stratum+tcp://pool-c.example:443', 'stratum+tcp://pool-a.example:3333', 'stratum+tcp://pool-b.example:25']);
  });

  it('power mode (JSON): miner-mode as an integer, the pools echoed; sleep, low and normal each read back', async () => {
    await boot({ personality: 's19-2020' });
    await driver.setPowerMode('sleep', ctx());
    expect(sim.state.conf['bitmain-work-mode']).toBe('1');
    const write = JSON.parse(sim.requests.filter((q) => q.path === '/cgi-bin/set_miner_conf.cgi')[0]!.body) as Record<string, unknown>;
    expect(write['miner-mode']).toBe(1);
    expect((write['pools'] as unknown[]).length).toBe(3);
    const asleep = await driver.collect(ctx());
    expect(asleep.hashrate5sHs).toBe(0);
    expect(asleep.boards.map((b) => b.status)).toEqual([BoardStatus.BOARD_STATUS_DISABLED, BoardStatus.BOARD_STATUS_DISABLED, BoardStatus.BOARD_STATUS_DISABLED]);
    await driver.setPowerMode('low', ctx());
    expect(sim.state.conf['bitmain-work-mode']).toBe('3');
    // Work modes in the agent's vocabulary (0 low, 1 normal), not the web's own numbers (0 normal, 1 sleep).
    const wm = await driver.control({ kind: 'workmode', mode: 1 }, ctx());
    expect(wm.ok).toBe(true);
    expect(driver.powerMode()).toBe('normal');
    expect(await driver.control({ kind: 'workmode', mode: 0 }, ctx())).toMatchObject({ ok: true });
    expect(sim.state.conf['bitmain-work-mode']).toBe('3');
    expect(await driver.control({ kind: 'workmode', mode: 2 }, ctx())).toMatchObject({ ok: false, error: expect.objectContaining({ kind: 'bad_request' }) });
    await driver.control({ kind: 'workmode', mode: 1 }, ctx());
  });

  it('a power-mode write is applied even when the firmware moves the frequency with it; a pool write that moved it is not', async () => {
    await boot({ personality: 's19-2020', afterWrite: (conf) => { conf['bitmain-freq'] = '600'; } });
    await driver.setPowerMode('low', ctx());
    sim.state.conf['bitmain-freq'] = '675';
    const result = await driver.setPools([{ url: 'stratum+tcp://x:1', user: 'u' }], ctx());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain('but not applied: bitmain-freq changed from "675" to "600"');
  });

  it('power mode (form, T17+): sleep is _ant_work_mode=254; low is refused before anything is sent', async () => {
    await boot({ personality: 't17plus-2020' });
    await driver.stopMining(ctx());
    expect(sim.requests.find((q) => q.path === '/cgi-bin/set_miner_conf.cgi')!.body).toMatch(/&_ant_work_mode=254$/);
    await driver.resumeMining(ctx());
    expect(sim.state.conf['bitmain-work-mode']).toBe('0');
    const writes = sim.state.writes;
    const err = await failure(driver.setPowerMode('low', ctx()));
    expect(err.kind).toBe('unsupported');
    expect(err.message).toContain('no low mode');
    expect(sim.state.writes).toBe(writes);
  });

  it('power mode on an L3+ (no work mode at all) is unsupported, and says so in the capabilities', async () => {
    await boot({ personality: 'l3plus-2017' });
    await driver.collect(ctx());
    expect(driver.controlCapabilities()).toMatchObject({ setPools: true, workMode: false });
    const err = await failure(driver.setPowerMode('sleep', ctx()));
    expect(err.kind).toBe('unsupported');
  });

  it('a work-mode write the firmware acknowledges (M000) but ignores is reported as failed with the reason', async () => {
    // Real pauses between read-backs: 300 ms of them, every 100 ms.
    await boot({ personality: 's19-2020', lying: true }, { verifyWithinMs: 300, verifyEveryMs: 100 }, {});
    const err = await failure(driver.setPowerMode('sleep', ctx()));
    expect(err.kind).toBe('miner_error');
    expect(err.message).toContain('acknowledged (M000) but not applied: work mode still normal');
    const viaControl = await driver.control({ kind: 'workmode', mode: 0 }, ctx());
    expect(viaControl.ok).toBe(false);
    expect(viaControl.steps?.at(-1)).toMatchObject({ ok: false, message: 'read back: work mode still normal' });
    // Each write: one read, then read-backs every 100 ms for 300 ms (3 or 4 of them), not a busy loop.
    const reads = sim.requests.filter((q) => q.authorized && q.path === '/cgi-bin/get_miner_conf.cgi').length;
    expect(reads).toBeGreaterThanOrEqual(2 * (1 + 3));
    expect(reads).toBeLessThanOrEqual(2 * (1 + 4));
  });

  it('refuses a power-mode write on an unconfigured miner (writing it back would store the empty config)', async () => {
    await boot({ personality: 's19pro-unconfigured' });
    const err = await failure(driver.setPowerMode('sleep', ctx()));
    expect(err.message).toContain('uninitialised');
    expect(sim.state.writes).toBe(0);
  });

  it('a pool change restarts mining; the driver tells the policies how long that lasts', async () => {
    await boot({ personality: 's19-2020', miningRestartMs: 60_000 }, { settleMs: { setpools: 240_000 } });
    expect((await driver.setPools([{ url: 'stratum+tcp://x:1', user: 'u' }], ctx())).ok).toBe(true);
    const restarting = await driver.collect(ctx());
    expect(restarting.hashrate5sHs).toBe(0);
    // Not asleep: boards without hashrate read as dead; the settle time is what tells the policies to wait.
    expect(restarting.boards[0]!.status).toBe(BoardStatus.BOARD_STATUS_DEAD);
    expect(driver.settleTimeMs('setpools')).toBe(240_000);
    expect(driver.settleTimeMs('powermode')).toBe(60_000);
    expect(driver.settleTimeMs('reboot')).toBe(180_000);
  });

  it('a slow set_miner_conf beyond writeTimeoutMs is a timeout naming the endpoint', async () => {
    await boot({ personality: 's19-2020', writeDelayMs: 1_000 }, { writeTimeoutMs: 150 });
    const result = await driver.setPools([{ url: 'stratum+tcp://x:1', user: 'u' }], ctx());
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe('timeout');
      expect(result.error.context.command).toBe('set_miner_conf.cgi');
    }
  });

  it('wrong password: a clear access_denied naming the user and the realm, with HTTP 401', async () => {
    await boot({ personality: 's19-2020', password: 'secret' });
    const err = await failure(driver.collect(ctx()));
    expect(err).toBeInstanceOf(AntminerWebError);
    expect(err.kind).toBe('access_denied');
    expect((err as AntminerWebError).httpStatus).toBe(401);
    expect(err.message).toContain('digest authentication failed for user "root" (realm "antMiner Configuration")');
    const ok = new AntminerWebDriver({ host: driver.endpoint.host, port: driver.endpoint.port, options: { password: 'secret' } });
    expect((await ok.collect(ctx())).model).toBe('Antminer S19');
  });

  it('the 401 page served with status 200 is an auth failure, not a parse error', async () => {
    await boot({ personality: 's19-2020', bodies: { 'get_system_info.cgi': UNAUTHORIZED_PAGE } });
    const err = await failure(driver.collect(ctx()));
    expect(err.kind).toBe('access_denied');
  });

  it('a connection closed after the first challenge is retried once', async () => {
    await boot({ personality: 's19-2020', closeFirstChallenge: true });
    expect((await driver.collect(ctx())).model).toBe('Antminer S19');
  });

  it('reboot: accepted as the miner goes down, unreachable while it reboots, read again after', async () => {
    await boot({ personality: 's19-2020', rebootDownMs: 400 });
    await driver.rebootMiner(ctx());
    expect(sim.requests.at(-1)!.path).toBe('/cgi-bin/reboot.cgi');
    const down = await failure(driver.collect(ctx()));
    expect(down.kind).toBe('unreachable');
    const r = await waitFor('the miner back after its reboot', async () => (await driver.collect(ctx()).catch(() => undefined))?.model, 5_000);
    expect(r).toBe('Antminer S19');
  });

  it('fault light (JSON): {"blink":true} answered B000, off answered B100, each read back from get_blink_status', async () => {
    await boot({ personality: 's21-2024' });
    await driver.setFaultLight(true, ctx());
    expect(sim.state.blink).toBe(true);
    expect(sim.requests.find((q) => q.path === '/cgi-bin/blink.cgi')!.body).toBe('{"blink":true}');
    await driver.setFaultLight(false, ctx());
    expect(sim.state.blink).toBe(false);
    expect(sim.requests.filter((q) => q.path === '/cgi-bin/get_blink_status.cgi' && q.authorized)).toHaveLength(2);
  });

  it('fault light (old web UI): the form action startBlink / stopBlink', async () => {
    await boot({ personality: 't17plus-2020' });
    await driver.setFaultLight(true, ctx());
    expect(sim.state.blink).toBe(true);
    expect(sim.requests.filter((q) => q.path === '/cgi-bin/blink.cgi' && q.authorized).map((q) => q.body)).toEqual(['action=startBlink']);
  });

  it('a blink reply other than B000 is a failure with the firmware code', async () => {
    await boot({ personality: 's21-2024', blinkFails: true });
    const err = await failure(driver.setFaultLight(true, ctx()));
    expect(err.message).toContain('answered B001, not B000');
    expect(err.context.statusMsg).toBe('B001');
  });

  it('merges the cgminer API where it answers: its per-pool counters and program, the web\'s model and boards', async () => {
    const api = new CgminerSimulator({ dialect: 'antminer', lifetimeMs: 30_000 });
    const apiTarget = await api.start();
    try {
      await boot({ personality: 's19-2020' }, { apiPort: apiTarget.port });
      const r = await driver.collect(ctx());
      expect(r.driver).toBe('antminer-web+cgminer-api');
      expect(r.model).toBe('Antminer S19');
      expect(r.boards).toHaveLength(3);
      expect(r.boards[0]!.name).toBe('SIMCHAIN0');
      expect(r.accepted).toBe(api.state.accepted);
      expect(r.pools.some((p) => p.stratumActive !== undefined)).toBe(true);
    } finally {
      await api.stop();
    }
  });

  it('a cgminer API that does not answer leaves the web reading whole, with the API error named', async () => {
    await boot({ personality: 's19-2020' }, { apiPort: 1 });
    const r = await driver.collect(ctx());
    expect(r.model).toBe('Antminer S19');
    expect(r.errors.map((e) => e.command)).toEqual(['cgminer-api']);
  });

  it('refuses bad options when the driver is created, naming the field', () => {
    expect(() => new AntminerWebDriver({ host: 'h', port: 80, options: { apiPort: 70000 } })).toThrow('antminer-web options.apiPort: must be a TCP port');
    expect(() => new AntminerWebDriver({ host: 'h', port: 80, options: { passwd: 'x' } })).toThrow('options.passwd: unknown option');
  });
});
