/**
 * GPU tuning on a GPU rig, through the real path: the agent discovers the GPUs with (a fake) nvidia-smi, an
 * ApplyProfile command sets the power limit with `nvidia-smi -pl`, a value out of range is refused with the range,
 * and the defaults found are restored when the agent stops.
 */
import '@rigwarden/drivers-cgminer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandEnvelope, CommandOutcome, RigTopics, decodeCommandResult, encodeJson, type CommandResult } from '@rigwarden/protocol';
import { CommandSigner, KeyRing, SecretBytes } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator, FakeNvidiaSmi } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from './agent';
import { parseAgentConfig } from './config/agent-config';

jest.setTimeout(60_000);

describe('agent GPU tuning', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let fake: FakeNvidiaSmi;
  let agent: Agent | undefined;
  let client: MqttClient;
  const results: CommandResult[] = [];
  const secret = SecretBytes.generate();
  const ring = new KeyRing();
  ring.add('gpu-rig', { id: 'k1', secret, created: 0, notBefore: 0, expires: Number.MAX_SAFE_INTEGER });
  const signer = new CommandSigner(ring);
  let topics: RigTopics;

  beforeAll(async () => {
    broker = await startTestBroker();
    topics = new RigTopics(broker.topicRoot);
    dir = makeTempDir();
    sim = new CgminerSimulator();
    await sim.start();
    fake = await FakeNvidiaSmi.create({}); // its own temp dir, removed by fake.remove()
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'gpu-rig': [{ id: 'k1', secret: secret.expose().toString('base64url') }] } }));
    client = await mqtt.connectAsync(broker.url, { clientId: `gpu-ctl-${broker.topicRoot}` });
    await client.subscribeAsync(topics.rig('gpu-rig', 'results'), { qos: 1 });
    client.on('message', (_t, p) => results.push(decodeCommandResult(p)));
    agent = new Agent(parseAgentConfig({
      agent: { id: 'gpu-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `gpu-agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 60_000 },
      security: { keysFile },
      gpu: { tuning: true, nvidiaSmiPath: fake.nvidiaSmiPath },
      profiles: { efficient: { gpu: { powerLimitW: 150 } }, silly: { gpu: { powerLimitW: 9999 } } },
      miners: [{ rig: 'gpu-rig', host: '127.0.0.1', port: sim.address().port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'error' }));
    await agent.start();
    await waitFor('the agent to connect', () => (agent!.publisher.connected ? true : undefined));
  });

  afterAll(async () => {
    await agent?.stop();
    await client?.endAsync();
    await sim?.stop();
    await fake?.remove();
    await broker?.stop();
    dir?.remove();
  });

  async function apply(profile: string): Promise<CommandResult> {
    const envelope = signer.sign({ commandId: `gpu-${profile}`, rigId: 'gpu-rig', minerId: 'm1', payload: { $case: 'applyProfile', value: { profile } }, reason: 'test' }, Date.now());
    await client.publishAsync(topics.rig('gpu-rig', 'commands'), encodeJson(CommandEnvelope, envelope), { qos: 1 });
    return waitFor(`the result of ${profile}`, () => results.find((r) => r.commandId === envelope.commandId), 30_000);
  }

  it('applies a power limit to every GPU, refuses one out of range, and restores the defaults at stop', async () => {
    const before = await fake.read();
    const defaults = before.gpus.map((g) => g.powerLimitW);

    const ok = await apply('efficient');
    expect(ok.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect((await fake.read()).gpus.map((g) => g.powerLimitW)).toEqual(before.gpus.map(() => 150));

    const refused = await apply('silly');
    expect(refused.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_FAILED);
    expect(refused.cause).toMatch(new RegExp(`${before.gpus[0]!.powerMinLimitW}.*${before.gpus[0]!.powerMaxLimitW}`));

    await agent!.stop();
    agent = undefined;
    expect((await fake.read()).gpus.map((g) => g.powerLimitW)).toEqual(defaults);
  });
});
