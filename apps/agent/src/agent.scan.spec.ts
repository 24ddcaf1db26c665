/** Miners found by scan ranges become rigs of their own, polled and published like configured ones. */
import '@rigwarden/drivers-cgminer';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { RigTopics, decodeSnapshot, type MinerSnapshot } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from './agent';
import { parseAgentConfig } from './config/agent-config';

jest.setTimeout(30_000);

describe('agent scan ranges', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    sim = new CgminerSimulator();
    await sim.start();
  });
  afterAll(async () => {
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  it('finds a miner in a range, names its rig after its address, and publishes its telemetry', async () => {
    const port = sim.address().port;
    const topics = new RigTopics(broker.topicRoot);
    const watcher = await mqtt.connectAsync(broker.url, { clientId: `w-${broker.topicRoot}` });
    const got: MinerSnapshot[] = [];
    await watcher.subscribeAsync(topics.allRigs('telemetry'));
    watcher.on('message', (_t, p) => got.push(decodeSnapshot(p)));
    const config = parseAgentConfig({
      agent: { id: 'scan-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `scan-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 300 },
      scan: [{ ranges: ['127.0.0.1'], port, rigPrefix: 'found-', intervalMinutes: 0 }],
    }, join(dir.path, 'agent.yaml'), {});
    const agent = new Agent(config, systemClock, createLogger('agent', { level: 'error' }));
    try {
      await agent.start();
      await agent.scanOnce();
      const snap = await waitFor('telemetry of the found rig', () => got.find((s) => s.rigId === 'found-127-0-0-1'), 15_000);
      expect(snap.minerId).toBe(`127.0.0.1:${port}`);
      expect(snap.model).toBe(sim.state.model);
      await agent.scanOnce(); // a second pass does not add it twice
      expect(agent.status(true).rigIds).toEqual(['found-127-0-0-1']);
    } finally {
      await agent.stop();
      await watcher.endAsync();
    }
  });
});
