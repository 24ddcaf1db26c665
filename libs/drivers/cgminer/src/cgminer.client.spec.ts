import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CgminerSimulator } from '@rigwarden/simulators';
import { DriverError } from '@rigwarden/drivers-core';
import { CgminerClient, JsonDepthTracker, MAX_REQUEST_BYTES } from './cgminer.client';

/** A raw TCP server for byte-level behaviours the simulator does not model. */
async function rawServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; host: string; port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server, host: '127.0.0.1', port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

const kindOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(DriverError);
    return (err as DriverError).kind;
  }
};

describe('CgminerClient over real sockets', () => {
  let sim: CgminerSimulator;
  let target: { host: string; port: number };
  const client = new CgminerClient({ connectTimeoutMs: 500, totalTimeoutMs: 800 });

  beforeEach(async () => {
    sim = new CgminerSimulator({ lifetimeMs: 15_000 });
    target = await sim.start();
  });
  afterEach(() => sim.stop());

  it('sends the whole JSON request in one write and reads to the NUL', async () => {
    const reply = await client.command(target, 'summary');
    expect(reply['SUMMARY']).toBeDefined();
    expect(sim.requests.map((r) => r.toString())).toEqual(['{"command":"summary"}']);
  });

  it('sends a parameter as cgminer expects it', async () => {
    await client.command(target, 'switchpool', '1');
    expect(sim.requests[0]!.toString()).toBe('{"command":"switchpool","parameter":"1"}');
  });

  it('plain-text mode: cmd|param and key=value replies', async () => {
    const reply = await client.commandText(target, 'pools');
    expect(sim.requests[0]!.toString()).toBe('pools');
    const pools = reply['POOLS'] as Record<string, string>[];
    expect(pools.map((p) => p['URL'])).toEqual(sim.state.pools.map((p) => p.url));
    await client.commandText(target, 'switchpool', '1');
    expect(sim.requests[1]!.toString()).toBe('switchpool|1');
    expect(sim.state.activePool).toBe(1);
  });

  it('refuses requests over 4095 bytes and empty requests before connecting', async () => {
    const long = 'x'.repeat(MAX_REQUEST_BYTES);
    await expect(client.command(target, 'addpool', long)).rejects.toMatchObject({ kind: 'bad_request' });
    await expect(client.exchange(target, '', 'nothing')).rejects.toMatchObject({ kind: 'bad_request' });
    expect(sim.requests).toHaveLength(0);
  });

  it('a close with zero bytes is connection_refused_by_api (--api-allow)', async () => {
    sim.fault = 'close-without-reply';
    await expect(client.command(target, 'summary')).rejects.toMatchObject({ kind: 'connection_refused_by_api', context: { command: 'summary' } });
  });

  it('a host that accepts and never answers hits the total deadline', async () => {
    sim.fault = 'hang';
    const started = Date.now();
    await expect(client.command(target, 'summary')).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a fork that ends with "\\n" and keeps the socket open is read without waiting for the deadline', async () => {
    sim.fault = 'no-nul';
    const started = Date.now();
    const reply = await client.command(target, 'summary');
    expect(reply['SUMMARY']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(700);
  });

  it('garbage is a parse error with the command in its context', async () => {
    sim.fault = 'garbage';
    await expect(client.command(target, 'summary')).rejects.toMatchObject({ kind: 'parse', context: { host: target.host, port: target.port, command: 'summary' } });
  });

  it('Code 45 is access_denied with STATUS letter, Code and Msg', async () => {
    sim.writeAccess = false;
    await expect(client.command(target, 'switchpool', '1')).rejects.toMatchObject({
      kind: 'access_denied', context: { statusLetter: 'E', statusCode: 45, statusMsg: "Access denied to 'switchpool' command" },
    });
  });

  it('Code 14 is unsupported', async () => {
    await expect(client.command(target, 'nosuchcommand')).rejects.toMatchObject({ kind: 'unsupported', context: { statusCode: 14 } });
  });

  it('multi-command: one joined request when the firmware joins', async () => {
    const multi = await client.commands(target, ['summary', 'pools', 'stats']);
    expect(multi.joined).toBe(true);
    expect(Object.keys(multi.replies).sort()).toEqual(['pools', 'stats', 'summary']);
    expect(sim.requests.map((r) => r.toString())).toEqual(['{"command":"summary+pools+stats"}']);
  });

  it('multi-command: falls back to one command per connection on Code 14 (cgminer 2.x)', async () => {
    sim.joinCommands = false;
    const multi = await client.commands(target, ['summary', 'pools']);
    expect(multi.joined).toBe(false);
    expect(sim.requests.map((r) => r.toString())).toEqual(['{"command":"summary+pools"}', '{"command":"summary"}', '{"command":"pools"}']);
    expect(Object.keys(multi.replies).sort()).toEqual(['pools', 'summary']);
  });

  it('multi-command: a part that fails (Code 45 for a non-joinable command) is asked alone', async () => {
    const multi = await client.commands(target, ['summary', 'switchpool']);
    expect(multi.replies['summary']).toBeDefined();
    expect(multi.askedAlone).toEqual(['switchpool']);
    expect(multi.errors['switchpool']).toMatchObject({ kind: 'miner_error', context: { statusCode: 24 } });
  });

  it('multi-command: a dead miner is thrown, not returned per part', async () => {
    sim.fault = 'close-without-reply';
    await expect(client.commands(target, ['summary', 'pools'])).rejects.toMatchObject({ kind: 'connection_refused_by_api' });
  });

  it('an abort from the caller is its own kind', async () => {
    sim.fault = 'hang';
    const controller = new AbortController();
    const pending = client.command(target, 'summary', undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('JsonDepthTracker', () => {
  it('ignores brackets inside strings and escaped quotes, and closes with the top-level value', () => {
    const t = new JsonDepthTracker();
    t.feed(Buffer.from('{"Msg":"a}b]\\"}{", "x":[{'));
    expect(t.closed).toBe(false);
    t.feed(Buffer.from('}]\n'));
    expect(t.closed).toBe(false);
    t.feed(Buffer.from('}\n'));
    expect(t.closed).toBe(true);
  });
});

describe('plain-text mode against the Avalon personality', () => {
  it('ascset|0,setpool answers like the recorded Avalon 1047: STATUS I, Code 118, a multi-line Msg', async () => {
    const sim = new CgminerSimulator({ dialect: 'avalon', lifetimeMs: 10_000 });
    const target = await sim.start();
    try {
      const reply = await new CgminerClient().commandText(target, 'ascset', '0,setpool,root,root,stratum+tcp://btc.ss.poolin.com:443,cctrix.001,123');
      expect(sim.requests[0]!.toString()).toBe('ascset|0,setpool,root,root,stratum+tcp://btc.ss.poolin.com:443,cctrix.001,123');
      const status = (reply['STATUS'] as unknown as Record<string, unknown>[])[0]!;
      expect(status).toMatchObject({ STATUS: 'I', Code: 118, Description: 'cgminer 4.11.1' });
      expect(status['Msg']).toBe('ASC 0 set info:\npool success set to stratum+tcp://btc.ss.poolin.com:443\nworker is cctrix.001\nworkerpassword is 123\nPlease reboot miner to make config work.\n');
      expect(sim.state.pools[0]).toMatchObject({ url: 'stratum+tcp://btc.ss.poolin.com:443', user: 'cctrix.001' });
    } finally {
      await sim.stop();
    }
  });
});

describe('CgminerClient against raw servers', () => {
  it('caps the reply size', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.write(Buffer.alloc(64 * 1024, 0x61))));
    try {
      const client = new CgminerClient({ maxReplyBytes: 16 * 1024, totalTimeoutMs: 2000 });
      expect(await kindOf(client.command(srv, 'summary'))).toBe('reply_too_large');
    } finally {
      await srv.close();
    }
  });

  it('a reset with zero bytes is connection_refused_by_api', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.resetAndDestroy()));
    try {
      expect(await kindOf(new CgminerClient({ totalTimeoutMs: 2000 }).command(srv, 'summary'))).toBe('connection_refused_by_api');
    } finally {
      await srv.close();
    }
  });

  it('a reply split over many packets is joined; the NUL ends it even with the socket open', async () => {
    const srv = await rawServer((s) => s.once('data', () => {
      const body = Buffer.from('{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[{"Elapsed":7}],"id":1}\u0000', 'latin1');
      let i = 0;
      const tick = setInterval(() => {
        if (i >= body.length) {
          clearInterval(tick);
          return;
        }
        s.write(body.subarray(i, i + 9));
        i += 9;
      }, 1);
    }));
    try {
      const reply = await new CgminerClient({ totalTimeoutMs: 2000 }).command(srv, 'summary');
      expect(reply['SUMMARY']).toEqual([{ Elapsed: 7 }]);
    } finally {
      await srv.close();
    }
  });

  it('a pretty-printed reply with no NUL on a socket kept open ends at its last "}", not at an inner one', async () => {
    const srv = await rawServer((s) => s.once('data', () => {
      const lines = ['{', '  "STATUS": [', '    {', '      "STATUS": "S",', '      "Code": 11', '    }', '  ],', '  "SUMMARY": [', '    {', '      "Elapsed": 9', '    }', '  ],', '  "id": 1', '}'];
      // One line per packet: many packets end with "}\n" long before the reply does.
      lines.forEach((line, i) => setTimeout(() => s.write(`${line}\n`), i * 2));
    }));
    try {
      const reply = await new CgminerClient({ totalTimeoutMs: 2000 }).command(srv, 'summary');
      expect(reply['SUMMARY']).toEqual([{ Elapsed: 9 }]);
    } finally {
      await srv.close();
    }
  });

  it('the connect deadline is its own, shorter than the total deadline', async () => {
    // A listener whose process never accepts: once its backlog is full the kernel drops further SYNs,
    // so a connect neither succeeds nor fails, like a host that is down behind a silent firewall.
    const child = spawn(process.execPath, ['-e', [
      "const s = require('net').createServer();",
      "s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(s.address().port + '\\n',",
      '  () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000)));',
    ].join('')]);
    const held: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      for (let i = 0; i < 4; i++) held.push(connect({ host: '127.0.0.1', port }).on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const err = await new CgminerClient({ connectTimeoutMs: 300, totalTimeoutMs: 5000 }).command({ host: '127.0.0.1', port }, 'summary').catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'timeout', message: expect.stringContaining('no TCP connection within 300 ms') });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      for (const s of held) s.destroy();
      child.kill();
    }
  });

  it('a refused port is unreachable', async () => {
    const srv = await rawServer(() => undefined);
    const { port } = srv;
    await srv.close();
    expect(await kindOf(new CgminerClient({ totalTimeoutMs: 1000 }).command({ host: '127.0.0.1', port }, 'summary'))).toBe('unreachable');
  });
});
