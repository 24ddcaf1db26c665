/**
 * The built agent process and signed commands: a command queued while the agent is
 * down runs once it is back; an agent killed with SIGKILL and restarted does not
 * repeat a command's side effect when the same envelope arrives again.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandEnvelope, CommandOutcome, RigTopics, decodeCommandResult, encodeJson, type CommandResult } from '@rigwarden/protocol';
import { CommandSigner, KeyRing, SecretBytes } from '@rigwarden/security';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, startTestBroker, waitFor, type RunningProcess, type TempDir, type TestBroker } from '@rigwarden/testing';

const root = join(__dirname, '..');
jest.setTimeout(60_000);

describe('agent process: commands across SIGKILL', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let client: MqttClient;
  let agent: RunningProcess | undefined;
  let config: string;
  let topics: RigTopics;
  const results: CommandResult[] = [];
  const secret = SecretBytes.generate();
  const ring = new KeyRing();
  ring.add('kill-rig', { id: 'k1', secret, created: 0, notBefore: 0, expires: Number.MAX_SAFE_INTEGER });
  const signer = new CommandSigner(ring, { ttlMs: 25_000 });

  const startAgent = (): RunningProcess => startNode(join(root, 'bin/rigwarden-agent.js'), ['run', '--config', config], { MQTT_URL: broker.url, LOG_LEVEL: 'info' });
  const send = (e: CommandEnvelope): Promise<unknown> => client.publishAsync(topics.rig('kill-rig', 'commands'), encodeJson(CommandEnvelope, e), { qos: 1 });
  const switches = (): number => sim.requests.filter((r) => r.toString().includes('switchpool')).length;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/agent/main.js'))) await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
    broker = await startTestBroker();
    topics = new RigTopics(broker.topicRoot);
    dir = makeTempDir('rigwarden-e2e-');
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'kill-rig': [{ id: 'k1', secret: secret.expose().toString('base64url') }] } }));
    config = join(dir.path, 'agent.yaml');
    writeFileSync(config, [
      'agent:', '  id: kill-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      // The test plays the controller and sends no ingest receipts: the broker's acknowledgement is enough here.
      'mqtt:', `  clientId: kill-agent-${broker.topicRoot}`, `  topicRoot: ${broker.topicRoot}`, '  confirm: broker',
      'poll:', '  intervalMs: 2000',
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:', '  - rig: kill-rig', '    id: m1', '    host: 127.0.0.1', `    port: ${port}`, '',
    ].join('\n'));
    client = await mqtt.connectAsync(broker.url, { clientId: `kill-ctl-${broker.topicRoot}` });
    await client.subscribeAsync(topics.rig('kill-rig', 'results'), { qos: 1 });
    client.on('message', (_t, payload) => results.push(decodeCommandResult(payload)));
  });

  afterAll(async () => {
    await agent?.stop();
    await client?.endAsync();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  it('never repeats a side effect after SIGKILL, and runs a command that waited for it', async () => {
    agent = startAgent();
    await waitFor('the agent to connect', () => (agent!.output().includes('agent running') ? true : undefined), 15_000);
    const first = signer.sign({ commandId: 'kill-1', rigId: 'kill-rig', minerId: 'm1', payload: { $case: 'switchPool', value: { poolIndex: 1 } }, reason: 'e2e' }, Date.now());
    await send(first);
    await waitFor('kill-1 to succeed', () => results.find((r) => r.commandId === 'kill-1' && r.outcome === CommandOutcome.COMMAND_OUTCOME_SUCCEEDED));
    expect(sim.state.activePool).toBe(1);

    expect(await agent.stop('SIGKILL')).toBe('SIGKILL');
    sim.state.activePool = 0; // someone switched back by hand meanwhile
    const before = switches();

    // While the agent is dead: a new command waits in the broker (persistent session).
    const waiting = signer.sign({ commandId: 'kill-2', rigId: 'kill-rig', minerId: 'm1', payload: { $case: 'restartMiner', value: {} }, reason: 'e2e' }, Date.now());
    await send(waiting);

    agent = startAgent();
    await waitFor('kill-2 to run after the restart', () => results.find((r) => r.commandId === 'kill-2'), 20_000);
    await send(first); // the same envelope again, as a replay or a redelivery
    const again = await waitFor('the repeated kill-1 to be refused', () => results.filter((r) => r.commandId === 'kill-1')[1], 10_000);
    expect(again.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(switches()).toBe(before);
    expect(sim.state.activePool).toBe(0);
    expect(results.filter((r) => r.commandId === 'kill-2')).toHaveLength(1);
  });
});
