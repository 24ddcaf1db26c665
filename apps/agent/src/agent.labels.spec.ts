/** Operator labels travel in each rig's retained state: agent-wide ones, overridden per rig, in birth and last will. */
import '@rigwarden/drivers-cgminer';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { RigState, RigTopics, decodeRigState } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from './agent';
import { parseAgentConfig } from './config/agent-config';

jest.setTimeout(30_000);

describe('agent labels', () => {
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

  it('publishes each rig\'s labels in its retained state, online and at stop', async () => {
    const port = sim.address().port;
    const topics = new RigTopics(broker.topicRoot);
    const watcher = await mqtt.connectAsync(broker.url, { clientId: `w-${broker.topicRoot}` });
    const states: RigState[] = [];
    await watcher.subscribeAsync(topics.allRigs('state'));
    watcher.on('message', (_t, p) => { if (p.length > 0) states.push(decodeRigState(p)); });
    const agent = new Agent(parseAgentConfig({
      agent: { id: 'label-agent', dataDir: join(dir.path, 'agent'), labels: { site: 'farm-a', row: 1 } },
      mqtt: { url: broker.url, clientId: `labels-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 500 },
      rigs: { 'lab-a': { labels: { row: '2', model: 'S19j Pro' } } },
      miners: [{ rig: 'lab-a', host: '127.0.0.1', port, id: 'm1' }, { rig: 'lab-b', host: '127.0.0.1', port, id: 'm2' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    try {
      await agent.start();
      const a = await waitFor('lab-a online', () => states.find((s) => s.rigId === 'lab-a' && s.online));
      const b = await waitFor('lab-b online', () => states.find((s) => s.rigId === 'lab-b' && s.online));
      expect(a.labels).toEqual({ site: 'farm-a', row: '2', model: 'S19j Pro' });
      expect(b.labels).toEqual({ site: 'farm-a', row: '1' });
    } finally {
      await agent.stop();
    }
    const offline = await waitFor('lab-a offline', () => states.find((s) => s.rigId === 'lab-a' && !s.online));
    expect(offline.labels).toEqual({ site: 'farm-a', row: '2', model: 'S19j Pro' });
    await watcher.endAsync();
  });
});
