/**
 * Commands end to end inside one process: a signed envelope published on a real
 * broker reaches the agent, is verified, runs through the cgminer driver against
 * the simulator, and comes back as a CommandResult. Forged, replayed, expired and
 * misaddressed commands run nothing.
 */
import '@rigwarden/drivers-cgminer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  CommandEnvelope, CommandOutcome, RigTopics, decodeCommandResult, decodeRigEvent, encodeJson, type CommandResult, type RigEvent,
} from '@rigwarden/protocol';
import { CommandSigner, KeyRing, SecretBytes } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { LeaseEpochs } from './lease-epochs';
import { Agent } from '../agent';
import { CommandJournal } from './command-journal';
import { parseAgentConfig } from '../config/agent-config';

jest.setTimeout(30_000);

describe('agent commands over MQTT', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let agent: Agent;
  let controller: MqttClient;
  let topics: RigTopics;
  let signer: CommandSigner;
  const secret = SecretBytes.generate();
  const results: CommandResult[] = [];
  const events: RigEvent[] = [];
  let counter = 0;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    topics = new RigTopics(broker.topicRoot);
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'cmd-rig': [{ id: 'k1', secret: secret.expose().toString('base64url') }] } }));
    const ring = new KeyRing();
    ring.add('cmd-rig', { id: 'k1', secret, created: 0, notBefore: 0, expires: Number.MAX_SAFE_INTEGER });
    ring.add('other-rig', { id: 'k1', secret, created: 0, notBefore: 0, expires: Number.MAX_SAFE_INTEGER });
    signer = new CommandSigner(ring);

    controller = await mqtt.connectAsync(broker.url, { clientId: `ctl-${broker.topicRoot}` });
    await controller.subscribeAsync([topics.rig('cmd-rig', 'results'), topics.rig('cmd-rig', 'events')], { qos: 1 });
    controller.on('message', (topic, payload) => {
      if (topic.endsWith('/results')) results.push(decodeCommandResult(payload));
      else events.push(decodeRigEvent(payload));
    });

    const config = parseAgentConfig({
      agent: { id: 'cmd-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 60_000 },
      security: { keysFile },
      profiles: { eco: { workMode: 0 } },
      miners: [{ rig: 'cmd-rig', host: '127.0.0.1', port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {});
    agent = new Agent(config, systemClock, createLogger('agent', { level: 'error' }));
    await agent.start();
    await waitFor('the agent to connect', () => (agent.publisher.connected ? true : undefined));
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.endAsync();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  function draft(payload: CommandEnvelope['payload'], rigId = 'cmd-rig') {
    counter++;
    return { commandId: `cmd-${counter}`, rigId, minerId: 'm1', payload, reason: 'test' };
  }

  async function send(envelope: CommandEnvelope, topicRig = 'cmd-rig'): Promise<void> {
    await controller.publishAsync(topics.rig(topicRig, 'commands'), encodeJson(CommandEnvelope, envelope), { qos: 1 });
  }

  const resultFor = (id: string): Promise<CommandResult> => waitFor(`the result of ${id}`, () => results.find((r) => r.commandId === id), 20_000);

  it('runs a signed switch-pool command on the miner and reports success', async () => {
    const envelope = signer.sign(draft({ $case: 'switchPool', value: { poolIndex: 1 } }), Date.now());
    await send(envelope);
    const result = await resultFor(envelope.commandId);
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(result.rigId).toBe('cmd-rig');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(sim.state.activePool).toBe(1);
  });

  it('runs a replayed command never again', async () => {
    const envelope = signer.sign(draft({ $case: 'switchPool', value: { poolIndex: 0 } }), Date.now());
    await send(envelope);
    await waitFor('the first run', () => results.find((r) => r.commandId === envelope.commandId && r.outcome === CommandOutcome.COMMAND_OUTCOME_SUCCEEDED));
    const switchesBefore = sim.requests.filter((r) => r.toString().includes('switchpool')).length;
    for (let i = 0; i < 50; i++) await send(envelope);
    await waitFor('50 rejections', () => (results.filter((r) => r.commandId === envelope.commandId && r.outcome === CommandOutcome.COMMAND_OUTCOME_REJECTED).length === 50 ? true : undefined));
    expect(sim.requests.filter((r) => r.toString().includes('switchpool')).length).toBe(switchesBefore);
    expect(results.filter((r) => r.commandId === envelope.commandId && r.outcome === CommandOutcome.COMMAND_OUTCOME_REJECTED)[0]!.cause).toMatch(/^replayed_nonce/);
    // Each rejection is a security event, but rate-limited: a burst of 10, then about one every 6 s.
    const replayEvents = events.filter((e) => e.reason === 'replayed_nonce').length;
    expect(replayEvents).toBeGreaterThan(0);
    expect(replayEvents).toBeLessThanOrEqual(11);
  });

  it('answers a command id sent again in a fresh envelope (a controller retry) with the stored result, running it once', async () => {
    const command = draft({ $case: 'switchPool', value: { poolIndex: 0 } });
    const first = signer.sign(command, Date.now());
    await send(first);
    const original = await resultFor(first.commandId);
    expect(original.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    const switchesBefore = sim.requests.filter((r) => r.toString().includes('switchpool')).length;
    const retries = [signer.sign(command, Date.now()), signer.sign(command, Date.now())];
    expect(new Set([first.nonce, ...retries.map((r) => r.nonce)]).size).toBe(3);
    for (const retry of retries) await send(retry);
    const answers = await waitFor('two more answers', () => {
      const all = results.filter((r) => r.commandId === first.commandId);
      return all.length === 3 ? all : undefined;
    });
    for (const a of answers) expect(a).toMatchObject({ outcome: original.outcome, cause: original.cause, durationMs: original.durationMs, finishedAt: original.finishedAt });
    expect(sim.requests.filter((r) => r.toString().includes('switchpool')).length).toBe(switchesBefore);
  });

  it('refuses a command under a lease epoch older than one it accepted for the rig (a controller that lost its lease), remembered across restarts', async () => {
    const owner = signer.sign({ ...draft({ $case: 'switchPool', value: { poolIndex: 1 } }), leaseEpoch: 7 }, Date.now());
    await send(owner);
    expect((await resultFor(owner.commandId)).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(sim.state.activePool).toBe(1);
    // The controller that held the lease before (epoch 6), paused and resumed, still sends: nothing runs.
    const switchesBefore = sim.requests.filter((r) => r.toString().includes('switchpool')).length;
    const stale = signer.sign({ ...draft({ $case: 'switchPool', value: { poolIndex: 0 } }), leaseEpoch: 6 }, Date.now());
    await send(stale);
    const refused = await resultFor(stale.commandId);
    expect(refused.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(refused.cause).toMatch(/stale lease epoch 6: .* under epoch 7/);
    expect(sim.requests.filter((r) => r.toString().includes('switchpool')).length).toBe(switchesBefore);
    expect(sim.state.activePool).toBe(1);
    // Epoch 0 (no leases) runs, and does not lower the fence: epoch 6 is still refused after it.
    const unleased = signer.sign(draft({ $case: 'switchPool', value: { poolIndex: 0 } }), Date.now());
    await send(unleased);
    expect((await resultFor(unleased.commandId)).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    const staleAgain = signer.sign({ ...draft({ $case: 'switchPool', value: { poolIndex: 1 } }), leaseEpoch: 6 }, Date.now());
    await send(staleAgain);
    expect((await resultFor(staleAgain.commandId)).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(sim.state.activePool).toBe(0);
    // Kept on disk: an agent restarted after the takeover still refuses the old owner.
    expect(new LeaseEpochs(join(dir.path, 'agent', 'lease-epochs.json')).of('cmd-rig')).toBe(7);
  });

  it('keeps results in the journal across a restart of the agent', () => {
    const path = join(dir.path, 'journal-test', 'commands.journal');
    const journal = new CommandJournal(path);
    journal.record('j-1', 'started', 1000);
    journal.record('j-1', 'finished', 1500, { outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: 'miner said no', durationMs: 500 });
    journal.record('j-2', 'started', 2000);
    const reopened = new CommandJournal(path);
    expect(reopened.state('j-1')).toBe('finished');
    expect(reopened.result('j-1')).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: 'miner said no', durationMs: 500 });
    expect(reopened.state('j-2')).toBe('started');
    expect(reopened.result('j-2')).toBeUndefined();
  });

  it.each([
    ['a forged signature', (e: CommandEnvelope) => ({ ...e, signature: Buffer.alloc(32, 7) }), 'bad_signature'],
    ['a changed payload', (e: CommandEnvelope) => ({ ...e, payload: { $case: 'switchPool' as const, value: { poolIndex: 0 } } }), 'bad_signature'],
    ['an unknown key id', (e: CommandEnvelope) => ({ ...e, keyId: 'k9' }), 'unknown_key'],
  ])('refuses %s, runs nothing, and answers a forgery only with a security event', async (_label, tamper, reason) => {
    const envelope = tamper(signer.sign(draft({ $case: 'switchPool', value: { poolIndex: 1 } }), Date.now()));
    const before = sim.state.activePool;
    const requests = sim.requests.length;
    const rejectedBefore = agent.commands.counters.rejected;
    await send(envelope);
    await waitFor('the rejection', () => (agent.commands.counters.rejected > rejectedBefore ? true : undefined), 20_000);
    await waitFor(`a ${reason} security event`, () => events.find((e) => e.reason === reason), 20_000);
    expect(results.find((r) => r.commandId === envelope.commandId)).toBeUndefined();
    expect(sim.state.activePool).toBe(before);
    expect(sim.requests.slice(requests).some((r) => r.toString().includes('switchpool'))).toBe(false);
  });

  it('refuses an expired (but authentic) command with a result that says so', async () => {
    const envelope = signer.sign(draft({ $case: 'switchPool', value: { poolIndex: 1 } }), Date.now() - 120_000);
    const before = sim.state.activePool;
    await send(envelope);
    const result = await resultFor(envelope.commandId);
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(result.cause).toMatch(/^(expired|too_old)/);
    expect(sim.state.activePool).toBe(before);
  });

  it('refuses a command addressed to another rig, and reports a security event', async () => {
    const envelope = signer.sign(draft({ $case: 'restartMiner', value: {} }, 'other-rig'), Date.now());
    await send(envelope, 'cmd-rig');
    const event = await waitFor('a security event', () => events.find((e) => e.reason === 'wrong_rig'), 20_000);
    expect(results.find((r) => r.commandId === envelope.commandId)).toBeUndefined();
    expect(event).toMatchObject({ rigId: 'cmd-rig', kind: 'security.command_rejected', severity: 'warning' });
  });

  it('fails a power-cycle clearly when no PDU is configured', async () => {
    const envelope = signer.sign(draft({ $case: 'powerCycle', value: {} }), Date.now());
    await send(envelope);
    const result = await resultFor(envelope.commandId);
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_FAILED);
    expect(result.cause).toContain('rigs.cmd-rig.pdu');
  });

  it.each([
    ['an unknown profile', 'turbo', CommandOutcome.COMMAND_OUTCOME_FAILED, /unknown profile "turbo"; this agent's profiles are: eco/],
    ['a work mode this firmware cannot set (rejected: capability missing)', 'eco', CommandOutcome.COMMAND_OUTCOME_REJECTED,
      /unsupported: driver cgminer at 127\.0\.0\.1:\d+ cannot do changing the work mode \(capability "power-mode" missing\)/],
  ])('fails %s with the reason', async (_label, profile, outcome, cause) => {
    const envelope = signer.sign(draft({ $case: 'applyProfile', value: { profile } }), Date.now());
    await send(envelope);
    const result = await resultFor(envelope.commandId);
    expect(result.outcome).toBe(outcome);
    expect(result.cause).toMatch(cause);
  });

  it('survives garbage on the command topic', async () => {
    await controller.publishAsync(topics.rig('cmd-rig', 'commands'), 'not an envelope', { qos: 1 });
    const envelope = signer.sign(draft({ $case: 'switchPool', value: { poolIndex: 1 } }), Date.now());
    await send(envelope);
    expect((await resultFor(envelope.commandId)).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(agent.commands.counters.rejected).toBeGreaterThan(0);
  });
});
