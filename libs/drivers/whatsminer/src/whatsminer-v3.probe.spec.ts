import { runProbeCommand } from '@rigwarden/drivers-cgminer';
import { WhatsminerV3Simulator } from '@rigwarden/simulators';
import './index';

describe('rigwarden-agent probe --driver whatsminer-v3', () => {
  it('--port N --password P --json prints the MinerSnapshot JSON read over API v3', async () => {
    const sim = new WhatsminerV3Simulator();
    const { port } = await sim.start();
    try {
      const lines: string[] = [];
      const code = await runProbeCommand(['127.0.0.1', '--driver', 'whatsminer-v3', '--port', String(port), '--password', 'super', '--json'],
        (l) => lines.push(l), (l) => lines.push(l), () => new Date('2026-12-03T18:00:00Z'));
      expect(code).toBe(0);
      expect(lines).toHaveLength(1);
      const json = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(json).toMatchObject({
        minerId: `127.0.0.1:${port}`, port, vendor: 'whatsminer', model: 'Whatsminer M60S_VK40', firmware: 'btminer 20251209.16.Rel2',
        driver: 'whatsminer-v3', collectedAt: '2026-12-03T18:00:00.000Z',
      });
      expect(json['boards']).toHaveLength(3);
      expect(sim.requests[0]!.body).toEqual({ cmd: 'get.device.info' });
    } finally {
      await sim.stop();
    }
  });

  it('a miner that does not answer v3 ends the probe with exit code 1 and the typed error', async () => {
    const sim = new WhatsminerV3Simulator();
    const { port } = await sim.start();
    sim.fault = 'garbled-json';
    try {
      const errors: string[] = [];
      expect(await runProbeCommand([`127.0.0.1:${port}`, '--driver', 'whatsminer-v3'], () => undefined, (l) => errors.push(l))).toBe(1);
      expect(errors[0]).toMatch(/^probe: 127\.0\.0\.1:\d+ get\.device\.info: the reply frame is not JSON .*\(parse\)$/);
    } finally {
      await sim.stop();
    }
  });
});
