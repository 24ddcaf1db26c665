import { connect } from 'node:net';
import { startCgminerFleet } from './cgminer-fleet';

describe('startCgminerFleet', () => {
  it('starts one miner per 127.x address on a shared port, with the asked number hanging', async () => {
    const hosts = Array.from({ length: 10 }, (_, i) => `127.0.1.${i + 1}`);
    const fleet = await startCgminerFleet({ hosts, dialects: ['antminer', 'whatsminer'], hanging: 3, lifetimeMs: 10_000 });
    try {
      expect(fleet.miners).toHaveLength(10);
      expect(fleet.miners.filter((m) => m.fault === 'hang')).toHaveLength(3);
      expect(fleet.miners.map((m) => m.address())).toEqual(hosts.map((host) => ({ host, port: fleet.port })));
      expect(fleet.miners.map((m) => m.dialect).slice(0, 2)).toEqual(['antminer', 'whatsminer']);
      const reply = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.1.2', port: fleet.port }, () => s.write('{"command":"version"}'));
        let data = '';
        s.on('data', (c) => { data += c.toString(); });
        s.on('close', () => resolve(data));
      });
      expect(reply).toContain('"Description":"btminer"');
    } finally {
      await fleet.stop();
    }
  });
});
