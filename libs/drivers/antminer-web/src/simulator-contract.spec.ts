import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AntminerWebSimulator } from '@rigwarden/simulators';
import { AntminerWebClient } from './antminer-web.client';
import { parseFirmwareJson } from './firmware-json';

/**
 * The simulator must not drift from the firmware: each endpoint it renders has the key set of the recorded replies
 * (testdata/), at every level the driver reads.
 */
const TESTDATA = join(__dirname, '..', 'testdata');
type Obj = Record<string, unknown>;
const recorded = (rel: string): Obj => parseFirmwareJson(readFileSync(join(TESTDATA, rel), 'utf8')).value as Obj;
const keys = (o: unknown): string[] => Object.keys(o as Obj).sort();
const union = (...lists: string[][]): string[] => [...new Set(lists.flat())].sort();

describe('AntminerWebSimulator renders the recorded reply shapes', () => {
  let sim: AntminerWebSimulator;
  afterEach(() => sim.stop());

  async function fetchAll(personality: string): Promise<Record<string, Obj>> {
    sim = new AntminerWebSimulator({ personality, lifetimeMs: 10_000 });
    const client = new AntminerWebClient({ ...(await sim.start()), user: 'root', password: 'root' });
    const out: Record<string, Obj> = {};
    for (const endpoint of ['get_system_info.cgi', 'get_miner_conf.cgi', 'stats.cgi', 'summary.cgi']) {
      const res = await client.request({ method: 'GET', endpoint, timeoutMs: 2_000 });
      if (res.status === 200) out[endpoint] = parseFirmwareJson(res.body).value as Obj;
    }
    return out;
  }

  it('s21-2024 against the S21 2024 recordings (stats keys as the S19 2023 and S19 Pro+ 2023 ones have them)', async () => {
    const sim21 = await fetchAll('s21-2024');
    expect(keys(sim21['get_system_info.cgi'])).toEqual(keys(recorded('antminer-s21-2024-07-11/get_system_info.json')));
    expect(keys(sim21['get_miner_conf.cgi'])).toEqual(keys(recorded('antminer-s21-2024-07-11/get_miner_conf__unknown-model.json')));
    const stats = [recorded('antminer-s21-2024-07-11/stats.json'), recorded('antminer-s19-2023-11-17/stats.json'), recorded('antminer-s19proplus-uart_trans.1.3-2023-03-11/stats.json')];
    const simStats = sim21['stats.cgi']!;
    expect(keys(simStats)).toEqual(keys(stats[0]));
    expect(keys(simStats['STATUS'])).toEqual(keys(stats[0]!['STATUS']));
    expect(keys(simStats['INFO'])).toEqual(keys(stats[0]!['INFO']));
    const s0 = (simStats['STATS'] as Obj[])[0]!;
    expect(union(keys(s0), ...stats.map((s) => keys((s['STATS'] as Obj[])[0])))).toEqual(union(...stats.map((s) => keys((s['STATS'] as Obj[])[0]))));
    const chainKeys = stats.map((s) => keys(((s['STATS'] as Obj[])[0]!['chain'] as Obj[])[0]));
    expect(union(keys((s0['chain'] as Obj[])[0]), ...chainKeys)).toEqual(union(...chainKeys));
    const summary = recorded('antminer-s21-2024-07-11/summary.json');
    const simSummary = sim21['summary.cgi']!;
    expect(keys(simSummary)).toEqual(keys(summary));
    expect(Array.isArray(simSummary['STATUS'])).toBe(true);
    expect(keys((simSummary['SUMMARY'] as Obj[])[0])).toEqual(keys((summary['SUMMARY'] as Obj[])[0]));
  });

  it('s19-2020, t17plus-2020 and l3plus-2017 have the recorded key sets of their generation', async () => {
    expect(keys((await fetchAll('s19-2020'))['get_miner_conf.cgi'])).toEqual(keys(recorded('antminer-s19-49.0.1.3-2020-12-11/get_miner_conf__normal.json')));
    await sim.stop();
    const t17 = await fetchAll('t17plus-2020');
    expect(keys(t17['get_miner_conf.cgi'])).toEqual(keys(recorded('antminer-t17plus-b023.0.1.3-2020-06-02/get_miner_conf.json')));
    expect(t17['stats.cgi']).toBeUndefined();
    await sim.stop();
    const l3 = await fetchAll('l3plus-2017');
    expect(keys(l3['get_system_info.cgi'])).toEqual(keys(recorded('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_system_info.json')));
    expect(keys(l3['get_miner_conf.cgi'])).toEqual(keys(recorded('antminer-l3plus-cgminer-4.9.0-2017-08-25/get_miner_conf.json')));
  });
});
