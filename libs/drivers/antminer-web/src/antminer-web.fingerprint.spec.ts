import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { AntminerWebSimulator } from '@rigwarden/simulators';
import { AntminerWebDriver } from './antminer-web.driver';
import { fingerprintWeb } from './antminer-web.fingerprint';

describe('antminer-web fingerprint and capability names', () => {
  it('tells the stock web UI by its digest realm, without credentials', async () => {
    const sim = new AntminerWebSimulator({ password: 'not-needed-here', lifetimeMs: 10_000 });
    const target = await sim.start();
    try {
      expect(await fingerprintWeb(target)).toMatchObject({ kind: 'antminer-web', status: 401, realm: 'antMiner Configuration' });
      expect(sim.requests.every((r) => !r.headers['authorization'])).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('a TCP service that is not HTTP, and a closed port, are told apart', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.end('{"STATUS":[{"STATUS":"S"}]}\0');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect((await fingerprintWeb({ host: '127.0.0.1', port })).kind).toBe('not-http');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect((await fingerprintWeb({ host: '127.0.0.1', port })).kind).toBe('no-answer');
  });

  it('names what the miner can do once its config is read: an S19 offers all, an L3+ no power mode', async () => {
    for (const [personality, expected] of [
      ['s19-2020', ['read', 'switch-pool', 'set-pools', 'reboot', 'power-mode', 'fault-light']],
      ['l3plus-2017', ['read', 'switch-pool', 'set-pools', 'reboot', 'fault-light']],
    ] as const) {
      const sim = new AntminerWebSimulator({ personality, lifetimeMs: 10_000 });
      const target = await sim.start();
      try {
        const driver = new AntminerWebDriver(target);
        await driver.collect({ signal: AbortSignal.timeout(5_000), deadlineMs: 5_000 });
        expect(driver.capabilityNames()).toEqual(expected);
      } finally {
        await sim.stop();
      }
    }
  });
});
