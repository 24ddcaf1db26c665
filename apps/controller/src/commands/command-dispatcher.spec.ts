/**
 * The dispatcher inside the real controller (Nest app, SQLite file, MQTT client) against a real broker, with a fake
 * agent on the other side that checks each envelope's signature and answers, stays silent, or drops deliveries.
 * Time is a ManualClock and retries/deadlines run when the test calls tick(), so every step is deterministic.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandOutcome, CommandResult, RigTopics, decodeCommandEnvelope, encodeJson, type CommandEnvelope } from '@rigwarden/protocol';
import { KeyRing, RigMessageSigner, SecretBytes, signatureMatches } from '@rigwarden/security';
import { ManualClock } from '@rigwarden/shared';
import { TcpProxy, makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { loadControllerConfig, type ControllerConfig } from '../config/controller-config';
import { CommandDispatcher } from './command-dispatcher.service';
import { CommandRepository, type CommandRecord } from './command-repository';
import { commandsTestModule } from './command-test.harness';

jest.setTimeout(20_000);

const T0 = Date.parse('2026-12-01T10:00:00Z');
const SWITCH = { $case: 'switchPool' as const, value: { poolIndex: 1 } };

type Answer = { outcome: CommandOutcome; cause: string } | 'drop';

/** Answers commands like an agent would, as told by `behaviour`; records every delivery. */
class FakeAgent {
  readonly deliveries: CommandEnvelope[] = [];
  /** Rows found in the controller's table at the moment each delivery arrived (persist-before-publish). */
  readonly storedOnArrival: Array<CommandRecord | undefined> = [];
  readonly badSignatures: string[] = [];
  behaviour: (envelope: CommandEnvelope, delivery: number) => Answer = () => ({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'done' });
  repository: CommandRepository | undefined;

  private constructor(private readonly client: MqttClient, private readonly topics: RigTopics, private readonly secret: SecretBytes) {}

  static async start(broker: TestBroker, secret: SecretBytes): Promise<FakeAgent> {
    const topics = new RigTopics(broker.topicRoot);
    const client = await mqtt.connectAsync(broker.url, { clientId: `fake-agent-${broker.topicRoot}` });
    const agent = new FakeAgent(client, topics, secret);
    client.on('message', (_topic, payload) => { void agent.receive(payload); });
    await client.subscribeAsync(topics.allRigs('commands'), { qos: 1 });
    return agent;
  }

  private async receive(payload: Buffer): Promise<void> {
    const envelope = decodeCommandEnvelope(payload);
    this.storedOnArrival.push(await this.repository?.get(envelope.commandId));
    this.deliveries.push(envelope);
    if (!signatureMatches(envelope, this.secret)) this.badSignatures.push(envelope.commandId);
    const answer = this.behaviour(envelope, this.deliveries.filter((d) => d.commandId === envelope.commandId).length);
    if (answer === 'drop') return;
    const result = CommandResult.fromPartial({ commandId: envelope.commandId, rigId: envelope.rigId, ...answer, durationMs: 5, finishedAt: new Date() });
    // Signed like a real agent's (the controller refuses unsigned results from a rig with a key).
    const ring = new KeyRing();
    ring.add(envelope.rigId, { id: envelope.keyId, secret: this.secret, created: 0, notBefore: 0, expires: 8_640_000_000_000_000 });
    await this.client.publishAsync(this.topics.rig(envelope.rigId, 'results'), encodeJson(CommandResult, new RigMessageSigner(() => ring).signResult(result, Date.now())), { qos: 1 });
  }

  of(commandId: string): CommandEnvelope[] {
    return this.deliveries.filter((d) => d.commandId === commandId);
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}

describe('CommandDispatcher (real broker, SQLite, fake agent)', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let agent: FakeAgent;
  let app: TestingModule | undefined;
  let clock: ManualClock;
  const secret = SecretBytes.generate();

  function config(mqttUrl = broker.url): ControllerConfig {
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'rig-1': [{ id: 'k1', secret: secret.expose().toString('base64url') }] } }));
    const c = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: mqttUrl, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    c.commands = { retryInitialMs: 1000, retryMaxMs: 4000, tickMs: 0, publishTimeoutMs: 300 };
    return c;
  }

  async function startController(mqttUrl?: string): Promise<{ dispatcher: CommandDispatcher; repository: CommandRepository }> {
    app = await commandsTestModule(config(mqttUrl));
    const dispatcher = app.get(CommandDispatcher);
    dispatcher.clock = clock;
    dispatcher.random = () => 0; // the longest wait of each jittered retry: the schedule of retryInitialMs doubling
    await app.init();
    agent.repository = app.get(CommandRepository);
    return { dispatcher, repository: app.get(CommandRepository) };
  }

  async function stopController(): Promise<void> {
    agent.repository = undefined;
    await app?.close();
    app = undefined;
  }

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker.stop();
  });

  beforeEach(async () => {
    dir = makeTempDir();
    clock = new ManualClock(T0);
    agent = await FakeAgent.start(broker, secret);
  });
  afterEach(async () => {
    await stopController();
    await agent.stop();
    dir.remove();
  });

  const deliveriesOf = (id: string, n: number): Promise<CommandEnvelope[]> =>
    waitFor(`${n} deliveries of ${id}`, () => (agent.of(id).length >= n ? agent.of(id) : undefined));

  it('stores the command before publishing it, and records the agent\'s result', async () => {
    const { dispatcher, repository } = await startController();
    const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: 'operator note', requestedBy: 'operator:apikey:k1' });
    expect(sent).toMatchObject({ state: 'SENT', attempts: 1, type: 'switch-pool', deadline: T0 + 60_000, createdAt: T0 });
    const done = await dispatcher.waitFor(sent.id);
    expect(done).toMatchObject({ id: sent.id, state: 'SUCCEEDED', cause: 'done', attempts: 1 });
    expect(agent.storedOnArrival[0]).toMatchObject({ id: sent.id, rigId: 'rig-1', requestedBy: 'operator:apikey:k1', reason: 'operator note' });
    expect(agent.badSignatures).toEqual([]);
    expect(agent.deliveries[0]).toMatchObject({ commandId: sent.id, rigId: 'rig-1', minerId: 'm1', reason: 'operator note', payload: SWITCH });
    expect(await repository.get(sent.id)).toMatchObject({ state: 'SUCCEEDED', finishedAt: T0, payload: SWITCH, sentAt: T0 });
    expect(dispatcher.counters).toMatchObject({ dispatched: 1, succeeded: 1, retried: 0 });
  });

  it('counts a command as sent before its row says so: a result that beats the SENT write finishes a delivered command', async () => {
    const { dispatcher, repository } = await startController();
    // SQLite busy with the SENT write (a loaded controller) while a fast agent answers.
    let release!: () => void;
    const busy = new Promise<void>((resolve) => { release = resolve; });
    const markSent = repository.markSent.bind(repository);
    repository.markSent = async (...args: Parameters<CommandRepository['markSent']>) => { await busy; return markSent(...args); };
    const finished: CommandRecord[] = [];
    dispatcher.onFinished((record) => finished.push(record));
    const sent = dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: 'race', requestedBy: 'policy:watchdog' });
    try {
      const [record] = await waitFor('the result to finish the command while its SENT write waits', () => (finished.length > 0 ? finished : undefined));
      // What the reconciler reads to tell "delivered" from "never reached the agent".
      expect(record).toMatchObject({ state: 'SUCCEEDED', attempts: 1, sentAt: T0 });
    } finally {
      release();
    }
    expect(await sent).toMatchObject({ attempts: 1 });
  });

  it('retries under the same command id with a fresh nonce and signature until the agent answers', async () => {
    agent.behaviour = (_e, n) => (n <= 2 ? 'drop' : { outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'switched' });
    const { dispatcher } = await startController();
    const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'policy:failover' });
    await deliveriesOf(sent.id, 1);
    clock.advance(999);
    await dispatcher.tick();
    expect((await dispatcher.get(sent.id))!.attempts).toBe(1); // not due yet
    clock.advance(1);
    await dispatcher.tick();
    await deliveriesOf(sent.id, 2);
    clock.advance(2000); // backoff doubled
    await dispatcher.tick();
    const done = await dispatcher.waitFor(sent.id);
    expect(done).toMatchObject({ state: 'SUCCEEDED', attempts: 3, cause: 'switched' });
    const envelopes = agent.of(sent.id);
    expect(envelopes).toHaveLength(3);
    expect(new Set(envelopes.map((e) => e.nonce)).size).toBe(3);
    expect(new Set(envelopes.map((e) => Buffer.from(e.signature).toString('hex'))).size).toBe(3);
    expect(envelopes.map((e) => e.issuedAt!.getTime())).toEqual([T0, T0 + 1000, T0 + 3000]);
    expect(agent.badSignatures).toEqual([]);
    expect(dispatcher.counters).toMatchObject({ dispatched: 1, retried: 2, succeeded: 1 });
  });

  it('jitters each retry wait within its bound (a quarter of it by default), growing as before', async () => {
    agent.behaviour = (_e, n) => (n <= 2 ? 'drop' : { outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'switched' });
    const { dispatcher } = await startController();
    dispatcher.random = () => 0.5; // each wait 1 - 0.25 x 0.5 of its base: 875 ms, then 1,750 ms
    const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'policy:failover' });
    await deliveriesOf(sent.id, 1);
    clock.advance(874);
    await dispatcher.tick();
    expect((await dispatcher.get(sent.id))!.attempts).toBe(1);
    clock.advance(1);
    await dispatcher.tick();
    await deliveriesOf(sent.id, 2);
    clock.advance(1749);
    await dispatcher.tick();
    expect((await dispatcher.get(sent.id))!.attempts).toBe(2);
    clock.advance(1);
    await dispatcher.tick();
    expect(await dispatcher.waitFor(sent.id)).toMatchObject({ state: 'SUCCEEDED', attempts: 3 });
    expect(agent.of(sent.id).map((e) => e.issuedAt!.getTime())).toEqual([T0, T0 + 875, T0 + 2625]);
  });

  it('times out at the deadline when the agent never answers', async () => {
    agent.behaviour = () => 'drop';
    const { dispatcher, repository } = await startController();
    const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'policy:failover', timeoutMs: 10_000 });
    const waiting = dispatcher.waitFor(sent.id);
    for (let t = 0; t < 9; t++) {
      clock.advance(1000);
      await dispatcher.tick();
    }
    clock.advance(999);
    await dispatcher.tick();
    expect((await repository.get(sent.id))!.state).toBe('SENT');
    clock.advance(1);
    await dispatcher.tick();
    const done = await waiting;
    expect(done).toMatchObject({ state: 'TIMED_OUT', finishedAt: T0 + 10_000 });
    // 1 s, then 2 s, 4 s, 4 s (retryMaxMs): attempts at 0, 1, 3, 7 s
    expect(done!.attempts).toBe(4);
    expect(done!.cause).toMatch(/no result from rig rig-1 within 10 s \(4 attempts\)/);
    expect(await repository.get(sent.id)).toMatchObject({ state: 'TIMED_OUT', attempts: 4 });
    expect(dispatcher.counters.timedOut).toBe(1);
  });

  it('keeps the first outcome: a FAILED result is final, later answers change nothing', async () => {
    agent.behaviour = () => ({ outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: 'unsupported: driver cgminer cannot do switching pools' });
    const { dispatcher, repository } = await startController();
    const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'operator:x' });
    expect(await dispatcher.waitFor(sent.id)).toMatchObject({ state: 'FAILED', cause: 'unsupported: driver cgminer cannot do switching pools' });
    clock.advance(5000);
    await dispatcher.tick(); // nothing left to retry
    expect(agent.of(sent.id)).toHaveLength(1);
    expect(dispatcher.counters).toMatchObject({ failed: 1, retried: 0 });
    expect((await repository.get(sent.id))!.state).toBe('FAILED');
  });

  it('retries an attempt the agent found too old, and ends REJECTED with that cause if no attempt gets through', async () => {
    agent.behaviour = () => ({ outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: 'too_old: issued 45 s ago, more than the 30 s window' });
    const { dispatcher } = await startController();
    const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'operator:x', timeoutMs: 3000 });
    await deliveriesOf(sent.id, 1);
    await waitFor('the rejection noted', async () => ((await dispatcher.get(sent.id))!.cause.startsWith('too_old') ? true : undefined));
    expect((await dispatcher.get(sent.id))!.state).toBe('SENT');
    clock.advance(1000);
    await dispatcher.tick();
    await deliveriesOf(sent.id, 2);
    clock.advance(2000);
    await dispatcher.tick();
    expect(await dispatcher.waitFor(sent.id)).toMatchObject({ state: 'REJECTED', cause: expect.stringMatching(/^too_old/) });
    expect(dispatcher.counters.rejected).toBe(1);
  });

  it('finishes a command for a rig without a key FAILED, stored but never published', async () => {
    const { dispatcher, repository } = await startController();
    const sent = await dispatcher.dispatch({ rigId: 'rig-unkeyed', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'operator:x' });
    expect(sent).toMatchObject({ state: 'FAILED', attempts: 0, cause: expect.stringContaining('not sent: no active command key for rig rig-unkeyed') });
    expect(await repository.get(sent.id)).toMatchObject({ state: 'FAILED' });
    expect(dispatcher.counters).toMatchObject({ unsigned: 1, failed: 1 });
    expect(agent.deliveries).toEqual([]);
  });

  it('keeps a command through a broker outage: not published while the broker is away, sent once it is back', async () => {
    const [host, port] = broker.url.replace('mqtt://', '').split(':');
    const proxy = new TcpProxy(host!, Number(port));
    await proxy.start();
    try {
      const { dispatcher } = await startController(proxy.url);
      await proxy.cut();
      const started = Date.now();
      const sent = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: '', requestedBy: 'operator:x', timeoutMs: 60_000 });
      expect(Date.now() - started).toBeLessThan(3000); // the broker's absence does not hold the caller
      expect(sent).toMatchObject({ state: 'PENDING', attempts: 0, cause: expect.stringMatching(/^not published \(attempt 1\): /) });
      await proxy.restore();
      const done = await waitFor('the command to go through', async () => {
        clock.advance(1000);
        await dispatcher.tick();
        const c = await dispatcher.get(sent.id);
        return c!.state === 'SUCCEEDED' ? c : undefined;
      }, 30_000, 200);
      // The first attempt, held by the client while the broker was away, counts once the broker acknowledges it.
      await waitFor('the attempts to be counted', async () => ((await dispatcher.get(sent.id))!.attempts >= 1 ? true : undefined));
      expect(done.cause).toBe('done');
      expect(new Set(agent.of(sent.id).map((e) => e.commandId))).toEqual(new Set([sent.id]));
    } finally {
      await stopController();
      await proxy.stop();
    }
  }, 45_000);

  it('resumes an unfinished command after a controller restart, under the same id, and times out the overdue ones', async () => {
    agent.behaviour = () => 'drop';
    let { dispatcher, repository } = await startController();
    const live = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: SWITCH, reason: 'keep going', requestedBy: 'operator:x', timeoutMs: 60_000 });
    const overdue = await dispatcher.dispatch({ rigId: 'rig-1', minerId: 'm1', payload: { $case: 'restartMiner', value: {} }, reason: '', requestedBy: 'operator:x', timeoutMs: 5_000 });
    await deliveriesOf(live.id, 1);
    await stopController();
    expect(await waitFor('nothing more', () => agent.deliveries.length === 2 ? true : undefined)).toBe(true);

    agent.behaviour = () => ({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'switched after the restart' });
    clock.advance(10_000); // the controller was down for 10 s
    ({ dispatcher, repository } = await startController());
    expect(await dispatcher.waitFor(live.id)).toMatchObject({ id: live.id, state: 'SUCCEEDED', attempts: 2, cause: 'switched after the restart', reason: 'keep going' });
    expect(await repository.get(overdue.id)).toMatchObject({ state: 'TIMED_OUT', attempts: 1, cause: expect.stringContaining('the controller was stopped') });
    expect(agent.of(live.id).map((e) => e.commandId)).toEqual([live.id, live.id]);
    expect(agent.of(overdue.id)).toHaveLength(1); // never re-sent after its deadline
  });
});
