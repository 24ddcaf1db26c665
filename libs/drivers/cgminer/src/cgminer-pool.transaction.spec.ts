import { WriteTransactionError, type CollectContext, type ControlResult, type PoolSpec } from '@rigwarden/drivers-core';
import { CgminerClient } from './cgminer.client';
import { CgminerPoolControl, PlainChannel } from './cgminer-pool.control';
import { CgminerPoolsTestServer, type PoolProgram, type TestPool } from './testing/cgminer-pools.test-server';

const ctx = (): CollectContext => ({ signal: AbortSignal.timeout(10_000), deadlineMs: 10_000 });
const A = { url: 'stratum+tcp://127.0.0.1:3333', user: 'worker-a' };
const B = { url: 'stratum+tcp://127.0.0.1:3334', user: 'worker-b' };
const C = { url: 'stratum+tcp://127.0.0.1:3335', user: 'worker-c', password: 'x' };

async function withMiner(
  program: PoolProgram, pools: Array<Partial<TestPool> & { url: string; user: string }>,
  body: (server: CgminerPoolsTestServer, setPools: (wanted: PoolSpec[]) => Promise<ControlResult>) => Promise<void>,
): Promise<void> {
  const server = new CgminerPoolsTestServer(program, pools);
  const endpoint = await server.start();
  try {
    const client = new CgminerClient({ totalTimeoutMs: 3000 });
    const control = new CgminerPoolControl(client, endpoint, new PlainChannel(client, endpoint));
    await body(server, (wanted) => control.setPools(wanted, ctx()));
  } finally {
    await server.stop();
  }
}

const commands = (r: ControlResult): string[] => (r.steps ?? []).map((s) => `${s.command}${s.parameter === undefined ? '' : ` ${s.parameter}`}${s.ok ? '' : ' (failed)'}`);
const failure = (r: ControlResult): WriteTransactionError => {
  if (r.ok) throw new Error('expected a failure');
  expect(r.error).toBeInstanceOf(WriteTransactionError);
  return r.error as WriteTransactionError;
};

describe('set-pools as a transaction on cgminer-family firmware', () => {
  it('cgminer 4.11.1: adds before switching, reorders (the miner moves to the new first pool), removes the rest, verifies', async () => {
    await withMiner('cgminer-4.11.1', [A, B], async (server, setPools) => {
      const result = await setPools([C, A]);
      expect(result).toMatchObject({ ok: true, action: 'setpools' });
      expect(commands(result)).toEqual(['addpool stratum+tcp://127.0.0.1:3335,worker-c,x', 'poolpriority 2,0,1', 'removepool 1']);
      expect(server.writes()).toEqual([
        '{"command":"addpool","parameter":"stratum+tcp://127.0.0.1:3335,worker-c,x"}',
        '{"command":"poolpriority","parameter":"2,0,1"}',
        '{"command":"removepool","parameter":"1"}',
      ]);
      expect(server.byPriority()).toEqual([C.url, A.url]);
      expect(server.pools[server.current]!.url).toBe(C.url);
      expect(server.requests).toContain('{"command":"lcd"}'); // the pool in use, from the firmware
    });
  });

  it('the pool in use is to go and the firmware says so (only one Stratum Active): switch to a wanted pool before removing it', async () => {
    await withMiner('bfgminer-5.5.0', [A, B], async (server, setPools) => {
      server.switchOnPriority = false; // bfgminer waits --failover-switch-delay before moving
      const result = await setPools([B, C]);
      expect(result).toMatchObject({ ok: true });
      expect(commands(result)).toEqual(['addpool stratum+tcp://127.0.0.1:3335,worker-c,x', 'poolpriority 1,2,0', 'switchpool 1', 'removepool 0']);
      expect(server.byPriority()).toEqual([B.url, C.url]);
    });
  });

  it('several pools Stratum Active and no lcd: removepool of the active pool is refused (Code 67), then it switches and removes', async () => {
    await withMiner('cgminer-2.11.4', [{ ...A, stratumActive: true }, { ...B, stratumActive: true }], async (server, setPools) => {
      server.switchOnPriority = false;
      const result = await setPools([B]);
      expect(result).toMatchObject({ ok: true });
      expect(commands(result)).toEqual(['poolpriority 1,0', 'removepool 0 (failed)', 'switchpool 1', 'removepool 0']);
      expect(result.steps![1]!.message).toContain("Cannot remove active pool 0:'stratum+tcp://127.0.0.1:3333' (STATUS E, Code 67)");
      expect(server.byPriority()).toEqual([B.url]);
      // 2.11.4 answered lcd with Code 14 once: not asked again.
      expect(server.requests.filter((r) => r === '{"command":"lcd"}')).toHaveLength(1);
    });
  });

  it('a failure half-way (the connection closed with no reply) restores the previous pools and reports both', async () => {
    await withMiner('cgminer-4.11.1', [A, B], async (server, setPools) => {
      let once = true;
      server.fault = (command) => (command === 'removepool' && once ? ((once = false), Buffer.alloc(0)) : undefined);
      const result = await setPools([C, A]);
      const err = failure(result);
      expect(err.kind).toBe('connection_refused_by_api');
      expect(err.context.command).toBe('removepool');
      expect(err.restore.result).toBe('restored');
      expect(err.message).toContain('connection closed without a reply');
      expect(err.message).toContain(`restored the previous pools: ${A.url} (${A.user}), ${B.url} (${B.user})`);
      expect(server.byPriority()).toEqual([A.url, B.url]);
      expect(server.pools[server.current]!.url).toBe(A.url);
      expect(commands(result)).toEqual([
        'addpool stratum+tcp://127.0.0.1:3335,worker-c,x', 'poolpriority 2,0,1', 'removepool 1 (failed)',
        'poolpriority 0,1,2', 'removepool 2',
      ]);
      expect(result.steps!.slice(3).every((s) => s.message.startsWith('restore: '))).toBe(true);
    });
  });

  it('a refusal after a pool was removed re-adds it (password "x": the miner never reports one) and says so', async () => {
    await withMiner('cgminer-4.11.1', [A, B], async (server, setPools) => {
      // B (pool 1) is removed, then removing A (pool 0 by then) fails.
      server.fault = (command, parameter) => (command === 'removepool' && parameter === '0'
        ? Buffer.from('{"STATUS":[{"STATUS":"E","When":1795320355,"Code":999,"Msg":"Something failed","Description":"cgminer 4.11.1"}],"id":1}\u0000', 'latin1')
        : undefined);
      const result = await setPools([C]);
      const err = failure(result);
      expect(err.context).toMatchObject({ command: 'removepool', statusLetter: 'E', statusCode: 999 });
      expect(err.restore.result).toBe('restored');
      expect(err.message).toContain('Something failed (STATUS E, Code 999)');
      expect(err.message).toContain(`${B.url} re-added with password "x"`);
      expect(server.byPriority()).toEqual([A.url, B.url]);
    });
  });

  it('verification mismatch (the firmware said yes to poolpriority and did nothing) is a failure, and the pools are restored', async () => {
    await withMiner('cgminer-4.11.1', [A, B], async (server, setPools) => {
      server.fault = (command, _p, s) => (command === 'poolpriority' && s.pools.length === 2
        ? Buffer.from('{"STATUS":[{"STATUS":"S","When":1795320352,"Code":73,"Msg":"Changed pool priorities","Description":"cgminer 4.11.1"}],"id":1}\u0000', 'latin1')
        : undefined);
      const result = await setPools([B, A]);
      const err = failure(result);
      expect(err.message).toContain('verification failed: the miner reports stratum+tcp://127.0.0.1:3333 (worker-a), stratum+tcp://127.0.0.1:3334 (worker-b)');
      expect(err.restore).toMatchObject({ result: 'restored' });
      expect(server.byPriority()).toEqual([A.url, B.url]);
    });
  });

  it('bfgminer dies in the middle of the pool commands: the failure and the failed restore are both reported, nothing throws', async () => {
    await withMiner('bfgminer-5.5.0', [A, B], async (server, setPools) => {
      server.fault = (command, _p, s) => {
        if (command !== 'poolpriority') return undefined;
        void s.die(); // glibc "free(): invalid pointer": the socket closes with no bytes, then ECONNREFUSED
        return Buffer.alloc(0);
      };
      const result = await setPools([C, A]);
      const err = failure(result);
      expect(err.kind).toBe('connection_refused_by_api');
      expect(err.restore.result).toBe('failed');
      expect(err.message).toMatch(/poolpriority: connection closed without a reply.*; restoring the previous pools .* failed: .*cannot connect/);
      expect(err.message).toContain('the miner cannot be read now');
    });
  });

  it('a read-only API (Code 45): the first write is refused, nothing changed, no restore is tried', async () => {
    await withMiner('cgminer-4.11.1', [A, B], async (server, setPools) => {
      server.readOnly = true;
      const result = await setPools([C, A]);
      const err = failure(result);
      expect(err).toMatchObject({ kind: 'access_denied', context: { statusCode: 45, command: 'addpool' } });
      expect(err.restore.result).toBe('not-needed');
      expect(err.message).toContain('the miner refused the first change');
      expect(server.writes()).toEqual(['{"command":"addpool","parameter":"stratum+tcp://127.0.0.1:3335,worker-c,x"}']);
    });
  });

  it('bad lists are refused before anything is sent', async () => {
    await withMiner('cgminer-4.11.1', [A, B], async (server, setPools) => {
      expect(await setPools([])).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(await setPools([A, A])).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(await setPools([{ url: ' ', user: 'u' }])).toMatchObject({ ok: false, error: { kind: 'bad_request' } });
      expect(server.requests).toEqual([]);
    });
  });
});
