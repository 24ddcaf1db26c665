/**
 * A controller restart in the middle of a command, with the real agent and a simulated miner: the first controller
 * stores and publishes a switch-pool command and goes away; the agent runs it; its result never reaches the second
 * controller (a different MQTT session), which resumes the command from the table and publishes it again under the
 * same id. The agent answers the repeat from its journal: the miner is switched exactly once, and the second
 * controller records the success.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { SecretBytes } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { CommandDispatcher } from '../apps/controller/src/commands/command-dispatcher.service';
import { CommandRepository } from '../apps/controller/src/commands/command-repository';
import { commandsTestModule } from '../apps/controller/src/commands/command-test.harness';

jest.setTimeout(30_000);

describe('a controller restart mid-command', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let keysFile: string;
  let port: number;
  const apps: TestingModule[] = [];
  const agents: Agent[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    sim = new CgminerSimulator();
    ({ port } = await sim.start());
    keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'cr-1': [{ id: 'k1', secret: SecretBytes.generate().expose().toString('base64url') }] } }));
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    for (const app of apps) await app.close();
    await sim.stop();
    await broker.stop();
    dir.remove();
  });

  async function startAgent(): Promise<Agent> {
    const agent = new Agent(parseAgentConfig({
      agent: { id: 'cr-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `cr-agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 60_000 },
      security: { keysFile },
      miners: [{ rig: 'cr-1', host: '127.0.0.1', port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    agents.push(agent);
    await agent.start();
    await waitFor('the agent to connect', () => (agent.publisher.connected ? true : undefined));
    return agent;
  }

  async function startController(clientId: string): Promise<TestingModule> {
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `${clientId}-${broker.topicRoot}`,
    });
    config.commands = { retryInitialMs: 300, retryMaxMs: 1000, tickMs: 50 };
    const app = await commandsTestModule(config);
    apps.push(app);
    await app.init();
    return app;
  }

  const switchRequests = (): number => sim.requests.filter((r) => r.toString().includes('switchpool')).length;

  it('switches the miner once and records the result in the second controller', async () => {
    // The agent's session exists on the broker, then the agent goes away: commands wait for it there.
    await (await startAgent()).stop();
    agents.length = 0;
    expect(sim.state.activePool).toBe(0);

    const first = await startController('ctl-a');
    const sent = await first.get(CommandDispatcher).dispatch({
      rigId: 'cr-1', minerId: 'm1', payload: { $case: 'switchPool', value: { poolIndex: 1 } }, reason: 'restart test', requestedBy: 'operator:test', timeoutMs: 20_000,
    });
    expect(sent.state).toBe('SENT');
    await first.close();
    apps.length = 0;

    const agent = await startAgent();
    await waitFor('the miner to switch', () => (sim.state.activePool === 1 ? true : undefined), 10_000);
    await agent.commands.idle();
    expect(agent.commands.counters.executed).toBe(1);

    const second = await startController('ctl-b');
    const done = await second.get(CommandDispatcher).waitFor(sent.id);
    expect(done).toMatchObject({ id: sent.id, state: 'SUCCEEDED', reason: 'restart test' });
    expect(done!.attempts).toBeGreaterThanOrEqual(2);
    expect(done!.cause).toMatch(/switch/i);
    await agent.commands.idle();
    expect(switchRequests()).toBe(1);
    expect(agent.commands.counters.executed).toBe(1);
    expect(agent.commands.counters.duplicates).toBeGreaterThanOrEqual(1);
    expect(await second.get(CommandRepository).get(sent.id)).toMatchObject({ state: 'SUCCEEDED' });
  });
});
