/**
 * Issue 16, item 2: what agents send back is signed, and pool passwords travel sealed. In one process with real
 * parts: a broker, the controller (AppModule) and the agent with the same rig key, a simulated miner, and a hostile
 * MQTT client on the same broker. A forged result (FAILED "forged by attacker") and forged critical events for the
 * rig are refused and counted, while the agent's own result and event are stored; a SetPools goes controller → agent
 * with its password only ever sealed (wire, SQLite file, agent log) and the miner gets the right password.
 */
import 'reflect-metadata';
import '@rigwarden/drivers-cgminer';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandEnvelope, CommandOutcome, CommandResult, RigEvent, RigTopics, encodeJson } from '@rigwarden/protocol';
import { CommandSigner, RigKeyFile, SecretBytes } from '@rigwarden/security';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../apps/agent/src/agent';
import { parseAgentConfig } from '../apps/agent/src/config/agent-config';
import { AppModule } from '../apps/controller/src/app.module';
import { CommandDispatcher } from '../apps/controller/src/commands/command-dispatcher.service';
import { loadControllerConfig } from '../apps/controller/src/config/controller-config';
import { MetricsService } from '../apps/controller/src/metrics/metrics.service';
import { EVENT_STORE, type EventStore } from '../apps/controller/src/persistence/ports/event.port';
import { SqliteDatabase } from '../apps/controller/src/persistence/sqlite-database';
import { TelemetryIngestService } from '../apps/controller/src/ingest/telemetry-ingest.service';

jest.setTimeout(60_000);

const RIG = 'sig-1';
const PASSWORD = 'hunter2-Pa55-for-pool-c';

describe('signed results and events, sealed pool passwords', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: TestingModule;
  let agent: Agent | undefined;
  let attacker: MqttClient;
  let topics: RigTopics;
  let keysFile: string;
  let port: number;
  const agentLog: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    topics = new RigTopics(broker.topicRoot);
    dir = makeTempDir();
    sim = new CgminerSimulator();
    ({ port } = await sim.start());
    keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: SecretBytes.generate().exposeBase64url() }] } }), { mode: 0o600 });
    const config = loadControllerConfig(['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    config.commands = { retryInitialMs: 300, retryMaxMs: 1000, tickMs: 50 };
    controller = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await controller.init();
    attacker = await mqtt.connectAsync(broker.url, { clientId: `attacker-${broker.topicRoot}` });
  });

  afterAll(async () => {
    await attacker?.endAsync();
    await agent?.stop();
    await controller?.close();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  async function startAgent(): Promise<Agent> {
    agent = new Agent(parseAgentConfig({
      agent: { id: 'sig-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `sig-agent-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 60_000 },
      security: { keysFile },
      miners: [{ rig: RIG, host: '127.0.0.1', port, id: 'm1' }],
    }, join(dir.path, 'agent.yaml'), {}), systemClock, createLogger('agent', { level: 'debug', write: (line) => agentLog.push(line) }));
    await agent.start();
    await waitFor('the agent to connect', () => (agent!.publisher.connected ? true : undefined));
    return agent;
  }

  it('refuses a forged result and forged critical events, counts them, and stores the agent\'s genuine ones', async () => {
    const ingest = controller.get(TelemetryIngestService);
    const events = controller.get<EventStore>(EVENT_STORE);
    const dispatcher = controller.get(CommandDispatcher);
    // No agent yet: the command waits (retried) while the attacker answers it first.
    const sent = await dispatcher.dispatch({ rigId: RIG, minerId: 'm1', payload: { $case: 'switchPool', value: { poolIndex: 1 } }, reason: 'forgery test', requestedBy: 'operator:test', timeoutMs: 30_000 });
    const forgedResult = CommandResult.fromPartial({
      commandId: sent.id, rigId: RIG, outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: 'forged by attacker', durationMs: 1, finishedAt: new Date(),
    });
    const forgedEvent = RigEvent.fromPartial({
      eventId: 'forged-1', rigId: RIG, kind: 'safety.overheat_stop', severity: 'critical', reason: 'overheat', message: 'forged: stopped at 120 C', at: new Date(),
    });
    await attacker.publishAsync(topics.rig(RIG, 'results'), encodeJson(CommandResult, forgedResult), { qos: 1 });
    await attacker.publishAsync(topics.rig(RIG, 'events'), encodeJson(RigEvent, forgedEvent), { qos: 1 });
    // A guessed key id and a random signature are no better than none.
    await attacker.publishAsync(topics.rig(RIG, 'events'), encodeJson(RigEvent, { ...forgedEvent, eventId: 'forged-2', keyId: 'k1', signature: SecretBytes.generate().expose() }), { qos: 1 });
    await waitFor('the three forgeries to be refused', () => (ingest.counters.signatureRejected >= 3 ? true : undefined));
    expect(ingest.counters.signatureRejected).toBe(3);
    expect((await dispatcher.get(sent.id))?.state).toBe('SENT');
    expect(await events.resultsForCommand(sent.id)).toEqual([]);

    const started = await startAgent();
    const done = await dispatcher.waitFor(sent.id);
    expect(done).toMatchObject({ state: 'SUCCEEDED' });
    expect(sim.state.activePool).toBe(1);
    await waitFor('the genuine result stored', async () => ((await events.resultsForCommand(sent.id)).length > 0 ? true : undefined));
    expect((await events.resultsForCommand(sent.id)).map((r) => r.outcome)).toEqual(['COMMAND_OUTCOME_SUCCEEDED']);

    // A genuine event: the agent reports a command it refused (unreadable), signed with the rig key.
    await attacker.publishAsync(topics.rig(RIG, 'commands'), Buffer.from('{"not": "an envelope"'), { qos: 1 });
    const genuine = await waitFor('the agent\'s event stored', async () => (await events.eventsForRig(RIG)).find((e) => e.kind === 'security.command_rejected'));
    expect(genuine.source).toBe('agent');
    const stored = (await events.eventsForRig(RIG)).map((e) => e.event_id);
    expect(stored).not.toContain('forged-1');
    expect(stored).not.toContain('forged-2');
    expect(ingest.counters.signatureRejected).toBe(3);
    expect(started.commands.counters.executed).toBe(1);

    const metrics = await controller.get(MetricsService).render();
    expect(metrics).toMatch(/^rigwarden_ingest_signature_rejected_total 3$/m);
  });

  it('accepts unsigned results and events of a rig without a key, marked unverified', async () => {
    const ingest = controller.get(TelemetryIngestService);
    const before = ingest.counters.unverified;
    const event = RigEvent.fromPartial({ eventId: 'nokey-1', rigId: 'sig-nokey', kind: 'driver.error', severity: 'warning', message: 'x', at: new Date() });
    await attacker.publishAsync(topics.rig('sig-nokey', 'events'), encodeJson(RigEvent, event), { qos: 1 });
    const row = await waitFor('the unverified event stored', async () => (await controller.get<EventStore>(EVENT_STORE).eventsForRig('sig-nokey')).find((e) => e.event_id === 'nokey-1'));
    expect(row.source).toBe('agent-unverified');
    expect(ingest.counters.unverified).toBe(before + 1);
  });

  it('sends a SetPools password sealed to the rig key: never in clear on the wire, in SQLite or in the agent log; the miner gets it', async () => {
    if (!agent) await startAgent();
    const wire: Buffer[] = [];
    const spy = await mqtt.connectAsync(broker.url, { clientId: `spy-${broker.topicRoot}` });
    try {
      await spy.subscribeAsync(topics.rig(RIG, 'commands'), { qos: 1 });
      spy.on('message', (_t, payload) => wire.push(Buffer.from(payload)));
      const dispatcher = controller.get(CommandDispatcher);
      const sent = await dispatcher.dispatch({
        rigId: RIG, minerId: 'm1', reason: 'sealed password test', requestedBy: 'operator:test', timeoutMs: 30_000,
        payload: { $case: 'setPools', value: { pools: [
          { url: 'stratum+tcp://pool-c.example:3333', user: 'farm.worker1', password: PASSWORD },
          { url: 'stratum+tcp://pool-a.example:3333', user: 'farm.worker1', password: '' },
        ] } },
      });
      const done = await dispatcher.waitFor(sent.id);
      expect(done).toMatchObject({ state: 'SUCCEEDED' });
      expect(sim.state.pools.find((p) => p.url === 'stratum+tcp://pool-c.example:3333')?.password).toBe(PASSWORD);

      expect(wire.length).toBeGreaterThan(0);
      const onWire = Buffer.concat(wire).toString('utf8');
      expect(onWire).toContain('rwp1.');
      expect(onWire).not.toContain(PASSWORD);
      expect(JSON.stringify(await controller.get(SqliteDatabase).all('SELECT * FROM commands'))).not.toContain(PASSWORD);
      expect(JSON.stringify(await controller.get<EventStore>(EVENT_STORE).resultsForCommand(sent.id))).not.toContain(PASSWORD);
      const dbDir = join(dir.path, 'controller'); // the database file and its WAL (recent writes) as they are on disk
      const dbFiles = readdirSync(dbDir).filter((f) => /\.db(-wal)?$/.test(f));
      expect(dbFiles.length).toBeGreaterThan(0);
      for (const file of dbFiles) {
        expect(readFileSync(join(dbDir, file)).includes(Buffer.from(PASSWORD))).toBe(false);
      }
      expect(agentLog.length).toBeGreaterThan(0);
      expect(agentLog.filter((line) => line.includes(PASSWORD))).toEqual([]);
    } finally {
      await spy.endAsync();
    }
  });

  it('refuses a signed SetPools that carries a clear password, and says why', async () => {
    if (!agent) await startAgent();
    const envelope = new CommandSigner(new RigKeyFile(keysFile).keyRing()).sign({
      commandId: 'clear-1', rigId: RIG, minerId: 'm1', reason: 'an old controller',
      payload: { $case: 'setPools', value: { pools: [{ url: 'stratum+tcp://pool-d.example:3333', user: 'w', password: 'clear-pw' }] } },
    }, Date.now());
    await attacker.publishAsync(topics.rig(RIG, 'commands'), encodeJson(CommandEnvelope, envelope), { qos: 1 });
    const events = controller.get<EventStore>(EVENT_STORE);
    const result = await waitFor('the refusal stored', async () => (await events.resultsForCommand('clear-1'))[0]);
    expect(result.outcome).toBe('COMMAND_OUTCOME_REJECTED');
    expect(result.cause).toMatch(/^pool_password: .*clear password is refused/);
    expect(result.cause).not.toContain('clear-pw');
    expect(sim.state.pools.map((p) => p.url)).not.toContain('stratum+tcp://pool-d.example:3333');
  });
});
