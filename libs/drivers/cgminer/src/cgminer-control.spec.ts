import { CgminerSimulator, type SimDialect } from '@rigwarden/simulators';
import { driverRegistry, hasMinerControl, type CollectContext, type MinerControl, type MinerDriver } from '@rigwarden/drivers-core';
import { CgminerClient } from './cgminer.client';
import { CgminerFamilyDriver } from './cgminer.driver';
import { DIALECTS } from './dialects/dialect-identification';
import { whatsminerDecrypt, whatsminerSession } from './whatsminer-v2.crypto';
import './index';
import { waitFor } from '@rigwarden/testing';

const ctx = (): CollectContext => ({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });

async function withSim(
  options: ConstructorParameters<typeof CgminerSimulator>[0],
  driverName: string,
  body: (sim: CgminerSimulator, driver: MinerDriver & MinerControl) => Promise<void>,
  endpointOptions?: Record<string, unknown>,
): Promise<void> {
  const sim = new CgminerSimulator({ lifetimeMs: 15_000, ...options });
  const endpoint = await sim.start();
  try {
    const driver = driverRegistry.create(driverName, { ...endpoint, options: endpointOptions });
    if (!hasMinerControl(driver)) throw new Error('no control');
    await body(sim, driver);
  } finally {
    await sim.stop();
  }
}

const sent = (sim: CgminerSimulator): string[] => sim.requests.map((r) => r.toString('latin1'));
const URL_C = 'stratum+tcp://pool-c.example:3333';

describe('pool control on cgminer 4.x (generic dialect)', () => {
  it('switchpool checks the pool exists, then sends the exact command', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      expect(await driver.control({ kind: 'switchpool', pool: 1 }, ctx())).toMatchObject({ ok: true, message: "Switching to pool 1:'stratum+tcp://pool-b.example:3333'" });
      expect(sent(sim)).toEqual(['{"command":"pools"}', '{"command":"switchpool","parameter":"1"}']);
      expect(sim.state.activePool).toBe(1);
      const bad = await driver.control({ kind: 'switchpool', pool: 7 }, ctx());
      expect(bad).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
    });
  });

  it('addpool escapes commas, enable/disable/remove follow the firmware rules', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      expect(await driver.control({ kind: 'addpool', spec: { url: URL_C, user: 'w,1', password: 'p\\x' } }, ctx())).toMatchObject({ ok: true });
      expect(sent(sim)).toContain('{"command":"addpool","parameter":"stratum+tcp://pool-c.example:3333,w\\\\,1,p\\\\\\\\x"}');
      expect(sim.state.pools[2]).toMatchObject({ url: URL_C, user: 'w,1', password: 'p\\x' });

      const removeActive = await driver.control({ kind: 'removepool', pool: 0 }, ctx());
      expect(removeActive).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(!removeActive.ok && removeActive.error.message).toContain('pool in use');

      expect(await driver.control({ kind: 'disablepool', pool: 1 }, ctx())).toMatchObject({ ok: true });
      expect(await driver.control({ kind: 'disablepool', pool: 2 }, ctx())).toMatchObject({ ok: true });
      const lastEnabled = await driver.control({ kind: 'disablepool', pool: 0 }, ctx());
      expect(lastEnabled).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(sent(sim)).not.toContain('{"command":"disablepool","parameter":"0"}');
      expect(await driver.control({ kind: 'enablepool', pool: 2 }, ctx())).toMatchObject({ ok: true });
      expect(await driver.control({ kind: 'removepool', pool: 1 }, ctx())).toMatchObject({ ok: true });
      expect(sim.state.pools.map((p) => p.url)).toEqual(['stratum+tcp://pool-a.example:3333', URL_C]);
      expect(await driver.control({ kind: 'poolpriority', order: [1, 0] }, ctx())).toMatchObject({ ok: true });
      expect(sim.state.pools.map((p) => p.priority)).toEqual([1, 0]);
      expect(await driver.control({ kind: 'poolpriority', order: [1, 1] }, ctx())).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
    });
  });

  it('the firmware itself refuses removing the active pool (Code 67) when asked directly', async () => {
    await withSim({}, 'cgminer', async (sim) => {
      await expect(new CgminerClient().command(sim.address(), 'removepool', '0')).rejects.toMatchObject({ kind: 'miner_error', context: { statusCode: 67 } });
    });
  });

  it('setPools reads, modifies, writes and verifies by rereading pools', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      const wanted = [{ url: URL_C, user: 'farm.w2', password: 'x' }, { url: 'stratum+tcp://pool-a.example:3333', user: 'farm.worker1' }];
      const result = await driver.setPools(wanted, ctx());
      expect(result).toMatchObject({ ok: true, action: 'setpools' });
      // cgminer's poolpriority already switches to the new first pool, so no switchpool is needed.
      expect(result.steps?.map((s) => s.command)).toEqual(['addpool', 'poolpriority', 'removepool']);
      const byPriority = [...sim.state.pools].sort((a, b) => a.priority - b.priority);
      expect(byPriority.map((p) => [p.url, p.user])).toEqual(wanted.map((w) => [w.url, w.user]));
      expect(sim.state.pools[sim.state.activePool]!.url).toBe(URL_C);
      // Same list again: nothing to add, remove or reorder, so nothing is written.
      const again = await driver.setPools(wanted, ctx());
      expect(again.ok && again.steps?.map((s) => s.command)).toEqual([]);
    });
  });

  it('setPools refuses a list with the same pool twice, and does not switch to a dead first pool', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      const b = { url: 'stratum+tcp://pool-b.example:3333', user: 'farm.worker1' };
      const a = { url: 'stratum+tcp://pool-a.example:3333', user: 'farm.worker1' };
      expect(await driver.setPools([a, a], ctx())).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(sim.requests).toHaveLength(0);
      sim.setPoolStatus(1, 'Dead');
      const result = await driver.setPools([b, a], ctx());
      expect(result).toMatchObject({ ok: true });
      expect(result.steps?.map((s) => s.command)).toEqual(['poolpriority']);
      expect(sim.state.pools.map((p) => p.priority)).toEqual([1, 0]);
      expect(sim.state.activePool).toBe(0); // still on a: b is dead
    });
  });

  it('a miner that dies in the middle of setPools gives a failed result with the cause', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      sim.fault = 'crash-on-write';
      const result = await driver.setPools([{ url: URL_C, user: 'w' }], ctx());
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.kind).toBe('connection_refused_by_api');
      expect(result.steps).toEqual([expect.objectContaining({ command: 'addpool', ok: false })]);
      sim.fault = 'none';
      // The process is gone: its port refuses connections until it is restarted.
      await expect(driver.collect(ctx())).rejects.toMatchObject({ kind: 'unreachable' });
      await sim.revive();
      await expect(driver.collect(ctx())).resolves.toMatchObject({ driver: 'cgminer' });
    });
  });

  it('a read-only API gives access_denied results, not exceptions', async () => {
    await withSim({ writeAccess: false }, 'cgminer', async (_sim, driver) => {
      expect(await driver.control({ kind: 'switchpool', pool: 1 }, ctx())).toMatchObject({ ok: false, error: { kind: 'access_denied', context: { statusCode: 45 } } });
      await expect((driver as CgminerFamilyDriver).switchPool(1, ctx())).rejects.toMatchObject({ kind: 'access_denied' });
    });
  });

  it('restart answers {"STATUS":"RESTART"} and the API is away for a while', async () => {
    let nowMs = 1_700_000_000_000;
    await withSim({ now: () => nowMs, restartDownMs: 5000 }, 'cgminer', async (_sim, driver) => {
      expect(await driver.control({ kind: 'restart' }, ctx())).toMatchObject({ ok: true, message: 'RESTART' });
      await expect(driver.collect(ctx())).rejects.toMatchObject({ kind: 'connection_refused_by_api' });
      nowMs += 6000;
      await expect(driver.collect(ctx())).resolves.toMatchObject({ uptimeS: 6 });
    });
  });

  it('restart can wait for the API to come back, or fail when it does not', async () => {
    await withSim({ restartDownMs: 600 }, 'cgminer', async (_sim, driver) => {
      const back = await driver.control({ kind: 'restart', waitForApiMs: 3000 }, ctx());
      expect(back).toMatchObject({ ok: true, message: expect.stringMatching(/^RESTART; API back after \d+ ms$/) });
    });
    await withSim({ restartDownMs: 60_000 }, 'cgminer', async (_sim, driver) => {
      // The re-exec fails: the miner said RESTART and its API never comes back.
      const never = await driver.control({ kind: 'restart', waitForApiMs: 600 }, ctx());
      expect(never).toMatchObject({ ok: false, error: { kind: 'timeout', context: { command: 'restart' } } });
    });
  });

  it('quit answers BYE, then the port closes', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      expect(await driver.control({ kind: 'quit' }, ctx())).toMatchObject({ ok: true, message: 'BYE' });
      // The port closes once the BYE is out: the next read finds nobody there.
      const refused = await waitFor('the API port to close', () => driver.collect(ctx()).then(() => undefined, (e: unknown) => e), 5_000, 10);
      expect(refused).toMatchObject({ kind: 'unreachable' });
      await sim.revive();
      await expect(driver.collect(ctx())).resolves.toMatchObject({ driver: 'cgminer' });
    });
  });

  it('capability flags per dialect', () => {
    expect(DIALECTS.antminer.capabilities.switchPool).toBe(false);
    expect(DIALECTS.braiins.capabilities.setPools).toBe(false);
    expect(DIALECTS.cgminer.capabilities).toMatchObject({ setPools: true, restart: true, frequency: false });
    expect(DIALECTS.avalon.capabilities).toMatchObject({ setPools: true, frequency: true, workMode: true });
  });
});

describe('frequency and work mode through ascset', () => {
  it('avalon: ascset 0,frequency scales the simulated hashrate', async () => {
    await withSim({ dialect: 'avalon' }, 'avalon', async (sim, driver) => {
      const before = sim.totalHashrateHs();
      expect(await driver.control({ kind: 'frequency', mhz: 325 }, ctx())).toMatchObject({ ok: true });
      expect(sent(sim)).toEqual(['{"command":"ascset","parameter":"0,frequency,325"}']);
      expect(sim.totalHashrateHs() / before).toBeCloseTo(0.5, 6);
      expect(await driver.control({ kind: 'workmode', mode: 2 }, ctx())).toMatchObject({ ok: true });
      expect(sent(sim).at(-1)).toBe('{"command":"ascset","parameter":"0,workmode,set,2"}');
      expect(sim.state.workMode).toBe(2);
    });
  });

  it('generic cgminer does not advertise frequency and refuses it without sending anything', async () => {
    await withSim({}, 'cgminer', async (sim, driver) => {
      expect(await driver.control({ kind: 'frequency', mhz: 500 }, ctx())).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
      expect(sim.requests).toHaveLength(0);
    });
  });
});

describe('LuxOS session logon', () => {
  it('logs on once and passes the session id as the first parameter', async () => {
    await withSim({ dialect: 'luxos' }, 'luxos', async (sim, driver) => {
      expect(await driver.control({ kind: 'switchpool', pool: 1 }, ctx())).toMatchObject({ ok: true });
      expect(await driver.control({ kind: 'switchpool', pool: 0 }, ctx())).toMatchObject({ ok: true });
      const requests = sent(sim).filter((r) => !r.includes('"pools"'));
      expect(requests.slice(0, 2)).toEqual(['{"command":"session"}', '{"command":"logon"}']);
      const sid = /"parameter":"([0-9a-f]+),1"/.exec(requests[2]!)?.[1];
      expect(sid).toMatch(/^[0-9a-f]{8}$/);
      expect(requests.slice(2)).toEqual([`{"command":"switchpool","parameter":"${sid},1"}`, `{"command":"switchpool","parameter":"${sid},0"}`]);
    });
  });

  it('reuses a session another client opened, and opens a fresh one when it is closed', async () => {
    await withSim({ dialect: 'luxos' }, 'luxos', async (sim, driver) => {
      const other = new CgminerClient();
      const opened = await other.command(sim.address(), 'logon');
      const sid = (opened['SESSION'] as { SessionID: string }[])[0]!.SessionID;
      expect(await driver.control({ kind: 'switchpool', pool: 1 }, ctx())).toMatchObject({ ok: true });
      expect(sent(sim)).toContain(`{"command":"switchpool","parameter":"${sid},1"}`);
      await other.command(sim.address(), 'logoff', sid);
      expect(await driver.control({ kind: 'switchpool', pool: 0 }, ctx())).toMatchObject({ ok: true });
      expect(sent(sim).filter((r) => r === '{"command":"logon"}')).toHaveLength(2); // the other client's, then ours
      expect(sim.state.activePool).toBe(0);
    });
  });

  it('a privileged command without a session is refused by the firmware', async () => {
    await withSim({ dialect: 'luxos' }, 'luxos', async (sim) => {
      await expect(new CgminerClient().command(sim.address(), 'switchpool', '1')).rejects.toMatchObject({ kind: 'miner_error', context: { statusCode: 309 } });
    });
  });
});

describe('Whatsminer API v2 writes (token + AES-256-ECB)', () => {
  const wanted = [{ url: URL_C, user: 'farm.m31s', password: 'x' }, { url: 'stratum+tcp://pool-b.example:3333', user: 'farm.m31s' }];

  it('without a password the driver advertises no control', async () => {
    await withSim({ dialect: 'whatsminer' }, 'whatsminer', async (sim, driver) => {
      expect(driver.controlCapabilities().setPools).toBe(false);
      expect(await driver.setPools(wanted, ctx())).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
      expect(sim.requests).toHaveLength(0);
    });
  });

  it('update_pools through the encrypted handshake, verified by rereading pools', async () => {
    await withSim({ dialect: 'whatsminer', adminPassword: 'hunter2' }, 'whatsminer', async (sim, driver) => {
      await driver.collect(ctx()); // learns the dialect's capabilities
      expect(driver.controlCapabilities()).toMatchObject({ setPools: true, restart: true, workMode: true, switchPool: false });
      sim.requests.length = 0;
      const result = await driver.setPools(wanted, ctx());
      expect(result).toMatchObject({ ok: true, message: 'Ok' });
      expect(sim.state.pools.map((p) => [p.url, p.user])).toEqual(wanted.map((w) => [w.url, w.user]));
      const requests = sent(sim);
      expect(requests[0]).toBe('{"cmd":"get_token"}');
      const envelope = JSON.parse(requests[1]!) as { enc: number; data: string };
      expect(envelope.enc).toBe(1);
      expect(requests[2]).toBe('{"command":"pools"}');
      // The simulator derives the key and sign independently and accepted the command: the two implementations agree.
      expect(envelope.data).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(await driver.control({ kind: 'restart' }, ctx())).toMatchObject({ ok: true });
      expect(await driver.control({ kind: 'workmode', mode: 2 }, ctx())).toMatchObject({ ok: true });
      expect(sim.state.workMode).toBe(2);
      expect((await driver.collect(ctx())).powerW).toBeDefined();
      expect(sent(sim).filter((r) => r === '{"cmd":"get_token"}')).toHaveLength(1); // the token is reused
    }, { password: 'hunter2' });
  });

  it('a wrong password is a failed result carrying the miner\'s Code 135', async () => {
    await withSim({ dialect: 'whatsminer', adminPassword: 'right' }, 'whatsminer', async (_sim, driver) => {
      await driver.collect(ctx());
      const result = await driver.setPools(wanted, ctx());
      expect(result).toMatchObject({ ok: false, error: { kind: 'access_denied' } });
      if (!result.ok) expect([135, 137]).toContain(result.error.context.statusCode);
      expect(!result.ok && result.error.message).toContain('wrong admin password');
    }, { password: 'wrong' });
  });

  it('the write API disabled on the miner answers get_token with Code 45', async () => {
    await withSim({ dialect: 'whatsminer', writeAccess: false }, 'whatsminer', async (_sim, driver) => {
      await driver.collect(ctx());
      expect(await driver.setPools(wanted, ctx())).toMatchObject({ ok: false, error: { kind: 'access_denied' } });
    }, { password: 'admin' });
  });

  it('the derivation matches the documented handshake on the recorded get_token reply', () => {
    // Expected values computed with OpenSSL, as MicroBT's document does it:
    //   key  = openssl passwd -1 -salt BQ5hoXV9 admin | cut -f4 -d$                      -> RxmaDUO33TS7O26yeMHZ81
    //   sign = openssl passwd -1 -salt a5TtWui2 "RxmaDUO33TS7O26yeMHZ81"6915 | cut -f4 -d$ -> 3p1She.3X07kIuPlnOet10
    const session = whatsminerSession('admin', { time: '6915', salt: 'BQ5hoXV9', newsalt: 'a5TtWui2' });
    expect(session.sign).toBe('3p1She.3X07kIuPlnOet10');
    expect(session.aesKey.toString('hex')).toBe('199e0a202039bb7b558db7a54697dca29cb278055b7e659a127fb844d5a2fbf6');
    expect(() => whatsminerDecrypt(session.aesKey, 'AAAA')).toThrow();
  });
});

describe('dialects without writes', () => {
  it.each<[SimDialect, string]>([['antminer', 'antminer'], ['braiins', 'braiins']])('%s: setPools is unsupported and nothing is sent', async (dialect, name) => {
    await withSim({ dialect }, name, async (sim, driver) => {
      expect(await driver.setPools([{ url: URL_C, user: 'w' }], ctx())).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
      expect(sim.requests).toHaveLength(0);
    });
  });
});
