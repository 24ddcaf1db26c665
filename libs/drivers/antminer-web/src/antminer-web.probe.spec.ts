import { runProbeCommand } from '@rigwarden/drivers-cgminer';
import { AntminerWebSimulator, CgminerSimulator } from '@rigwarden/simulators';
import './antminer-web.driver';

describe('rigwarden-agent probe --driver antminer-web', () => {
  it('prints the MinerSnapshot JSON read through the web API with --web-port/--user/--password, merged with --api-port', async () => {
    const web = new AntminerWebSimulator({ personality: 's21-2024', user: 'admin', password: 'pw', lifetimeMs: 20_000 });
    const api = new CgminerSimulator({ dialect: 'antminer', lifetimeMs: 20_000 });
    const w = await web.start();
    const a = await api.start();
    try {
      const out: string[] = [];
      const errs: string[] = [];
      const code = await runProbeCommand([w.host, '--driver', 'antminer-web', '--web-port', String(w.port), '--api-port', String(a.port),
        '--user', 'admin', '--password', 'pw', '--json'], (l) => out.push(l), (l) => errs.push(l));
      expect(errs).toEqual([]);
      expect(code).toBe(0);
      const snapshot = JSON.parse(out[0]!) as Record<string, unknown>;
      expect(snapshot).toMatchObject({ vendor: 'antminer', model: 'Antminer S21', firmware: 'Thu Jul 11 16:38:25 CST 2024', driver: 'antminer-web+cgminer-api', port: w.port });
      expect(snapshot['minerId']).toBe(`${w.host}:${w.port}`);
    } finally {
      await web.stop();
      await api.stop();
    }
  });

  it('a wrong password ends the probe with exit code 1 and the auth error', async () => {
    const web = new AntminerWebSimulator({ lifetimeMs: 20_000 });
    const w = await web.start();
    try {
      const errs: string[] = [];
      const code = await runProbeCommand([`${w.host}:${w.port}`, '--driver', 'antminer-web', '--password', 'nope'], () => undefined, (l) => errs.push(l));
      expect(code).toBe(1);
      expect(errs[0]).toMatch(/digest authentication failed for user "root".*\(access_denied\)$/);
    } finally {
      await web.stop();
    }
  });
});
