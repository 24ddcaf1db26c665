import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoardStatus, PoolStatus } from '@rigwarden/protocol';
import {
  NO_CONTROL, driverRegistry, hasFaultLight, hasMinerControl, hasMiningSwitch, hasPowerModeControl, hasPowerTarget, hasSettleTimes, isRebootable, isRestartable,
  type CollectContext,
} from '@rigwarden/drivers-core';
import { WhatsminerV3Simulator, type WhatsminerV3SimulatorOptions } from '@rigwarden/simulators';
import { waitFor } from '@rigwarden/testing';
import { WhatsminerV3Client } from './whatsminer-v3.client';
import { WHATSMINER_V3_CONTROL, WhatsminerV3Driver } from './whatsminer-v3.driver';
import { WhatsminerV3Error } from './whatsminer-v3.error';
import './index';

const ctx = (ms = 5000): CollectContext => ({ signal: AbortSignal.timeout(ms), deadlineMs: ms });
const M60S = join(__dirname, '..', 'testdata', 'whatsminer-m60s_vk40-20251209.16.Rel2');
const recorded = (file: string): Record<string, unknown> => (JSON.parse(readFileSync(join(M60S, file), 'utf8')) as { msg: Record<string, unknown> }).msg;
const POOL_A = { url: 'stratum+tcp://a.example:3333', user: 'farm.a', password: 'x' };
const POOL_B = { url: 'stratum+tcp://b.example:3333', user: 'farm.b' };

async function withSim(
  simOptions: WhatsminerV3SimulatorOptions,
  driverOptions: Record<string, unknown> | undefined,
  body: (sim: WhatsminerV3Simulator, driver: WhatsminerV3Driver) => Promise<void>,
): Promise<void> {
  const sim = new WhatsminerV3Simulator(simOptions);
  const endpoint = await sim.start();
  try {
    const driver = driverRegistry.create('whatsminer-v3', { ...endpoint, options: driverOptions });
    if (!(driver instanceof WhatsminerV3Driver)) throw new Error('not the v3 driver');
    await body(sim, driver);
  } finally {
    await sim.stop();
  }
}

const bodies = (sim: WhatsminerV3Simulator): Record<string, unknown>[] => sim.requests.map((r) => r.body ?? {});
const writes = (sim: WhatsminerV3Simulator): Record<string, unknown>[] => bodies(sim).filter((b) => String(b['cmd']).startsWith('set.'));

async function failure(promise: Promise<unknown>): Promise<WhatsminerV3Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WhatsminerV3Error) return err;
    throw err;
  }
  throw new Error('expected a WhatsminerV3Error');
}

describe('whatsminer-v3 driver against the v3 simulator over TCP', () => {
  it('registers as whatsminer-v3 on port 4433 with every control capability it has', async () => {
    expect(driverRegistry.get('whatsminer-v3')?.defaultPort).toBe(4433);
    const driver = driverRegistry.create('whatsminer-v3', { host: '127.0.0.1', port: 4433, options: { password: 'p' } });
    expect(hasMinerControl(driver) && isRestartable(driver) && hasMiningSwitch(driver) && hasFaultLight(driver) && hasPowerTarget(driver) && isRebootable(driver)).toBe(true);
    expect(hasMinerControl(driver) && driver.controlCapabilities()).toEqual(WHATSMINER_V3_CONTROL);
    expect(() => driverRegistry.create('whatsminer-v3', { host: 'h', port: 1, options: { pasword: 'typo' } })).toThrow(/^h:1 config: options\.pasword: unknown option/);
    expect(() => new WhatsminerV3Driver({ host: 'h', port: 1, options: { verifyWithinMs: -1 } })).toThrow(WhatsminerV3Error);
    expect(() => new WhatsminerV3Driver({ host: 'h', port: 1, options: { password: '' } })).toThrow(/options\.password: must be a non-empty string/);
  });

  it('collect: four framed reads, no credentials sent, one reading', async () => {
    await withSim({}, undefined, async (sim, driver) => {
      const reading = await driver.collect(ctx());
      const first = sim.requests[0]!.raw;
      expect(first.readUInt32LE(0)).toBe(first.length - 4);
      expect(first.subarray(4).toString('utf8')).toBe('{"cmd":"get.device.info"}');
      expect(bodies(sim)).toEqual([
        { cmd: 'get.device.info' },
        { cmd: 'get.miner.status', param: 'summary' },
        { cmd: 'get.miner.status', param: 'pools' },
        { cmd: 'get.miner.status', param: 'edevs' },
      ]);
      expect(reading).toMatchObject({ host: '127.0.0.1', port: driver.endpoint.port, vendor: 'whatsminer', model: 'Whatsminer M60S_VK40', driver: 'whatsminer-v3', errors: [] });
      expect(reading.hashrateAvgHs).toBeCloseTo(171.3e12, -9);
      expect(reading.boards).toHaveLength(3);
      expect(reading.pools.map((p) => p.active)).toEqual([true, false, false]);
    });
  });

  it('identify: one get.device.info names the machine; operations list what the configuration allows', async () => {
    await withSim({}, undefined, async (sim, driver) => {
      expect(await driver.identify(ctx())).toEqual({
        vendor: 'whatsminer', model: 'Whatsminer M60S_VK40', firmware: 'btminer 20251209.16.Rel2', apiVersion: '3.0.2', serial: 'BTM3CS40HD24083100000000000000SIM',
      });
      expect(bodies(sim)).toEqual([{ cmd: 'get.device.info' }]);
      expect(driver.operations()).toEqual(['read']);
      const writer = new WhatsminerV3Driver({ ...driver.endpoint, options: { password: 'super' } });
      expect(writer.operations()).toEqual(['read', 'set-pools', 'power-mode', 'power-limit', 'restart', 'stop-resume', 'reboot', 'fault-light']);
    });
  });

  it('the simulator answers in the recorded shape (same summary and edevs keys, recorded device-info sections)', async () => {
    await withSim({}, undefined, async (sim, driver) => {
      const client = new WhatsminerV3Client();
      const info = (await client.read(driver.endpoint, 'get.device.info')).msg as Record<string, Record<string, unknown>>;
      const rec = recorded('get_device_info_with_errors.json') as Record<string, Record<string, unknown>>;
      expect(Object.keys(info).sort()).toEqual(Object.keys(rec).filter((k) => k !== 'error-code').sort());
      for (const section of ['network', 'power', 'system']) expect(Object.keys(info[section]!).sort()).toEqual(Object.keys(rec[section]!).sort());
      const summary = ((await client.read(driver.endpoint, 'get.miner.status', 'summary')).msg as Record<string, Record<string, unknown>>)['summary']!;
      expect(Object.keys(summary).sort()).toEqual(Object.keys(recorded('get_miner_status_summary.json')['summary'] as object).sort());
      const edevs = ((await client.read(driver.endpoint, 'get.miner.status', 'edevs')).msg as Record<string, Record<string, unknown>[]>)['edevs']!;
      expect(Object.keys(edevs[0]!).sort()).toEqual(Object.keys((recorded('get_miner_status_edevs.json')['edevs'] as object[])[0]!).sort());
      expect(sim.requests).toHaveLength(3);
    });
  });

  it('a refused optional read (edevs) is a collect error with the miner code; a refused summary fails the collect', async () => {
    await withSim({}, undefined, async (sim, driver) => {
      sim.refusals.set('get.miner.status:edevs', { code: -1, msg: 'board data not ready' });
      const reading = await driver.collect(ctx());
      expect(reading.errors).toEqual([expect.objectContaining({ kind: 'miner_error', statusCode: -1, command: 'get.miner.status edevs' })]);
      expect(reading.errors[0]!.message).toContain('code -1, "board data not ready"');
      sim.refusals.set('get.miner.status:summary', { code: -1, msg: 'busy' });
      const err = await failure(driver.collect(ctx()));
      expect([err.kind, err.minerCode, err.minerMessage, err.context.command]).toEqual(['miner_error', -1, 'busy', 'get.miner.status']);
    });
  });

  it('setPools: salt read, signed write with the param encrypted, read back and verified', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      const result = await driver.setPools([POOL_A, POOL_B], ctx());
      expect(result).toMatchObject({ ok: true, action: 'setpools' });
      expect(bodies(sim)[0]).toEqual({ cmd: 'get.device.info', param: 'salt' });
      const [write] = writes(sim);
      expect(write).toMatchObject({ cmd: 'set.miner.pools', account: 'super' });
      expect(typeof write!['param']).toBe('string'); // encrypted, never the clear pool list
      expect(String(write!['token'])).toHaveLength(8);
      expect(Number.isInteger(write!['ts'])).toBe(true);
      expect(sim.requests.find((r) => r.body?.['cmd'] === 'set.miner.pools')!.decryptedParam).toEqual([
        { pool: POOL_A.url, worker: 'farm.a', passwd: 'x' }, { pool: POOL_B.url, worker: 'farm.b', passwd: 'x' },
      ]);
      expect(sim.state.pools.map((p) => p.url)).toEqual([POOL_A.url, POOL_B.url]);
      expect(bodies(sim).at(-1)).toEqual({ cmd: 'get.miner.status', param: 'pools' });
      // The salt is kept: a second write reads it no more.
      await driver.setPools([POOL_B], ctx());
      expect(bodies(sim).filter((b) => b['param'] === 'salt')).toHaveLength(1);
    });
  });

  it('a pool outage: the reading shows the pool dead and the miner on the next one; a new list with a live pool first moves it', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      sim.setPoolReachable('stratum+tcp://btc.example.pool:3333', false);
      const down = await driver.collect(ctx());
      expect(down.pools.map((p) => [p.status, p.active])).toEqual([
        [PoolStatus.POOL_STATUS_DEAD, false], [PoolStatus.POOL_STATUS_ALIVE, true], [PoolStatus.POOL_STATUS_ALIVE, false],
      ]);
      expect(down.currentPoolUrl).toBe('stratum+tcp://btc2.example.pool:3333');
      expect(await driver.setPools([POOL_A, { url: 'stratum+tcp://btc.example.pool:3333', user: 'farm.a' }], ctx())).toMatchObject({ ok: true });
      expect((await driver.collect(ctx())).currentPoolUrl).toBe(POOL_A.url);
      for (const url of [POOL_A.url, 'stratum+tcp://btc.example.pool:3333']) sim.setPoolReachable(url, false);
      expect((await driver.collect(ctx())).hashrateAvgHs).toBe(0);
    });
  });

  it('setPools acknowledged but not applied is reported as failed with what the miner shows', async () => {
    await withSim({ ignoreWrites: true }, { password: 'super' }, async (_sim, driver) => {
      const result = await driver.setPools([POOL_A], ctx());
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.message).toMatch(/accepted set\.miner\.pools but reports stratum\+tcp:\/\/btc\.example\.pool:3333 \(rigwarden\.sim\)/);
      expect(result.steps?.map((s) => [s.command, s.ok])).toEqual([['set.miner.pools', true], ['get.miner.status', false]]);
    });
  });

  it('setPools refuses 0 or 4 pools before sending anything', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      const result = await driver.setPools([POOL_A, POOL_A, POOL_A, POOL_A], ctx());
      expect(result).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(sim.requests).toHaveLength(0);
    });
  });

  it('a wrong password: refused twice (fresh salt in between), access_denied with the miner code and message', async () => {
    await withSim({ password: 'right' }, { password: 'wrong' }, async (sim, driver) => {
      const result = await driver.setPools([POOL_A], ctx());
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toBeInstanceOf(WhatsminerV3Error);
      expect([result.error.kind, result.error.context.statusCode, result.error.context.statusMsg]).toEqual(['access_denied', -4, 'access denied']);
      expect(result.error.message).toMatch(/wrong password for account "super"/);
      expect(bodies(sim).map((b) => b['param'] === 'salt' ? 'salt' : b['cmd'])).toEqual(['salt', 'set.miner.pools', 'salt', 'set.miner.pools']);
      expect(sim.state.pools[0]!.url).toBe('stratum+tcp://btc.example.pool:3333');
    });
  });

  it('without a password: no control capability, and a write says how to enable it without sending anything', async () => {
    await withSim({}, undefined, async (sim, driver) => {
      expect(driver.controlCapabilities()).toEqual(NO_CONTROL);
      const result = await driver.setPools([POOL_A], ctx());
      expect(result).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
      if (!result.ok) expect(result.error.message).toMatch(/set options\.password/);
      expect(sim.requests).toHaveLength(0);
    });
  });

  it('work mode 0 / 2 sends set.miner.mode "low" / "high" and verifies it from power.mode', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      expect(await driver.control({ kind: 'workmode', mode: 0 }, ctx())).toMatchObject({ ok: true, message: 'power mode low (verified)' });
      expect(sim.state.mode).toBe('low');
      expect(writes(sim).map((w) => w['param'])).toEqual(['low']);
      await driver.control({ kind: 'workmode', mode: 2 }, ctx());
      expect(sim.state.mode).toBe('high');
      expect(await driver.control({ kind: 'workmode', mode: 7 }, ctx())).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
    });
  });

  it('power modes: normal / low through set.miner.mode, sleep stops btminer and leaving it starts btminer again', async () => {
    await withSim({ restartPauseMs: 0 }, { password: 'super' }, async (sim, driver) => {
      expect(hasPowerModeControl(driver) && driver.powerModes()).toEqual(['normal', 'low', 'sleep']);
      await driver.setPowerMode('low', ctx());
      expect([sim.state.mode, sim.state.working]).toEqual(['low', true]);
      await driver.setPowerMode('sleep', ctx());
      expect(sim.state.working).toBe(false);
      await driver.setPowerMode('normal', ctx());
      expect([sim.state.mode, sim.state.working]).toEqual(['normal', true]);
      expect(writes(sim).map((w) => [w['cmd'], w['param']])).toEqual([
        ['set.miner.mode', 'low'], ['set.miner.service', 'stop'], ['set.miner.service', 'start'], ['set.miner.mode', 'normal'],
      ]);
    });
    expect(new WhatsminerV3Driver({ host: 'h', port: 1 }).powerModes()).toEqual([]);
  });

  it('settle times: estimates by default, overridable per command in options.settleMs', () => {
    const driver = driverRegistry.create('whatsminer-v3', { host: 'h', port: 1, options: { settleMs: { restart: 90_000 } } });
    expect(hasSettleTimes(driver) && [driver.settleTimeMs('restart'), driver.settleTimeMs('reboot'), driver.settleTimeMs('faultlight')]).toEqual([90_000, 240_000, 0]);
    expect(() => driverRegistry.create('whatsminer-v3', { host: 'h', port: 1, options: { settleMs: { nap: 1 } } })).toThrow(/options\.settleMs\.nap: unknown command/);
  });

  it('set.miner.mode applied without a reply (firmware quirk) is read back and reported as done', async () => {
    await withSim({ silentModeWrites: true }, { password: 'super', modeReplyTimeoutMs: 300 }, async (sim, driver) => {
      const result = await driver.control({ kind: 'workmode', mode: 0 }, ctx());
      expect(result).toMatchObject({ ok: true, message: 'power mode low (applied without a reply; verified by reading back)' });
      expect(sim.state.mode).toBe('low');
    });
  });

  it('set.miner.mode acknowledged but not applied is a failure naming the mode the miner reports', async () => {
    await withSim({ ignoreWrites: true }, { password: 'super' }, async (_sim, driver) => {
      const result = await driver.control({ kind: 'workmode', mode: 0 }, ctx());
      expect(result).toMatchObject({ ok: false, error: { kind: 'miner_error' } });
      if (!result.ok) expect(result.error.message).toMatch(/accepted set\.miner\.mode "low" but reports mode "normal"/);
    });
  });

  it('power limit: a plain number of watts, verified from summary power-limit; not applied is a failure', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      await driver.setPowerTargetW(3000, ctx());
      expect(sim.state.powerLimitW).toBe(3000);
      expect(writes(sim)).toEqual([expect.objectContaining({ cmd: 'set.miner.power_limit', param: 3000 })]);
      expect((await failure(driver.setPowerTargetW(0, ctx()))).kind).toBe('bad_request');
    });
    await withSim({ ignoreWrites: true }, { password: 'super', verifyWithinMs: 300 }, async (_sim, driver) => {
      const err = await failure(driver.setPowerTargetW(3000, ctx()));
      expect(err.kind).toBe('miner_error');
      expect(err.message).toMatch(/accepted set\.miner\.power_limit but does not show power-limit 3000 W/);
    });
  });

  it('a write the miner refuses reports its code and message, is not retried and changes nothing', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      sim.refusals.set('set.miner.power_limit', { code: -1, msg: 'power limit out of range' });
      const err = await failure(driver.setPowerTargetW(9000, ctx()));
      expect([err.kind, err.minerCode, err.minerMessage, err.context.command]).toEqual(['miner_error', -1, 'power limit out of range', 'set.miner.power_limit']);
      expect(err.message).toMatch(/^127\.0\.0\.1:\d+ set\.miner\.power_limit: the miner refused set\.miner\.power_limit: code -1, "power limit out of range"$/);
      expect(writes(sim)).toHaveLength(1);
      expect(sim.state.powerLimitW).toBe(3600);
      sim.refusals.set('set.miner.pools', { code: -1, msg: 'pool url invalid' });
      const result = await driver.setPools([POOL_A], ctx());
      expect(result).toMatchObject({ ok: false, error: { kind: 'miner_error', context: { statusCode: -1, statusMsg: 'pool url invalid' } } });
      expect(result.steps).toEqual([expect.objectContaining({ command: 'set.miner.pools', ok: false, refused: true })]);
    });
  });

  it('restart: set.miner.service "restart"; the API answers while hashing pauses for the configured time, then resumes', async () => {
    await withSim({ restartPauseMs: 2000 }, { password: 'super' }, async (sim, driver) => {
      const result = await driver.control({ kind: 'restart', waitForApiMs: 3000 }, ctx());
      expect(result).toMatchObject({ ok: true, action: 'restart' });
      expect(writes(sim)).toEqual([expect.objectContaining({ cmd: 'set.miner.service', param: 'restart' })]);
      expect(sim.state.restarts).toBe(1);
      const paused = await driver.collect(ctx());
      expect(paused.hashrateAvgHs).toBe(0);
      expect(paused.boards.every((b) => b.status === BoardStatus.BOARD_STATUS_DEAD)).toBe(true);
      await waitFor('hashing to resume', async () => ((await driver.collect(ctx())).hashrateAvgHs ?? 0) > 0 ? true : undefined, 10_000);
    });
  });

  it('stop / resume mining: set.miner.service stop/start, verified from miner.working; boards disabled while stopped', async () => {
    await withSim({ restartPauseMs: 0 }, { password: 'super' }, async (sim, driver) => {
      await driver.stopMining(ctx());
      expect(sim.state.working).toBe(false);
      expect((await driver.collect(ctx())).boards.map((b) => b.status)).toEqual([BoardStatus.BOARD_STATUS_DISABLED, BoardStatus.BOARD_STATUS_DISABLED, BoardStatus.BOARD_STATUS_DISABLED]);
      await driver.resumeMining(ctx());
      expect(sim.state.working).toBe(true);
      expect(writes(sim).map((w) => w['param'])).toEqual(['stop', 'start']);
    });
  });

  it('LED on sends the red blink pattern and off gives it back ("auto"), each verified from system.ledstatus', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      await driver.setFaultLight(true, ctx());
      expect(sim.state.ledStatus).toBe('manual');
      await driver.setFaultLight(false, ctx());
      expect(sim.state.ledStatus).toBe('auto');
      expect(writes(sim).map((w) => [w['cmd'], w['param']])).toEqual([
        ['set.system.led', [{ color: 'red', period: 200, duration: 100, start: 0 }]], ['set.system.led', 'auto'],
      ]);
    });
  });

  it('reboot: accepted, then the miner is away, then it answers again', async () => {
    await withSim({ rebootDownMs: 2000 }, { password: 'super' }, async (sim, driver) => {
      await driver.rebootMiner(ctx());
      await waitFor('the reboot to start', () => sim.state.reboots === 1 ? true : undefined, 3000);
      const err = await failure(driver.collect(ctx()));
      expect(['miner_error', 'unreachable']).toContain(err.kind);
      await waitFor('the miner back after the reboot', async () => (await driver.collect(ctx())).vendor === 'whatsminer' ? true : undefined, 10_000);
    });
  });

  it('an action v3 has no command for is unsupported, naming what the driver does', async () => {
    await withSim({}, { password: 'super' }, async (sim, driver) => {
      const result = await driver.control({ kind: 'switchpool', pool: 1 }, ctx());
      expect(result).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
      expect(sim.requests).toHaveLength(0);
    });
  });
});

describe('whatsminer-v3 driver: broken frames end in a clear error, never a hang', () => {
  const cases: [NonNullable<WhatsminerV3Simulator['fault']>, string, RegExp][] = [
    ['truncated-frame', 'parse', /truncated frame: the connection closed after 24 of 200 bytes/],
    ['garbled-json', 'parse', /the reply frame is not JSON/],
    ['huge-length', 'reply_too_large', /length prefix says 4294967280 bytes/],
    ['close-without-reply', 'miner_error', /closed the connection without a reply/],
    ['stall', 'timeout', /no complete reply before the deadline/],
  ];
  it.each(cases)('%s -> %s', async (fault, kind, message) => {
    await withSim({}, undefined, async (sim, driver) => {
      sim.fault = fault;
      const started = Date.now();
      const err = await failure(driver.collect(ctx(800)));
      expect(err.kind).toBe(kind);
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/^127\.0\.0\.1:\d+ get\.device\.info: /);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });

  it('a closed port is unreachable', async () => {
    const sim = new WhatsminerV3Simulator();
    const endpoint = await sim.start();
    await sim.stop();
    const err = await failure(new WhatsminerV3Driver(endpoint).collect(ctx()));
    expect(err.kind).toBe('unreachable');
  });
});
