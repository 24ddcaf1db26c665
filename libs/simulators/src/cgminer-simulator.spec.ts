import { connect } from 'node:net';
import { CgminerSimulator, type CgminerSimulatorOptions } from './cgminer-simulator';
import { waitFor } from '@rigwarden/testing';

/** Sends raw bytes, returns everything until the server closes (or the wait ends). */
function rawExchange(target: { host: string; port: number }, request: string | Buffer, waitMs = 1000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(target);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false });
    }, waitMs);
    socket.on('connect', () => {
      if (request.length) socket.write(request);
    });
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
  });
}

async function withSim(options: CgminerSimulatorOptions, body: (sim: CgminerSimulator, target: { host: string; port: number }) => Promise<void>): Promise<void> {
  const sim = new CgminerSimulator({ lifetimeMs: 10_000, ...options });
  const target = await sim.start();
  try {
    await body(sim, target);
  } finally {
    await sim.stop();
  }
}

describe('CgminerSimulator wire format', () => {
  it('one reply, exactly one NUL at the end, then close', async () => {
    await withSim({}, async (_sim, target) => {
      const { data, closed } = await rawExchange(target, '{"command":"version"}');
      expect(closed).toBe(true);
      expect(data[data.length - 1]).toBe(0);
      expect(data.indexOf(0)).toBe(data.length - 1);
      expect(JSON.parse(data.subarray(0, -1).toString())).toMatchObject({ VERSION: [{ CGMiner: '4.11.1' }] });
    });
  });

  it('an empty request gets no reply at all', async () => {
    await withSim({}, async (_sim, target) => {
      const { data, closed } = await rawExchange(target, '', 200);
      expect(data.length).toBe(0);
      expect(closed).toBe(false);
    });
  });

  it('reads one request of at most 4095 bytes', async () => {
    await withSim({}, async (sim, target) => {
      await rawExchange(target, Buffer.alloc(5000, 0x20));
      expect(sim.requests[0]!.length).toBeLessThanOrEqual(4095);
    });
  });

  it('plain-text mode answers key=value sections the way cgminer does', async () => {
    await withSim({}, async (_sim, target) => {
      const summary = (await rawExchange(target, 'summary')).data.toString('latin1');
      expect(summary).toMatch(/^STATUS=S,When=\d+,Code=11,Msg=Summary,Description=cgminer 4\.11\.1\|SUMMARY,Elapsed=\d+,MHS av=[\d.]+,/);
      expect(summary.endsWith('|\u0000')).toBe(true);
      const pools = (await rawExchange(target, 'pools')).data.toString('latin1');
      expect(pools).toContain('|POOL=0,URL=stratum+tcp://pool-a.example:3333,');
    });
  });

  it('Code 14 for a refused join has no Description (cgminer 4.11.1)', async () => {
    await withSim({ joinCommands: false }, async (_sim, target) => {
      const reply = JSON.parse((await rawExchange(target, '{"command":"summary+pools"}')).data.subarray(0, -1).toString());
      expect(reply.STATUS[0]).toEqual({ STATUS: 'E', When: expect.any(Number), Code: 14, Msg: 'Invalid command' });
    });
  });

  it('binds any 127.x address and stops itself after its lifetime', async () => {
    const sim = new CgminerSimulator({ host: '127.0.0.9', lifetimeMs: 50 });
    const target = await sim.start();
    expect(target.host).toBe('127.0.0.9');
    await waitFor('the simulator to stop at the end of its lifetime', () => (sim.listening ? undefined : true), 5000, 10);
    const { data, closed } = await rawExchange(target, '{"command":"version"}', 300);
    expect(data.length).toBe(0);
    expect(closed).toBe(true);
    await sim.stop();
  });
});

describe('CgminerSimulator personalities keep their firmware quirks', () => {
  it('antminer: "}{" between STATS objects, GHS as strings, slots 6-8 on an S9', async () => {
    await withSim({ dialect: 'antminer', state: { model: 'Antminer S9' } }, async (_sim, target) => {
      const text = (await rawExchange(target, '{"command":"stats"}')).data.subarray(0, -1).toString();
      expect(text).toContain('"Type":"Antminer S9"}{"STATS":0');
      expect(() => JSON.parse(text)).toThrow();
      expect(text).toMatch(/"GHS 5s":"[\d.]+"/);
      expect(text).toContain('"chain_acn6":76');
      expect(text).toContain('"chain_rate5":""');
    });
  });

  it('antminer: stock firmware refuses writes with Code 45', async () => {
    await withSim({ dialect: 'antminer' }, async (_sim, target) => {
      const reply = JSON.parse((await rawExchange(target, '{"command":"switchpool","parameter":"1"}')).data.subarray(0, -1).toString());
      expect(reply.STATUS[0]).toMatchObject({ STATUS: 'E', Code: 45 });
    });
  });

  it('whatsminer: get_token like the recorded reply, pools from 1, quoted firmware version', async () => {
    await withSim({ dialect: 'whatsminer' }, async (_sim, target) => {
      const token = JSON.parse((await rawExchange(target, '{"cmd":"get_token"}')).data.subarray(0, -1).toString());
      expect(token).toEqual({ STATUS: 'S', When: expect.any(Number), Code: 134, Msg: { time: expect.stringMatching(/^\d{4}$/), salt: expect.stringMatching(/^\w{8}$/), newsalt: expect.stringMatching(/^\w{8}$/) }, Description: '' });
      const pools = JSON.parse((await rawExchange(target, '{"command":"pools"}')).data.subarray(0, -1).toString());
      expect(pools.POOLS.map((p: { POOL: number }) => p.POOL)).toEqual([1, 2]);
      const summary = (await rawExchange(target, '{"cmd":"summary"}')).data.toString();
      expect(summary).toContain('"Firmware Version":"\'20201202.22.REL\'"');
    });
  });

  it('whatsminer M20S: the invalid \\\' escape in its firmware version', async () => {
    await withSim({ dialect: 'whatsminer', state: { model: 'Whatsminer M20S' } }, async (_sim, target) => {
      const text = (await rawExchange(target, '{"command":"summary"}')).data.subarray(0, -1).toString();
      expect(text).toContain(`"Firmware Version":"\\'20200917.22.REL\\'"`);
      expect(() => JSON.parse(text)).toThrow();
    });
  });

  it('avalon: MM ID0 is a Key[value] string', async () => {
    await withSim({ dialect: 'avalon' }, async (_sim, target) => {
      const stats = JSON.parse((await rawExchange(target, '{"command":"stats"}')).data.subarray(0, -1).toString());
      expect(stats.STATS[0]['MM ID0']).toMatch(/^Ver\[1566-.*\] DNA\[\w+\] SYSTEMSTATU\[Work: In Work, Hash Board: 3 \].* MGHS\[[\d. ]+\]/);
    });
  });

  it('braiins: alphabetical keys', async () => {
    await withSim({ dialect: 'braiins' }, async (_sim, target) => {
      const summary = JSON.parse((await rawExchange(target, '{"command":"summary"}')).data.subarray(0, -1).toString());
      const keys = Object.keys(summary.SUMMARY[0]);
      expect(keys).toEqual([...keys].sort());
    });
  });
});

describe('CgminerSimulator state that behaves', () => {
  it('temperatures follow ambient, fans and frequency', async () => {
    await withSim({}, async (sim, target) => {
      sim.setAmbient(25);
      const cool = sim.state.boards[0]!.chipTempC!;
      sim.setAmbient(40);
      const warm = sim.state.boards[0]!.chipTempC!;
      expect(warm - cool).toBeCloseTo(15, 5);
      sim.failFan(0);
      sim.failFan(1);
      expect(sim.state.boards[0]!.chipTempC!).toBeGreaterThan(warm + 5);
      const before = sim.state.boards[0]!.chipTempC!;
      await rawExchange(target, '{"command":"ascset","parameter":"0,frequency,800"}');
      await rawExchange(target, '{"command":"devs"}');
      expect(sim.state.boards[0]!.chipTempC!).toBeGreaterThan(before);
    });
  });

  it('overheat: with a shutdown limit, a board that gets too hot stops hashing', async () => {
    await withSim({ state: { overheatShutdownC: 95 } }, async (sim) => {
      sim.setAmbient(30);
      expect(sim.state.boards.every((b) => b.alive)).toBe(true);
      const total = sim.totalHashrateHs();
      sim.failFan(0);
      sim.failFan(1);
      sim.failFan(2);
      sim.failFan(3);
      expect(sim.state.boards.every((b) => !b.alive)).toBe(true);
      expect(sim.totalHashrateHs()).toBe(0);
      expect(total).toBeGreaterThan(0);
    });
  });

  it('shares accumulate on the active pool as the clock advances (sharesPerMinute)', async () => {
    let nowMs = 1_700_000_000_000;
    await withSim({ now: () => nowMs, state: { sharesPerMinute: 6 } }, async (sim) => {
      const before = { total: sim.state.accepted, pool: sim.state.pools[0]!.accepted };
      sim.handle('{"command":"summary"}');
      nowMs += 10 * 60_000; // ten minutes: 60 shares, 0 rejected at 1 %
      sim.handle('{"command":"summary"}');
      expect(sim.state.accepted - before.total).toBe(60);
      expect(sim.state.pools[0]!.accepted - before.pool).toBe(60);
      expect(sim.state.pools[0]!.lastShareTime).toBe(Math.floor(nowMs / 1000));
      sim.setPoolStatus(0, 'Dead');
      nowMs += 5 * 60_000;
      sim.handle('{"command":"summary"}');
      expect(sim.state.pools[1]!.accepted).toBe(30); // the backup took over
    });
  });

  it('fault helpers: a dead board, a hardware-error burst', async () => {
    await withSim({}, async (sim) => {
      const total = sim.totalHashrateHs();
      sim.killBoard(2);
      expect(sim.totalHashrateHs()).toBeCloseTo(total - sim.state.boards[2]!.hashrateHs, -3);
      sim.hwErrorBurst(0, 5000);
      expect(sim.state.boards[0]!.hwErrors).toBe(5000);
    });
  });

  it('process crash: the port refuses connections until the miner is revived on the same address', async () => {
    await withSim({}, async (sim, target) => {
      await sim.crash();
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(target);
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
      });
      expect(refused).toBe('ECONNREFUSED');
      await sim.revive();
      expect(sim.address()).toEqual(target);
      expect((await rawExchange(target, '{"command":"version"}')).data.length).toBeGreaterThan(0);
    });
  });

  it('slow API: the reply comes after the delay', async () => {
    await withSim({ slowMs: 150 }, async (sim, target) => {
      sim.fault = 'slow';
      const started = Date.now();
      const { data } = await rawExchange(target, '{"command":"version"}');
      expect(data.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });
});
