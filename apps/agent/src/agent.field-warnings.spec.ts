/** A real miner's impossible values through the whole agent: left out of the published snapshot, counted in the status. */
import '@rigwarden/drivers-cgminer';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { AgentStatus, BoardStatus, RigTopics, decodeAgentStatus, decodeSnapshot, type MinerSnapshot } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { FixtureReplaySimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from './agent';
import { parseAgentConfig } from './config/agent-config';

jest.setTimeout(30_000);

/** cgminer 2.11.4's recorded replies (exact bytes, see libs/drivers/cgminer/testdata/real-sessions/SOURCE.md) by command. */
function cgminer2Replies(): Record<string, string> {
  const dir = join(__dirname, '..', '..', '..', 'libs', 'drivers', 'cgminer', 'testdata', 'real-sessions', 'cgminer-2.11.4');
  const replies: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.request')).sort()) {
    const m = /^\{"command":"([a-z]+)"\}$/.exec(readFileSync(join(dir, file), 'latin1'));
    const response = readFileSync(join(dir, file.replace(/\.request$/, '.response')), 'latin1');
    if (m && response.length > 0 && replies[m[1]!] === undefined) replies[m[1]!] = response.replace(/\u0000$/, '');
  }
  return replies;
}

describe('agent: values that cannot be true', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: FixtureReplaySimulator;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    sim = new FixtureReplaySimulator({ replies: cgminer2Replies(), joinCommands: false });
  });
  afterAll(async () => {
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  it('cgminer 2.11.4: the phantom CPU is flagged, its values are refused and counted per rig and field, every snapshot is published whole', async () => {
    const { port } = await sim.start();
    const topics = new RigTopics(broker.topicRoot);
    const watcher = await mqtt.connectAsync(broker.url, { clientId: `w-${broker.topicRoot}` });
    const snapshots: MinerSnapshot[] = [];
    const statuses: AgentStatus[] = [];
    await watcher.subscribeAsync([topics.allRigs('telemetry'), topics.agentStatus('fw-agent')]);
    watcher.on('message', (topic, p) => {
      if (p.length === 0) return;
      if (topic === topics.agentStatus('fw-agent')) statuses.push(decodeAgentStatus(p));
      else snapshots.push(decodeSnapshot(p)); // the controller's decoder: it threw on the whole snapshot before
    });
    const agent = new Agent(parseAgentConfig({
      agent: { id: 'fw-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `fw-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 300 },
      status: { intervalMs: 1000 },
      miners: [{ rig: 'cg2', host: '127.0.0.1', port, id: 'm1', driver: 'auto' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    try {
      await agent.start();
      await waitFor('three snapshots', () => snapshots.length >= 3 || undefined);
      const status = await waitFor('refusals counted over several polls', () => {
        const last = statuses.at(-1);
        const count = last?.fieldWarnings.find((w) => w.rigId === 'cg2' && w.field === 'devs[1].Accepted')?.count ?? 0;
        return count >= 2 ? last : undefined;
      });
      expect(status.fieldWarnings.map((w) => [w.field, w.reason])).toEqual(expect.arrayContaining([
        ['devs[1].Last Share Time', 'out of range'], ['devs[1].Difficulty Rejected', 'out of range'], ['devs[1].Accepted', 'implausible'],
      ]));
    } finally {
      await agent.stop();
      await watcher.endAsync();
    }
    const s = snapshots[0]!;
    expect(s).toMatchObject({ rigId: 'cg2', software: 'cgminer', softwareVersion: '2.11.4' });
    expect(s.pools).toHaveLength(2);
    expect(s.boards[1]!.phantomReason).toContain('Accepted 1701146671 after');
    expect(s.boards[1]!.status).not.toBe(BoardStatus.BOARD_STATUS_DEAD);
    expect(s.fieldWarnings.length).toBeGreaterThan(0);
  });
});
