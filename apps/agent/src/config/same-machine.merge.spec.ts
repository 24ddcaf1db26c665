/**
 * A stock Antminer listed twice for one rig, its web UI (antminer-web) and its cgminer API (antminer on the same
 * host), is read as one miner. Before, the agent published two readings of the machine under two miner ids, and the
 * controller's one history per rig alternated between them (seen end to end: fans 4000 rpm and 95 TH/s from the web,
 * 5479 rpm and 90.5 TH/s from the API, poll after poll), two sources of evidence that need not agree. Real protocols:
 * the web simulator and the cgminer simulator on loopback ports, the agent's wiring (buildMiners), the real drivers.
 */
import '@rigwarden/drivers-cgminer';
import '@rigwarden/drivers-antminer-web';
import { AntminerWebSimulator, CgminerSimulator } from '@rigwarden/simulators';
import { buildMiners } from '../agent';
import { parseAgentConfig } from './agent-config';
import { mergeSameMachineEntries } from './same-machine.merge';

jest.setTimeout(20_000);

const config = (miners: unknown[]) => parseAgentConfig({ agent: { id: 'a', dataDir: '/tmp/unused-same-machine' }, miners }, '/tmp/agent.yaml');

describe('one machine, one reading: a stock Antminer listed with its web UI and its cgminer API', () => {
  let web: AntminerWebSimulator;
  let api: CgminerSimulator;
  let webPort = 0;
  let apiPort = 0;

  beforeAll(async () => {
    web = new AntminerWebSimulator({ personality: 's19-2020', lifetimeMs: 20_000 });
    api = new CgminerSimulator({ dialect: 'antminer' });
    webPort = (await web.start()).port;
    apiPort = (await api.start()).port;
  });
  afterAll(async () => {
    await web?.stop();
    await api?.stop();
  });

  it('builds one miner whose reading merges both sources, each value from the better one', async () => {
    const miners = buildMiners(config([
      { rig: 's19-01', driver: 'antminer-web', host: '127.0.0.1', port: webPort },
      { rig: 's19-01', driver: 'antminer', host: '127.0.0.1', port: apiPort, expectedHashrateHs: 95e12 },
    ]));
    expect(miners.map((m) => [m.rigId, m.minerId, m.driver.name])).toEqual([['s19-01', `127.0.0.1:${webPort}`, 'antminer-web']]);
    const reading = await miners[0]!.driver.collect({ signal: new AbortController().signal, deadlineMs: 10_000 });
    // The web names the model and build; the cgminer API gives the pools with their counters: one reading with both.
    expect(reading.driver).toBe('antminer-web+cgminer-api');
    expect(reading.model).toBe('Antminer S19');
    expect(reading.pools.slice(0, api.state.pools.length).map((p) => [p.url, p.user])).toEqual(api.state.pools.map((p) => [p.url, p.user]));
  });

  it('keeps the operator\'s other settings of both entries and leaves other machines alone', () => {
    const { miners, notes } = mergeSameMachineEntries(config([
      { rig: 'r1', driver: 'antminer-web', host: '10.0.0.5', options: { user: 'root', password: 'secret' } },
      { rig: 'r1', driver: 'antminer', host: '10.0.0.5', port: 4028, expectedHashrateHs: 95e12 },
      // Another machine of the same rig, another rig on the same host: each its own miner.
      { rig: 'r1', driver: 'cgminer', host: '10.0.0.6' },
      { rig: 'r2', driver: 'cgminer', host: '10.0.0.5', port: 4029 },
      // Already merged (apiPort set to another port): the separate entry is a different API, kept.
      { rig: 'r3', driver: 'antminer-web', host: '10.0.0.7', options: { apiPort: 4029 } },
      { rig: 'r3', driver: 'antminer', host: '10.0.0.7', port: 4028 },
    ]).miners);
    expect(miners.map((m) => [m.rig, m.driver, m.host, m.port, m.options])).toEqual([
      ['r1', 'antminer-web', '10.0.0.5', 80, { user: 'root', password: 'secret', apiPort: 4028 }],
      ['r1', 'cgminer', '10.0.0.6', 4028, {}],
      ['r2', 'cgminer', '10.0.0.5', 4029, {}],
      ['r3', 'antminer-web', '10.0.0.7', 80, { apiPort: 4029 }],
      ['r3', 'antminer', '10.0.0.7', 4028, {}],
    ]);
    expect(miners[0]!.expectedHashrateHs).toBe(95e12);
    expect(notes).toEqual([expect.stringContaining('rig r1: miner 10.0.0.5:4028 (driver antminer)')]);
  });
});
