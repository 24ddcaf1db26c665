import { CgminerClient, decodeReply } from '../cgminer.client';
import { CgminerPoolsTestServer, type PoolProgram } from './cgminer-pools.test-server';
import { loadSession, replyText } from './recorded-session';

/**
 * The pool-rules test server against the real programs: the recorded pool commands 40-53 (switchpool, addpool,
 * poolpriority, removepool of the active pool, disable/enable, switch back, remove) are sent to the server in the same
 * order, and every STATUS and every pools reply must match what cgminer 4.11.1, cgminer 2.11.4 and bfgminer 5.5.0 sent.
 */
const CASES: [PoolProgram, string, string][] = [
  ['cgminer-4.11.1', 'cgminer-4.11.1', 'worker'],
  ['cgminer-2.11.4', 'cgminer-2.11.4', 'cgminer2'],
  ['bfgminer-5.5.0', 'bfgminer-5.5.0/pool-ops-on-fresh-process', 'bfgminer'],
];

type Reply = Record<string, unknown> & { STATUS?: Array<Record<string, unknown>>; POOLS?: Array<Record<string, unknown>> };
const status = (r: Reply): unknown[] => (r.STATUS ?? []).map((s) => [s['STATUS'], s['Code'], s['Msg'], s['Description']]);
const pools = (r: Reply): unknown[] => (r.POOLS ?? []).map((p) => [p['POOL'], p['URL'], p['User'], p['Status'], p['Priority'], p['Stratum Active']]);

describe('the pool-rules test server behaves as the recorded programs did', () => {
  it.each(CASES)('%s: steps 40-53 give the recorded STATUS and pools', async (program, folder, user) => {
    const server = new CgminerPoolsTestServer(program, [
      { url: 'stratum+tcp://127.0.0.1:3333', user: `${user}-a` }, { url: 'stratum+tcp://127.0.0.1:3334', user: `${user}-b` },
    ]);
    const endpoint = await server.start();
    const client = new CgminerClient();
    try {
      const steps = loadSession(folder).filter((s) => Number(s.name.slice(0, 2)) >= 40 && Number(s.name.slice(0, 2)) <= 53);
      expect(steps).toHaveLength(14);
      for (const s of steps) {
        const expected = decodeReply(replyText(s), { host: 'recorded', port: 0 }) as Reply;
        const raw = await client.exchange(endpoint, s.request, s.name);
        const actual = decodeReply(raw.toString('latin1'), endpoint) as Reply;
        expect([s.name, status(actual)]).toEqual([s.name, status(expected)]);
        expect([s.name, pools(actual)]).toEqual([s.name, pools(expected)]);
      }
    } finally {
      await server.stop();
    }
  });
});
