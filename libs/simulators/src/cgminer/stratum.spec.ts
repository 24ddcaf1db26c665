import { connect } from 'node:net';
import { waitFor } from '@rigwarden/testing';
import { CgminerSimulator } from '../cgminer-simulator';
import { StratumPoolSimulator } from './stratum-pool.simulator';


async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await waitFor(what, () => (cond() ? true : undefined), timeoutMs, 10);
}

describe('StratumPoolSimulator', () => {
  it('speaks stratum v1: subscribe, authorize, set_difficulty, notify, submit', async () => {
    const pool = new StratumPoolSimulator({ notifyIntervalMs: 50, difficulty: 1024, lifetimeMs: 10_000 });
    const { host, port } = await pool.start();
    const socket = connect({ host, port });
    const lines: Record<string, unknown>[] = [];
    let buffer = '';
    socket.on('data', (c) => {
      buffer += c.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        buffer = buffer.slice(nl + 1);
      }
    });
    try {
      await new Promise((r) => socket.once('connect', r));
      socket.write('{"id":1,"method":"mining.subscribe","params":["test/1"]}\n{"id":2,"method":"mining.authorize","params":["w1","x"]}\n');
      await until(() => lines.some((l) => l['method'] === 'mining.notify'), 2000, 'a job');
      expect(lines[0]).toMatchObject({ id: 1, error: null });
      expect(lines[1]).toEqual({ id: 2, result: true, error: null });
      expect(lines[2]).toEqual({ id: null, method: 'mining.set_difficulty', params: [1024] });
      const job = lines.find((l) => l['method'] === 'mining.notify')!;
      socket.write(`{"id":3,"method":"mining.submit","params":["w1","${(job['params'] as string[])[0]}","00000000","5f5e1000","deadbeef"]}\n`);
      await until(() => lines.some((l) => l['id'] === 3), 2000, 'the submit answer');
      expect(lines.find((l) => l['id'] === 3)).toEqual({ id: 3, result: true, error: null });
      expect(pool.shares).toEqual([{ worker: 'w1', jobId: (job['params'] as string[])[0], accepted: true }]);
    } finally {
      socket.destroy();
      await pool.stop();
    }
  });
});

describe('a simulated miner mining against stratum pools', () => {
  it('sees a silent or killed pool as Dead, fails over at once and fails back after a stable period', async () => {
    const primary = new StratumPoolSimulator({ notifyIntervalMs: 40, lifetimeMs: 15_000 });
    const backup = new StratumPoolSimulator({ notifyIntervalMs: 40, lifetimeMs: 15_000 });
    const a = await primary.start();
    const b = await backup.start();
    const sim = new CgminerSimulator({ lifetimeMs: 15_000 });
    sim.state.pools = [
      { url: a.url, user: 'farm.w1', status: 'Alive', priority: 0, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 },
      { url: b.url, user: 'farm.w1', status: 'Alive', priority: 1, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 },
    ];
    sim.state.accepted = 0;
    await sim.start();
    sim.startMining({ silenceTimeoutMs: 250, failbackStableMs: 500, shareIntervalMs: 30, tickMs: 20, reconnectMs: 50 });
    try {
      await until(() => sim.state.pools[0]!.accepted >= 3, 3000, 'shares on the primary');
      expect(sim.state.activePool).toBe(0);
      expect(sim.state.accepted).toBe(sim.state.pools[0]!.accepted);

      primary.silence();
      const silencedAt = Date.now();
      await until(() => sim.state.activePool === 1, 3000, 'failover after silence');
      expect(Date.now() - silencedAt).toBeGreaterThanOrEqual(200); // not before the silence timeout
      expect(sim.state.pools[0]!.status).toBe('Dead');
      await until(() => sim.state.pools[1]!.accepted >= 2, 3000, 'shares on the backup');

      primary.resume();
      await until(() => sim.state.pools[0]!.status === 'Alive', 3000, 'the primary alive again');
      const aliveAt = Date.now();
      expect(sim.state.activePool).toBe(1); // not yet: fail-back waits for a stable period
      await until(() => sim.state.activePool === 0, 3000, 'fail-back');
      expect(Date.now() - aliveAt).toBeGreaterThanOrEqual(400);

      await primary.kill();
      await until(() => sim.state.activePool === 1, 3000, 'failover after a kill');
      expect(sim.state.pools[0]!.status).toBe('Dead');
    } finally {
      await sim.stop();
      await primary.stop();
      await backup.stop();
    }
  });
});
