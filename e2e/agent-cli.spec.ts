/** The agent's operator commands, as processes: probe and scan against simulated miners on loopback. */
import { join } from 'node:path';
import { CgminerSimulator } from '@rigwarden/simulators';
import { runNode } from '@rigwarden/testing';

const agent = join(__dirname, '..', 'bin/rigwarden-agent.js');
jest.setTimeout(30_000);

describe('rigwarden-agent probe and scan', () => {
  let sim: CgminerSimulator;
  let port: number;
  beforeAll(async () => {
    sim = new CgminerSimulator();
    port = (await sim.start()).port;
  });
  afterAll(() => sim.stop());

  it('probe identifies a miner and prints JSON', async () => {
    const { code, stdout, stderr } = await runNode(agent, ['probe', `127.0.0.1:${port}`, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(JSON.stringify(result)).toContain(sim.state.model);
  });

  it('scan finds the miner among closed ports', async () => {
    const { code, stdout } = await runNode(agent, ['scan', '127.0.0.1', '--port', String(port), '--json']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { class: string; host: string; port: number });
    expect(lines.some((l) => l.class === 'identified' && l.port === port)).toBe(true);
  });

  it('probe explains an unreachable address', async () => {
    const { code, stderr, stdout } = await runNode(agent, ['probe', '127.0.0.1:1']);
    expect(code).not.toBe(0);
    expect(stderr + stdout).toMatch(/ECONNREFUSED|unreachable/);
  });
});
