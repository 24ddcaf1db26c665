import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { CommandResult, MinerSnapshot, RigEvent, RigState, RigTopics, encodeJson } from '@rigwarden/protocol';
import { makeTempDir, waitFor, writeTestBrokerUsers, type TempDir, type TestBrokerUsers } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { loadControllerConfig, type ControllerConfig } from '../config/controller-config';
import { MetricsService } from '../metrics/metrics.service';
import { RigRepository } from '../persistence/rig-repository';
import { EmbeddedBrokerService } from './embedded-broker.service';

const snapshot = (rigId: string, seq: number, agentId: string): Buffer =>
  encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ rigId, agentId, minerId: '10.0.0.9:4028', seq, collectedAt: new Date(), hashrate5sHs: 1e12 }));

/** The QoS granted to each filter (128: refused), from the SUBACK. */
function grants(client: MqttClient, filters: string | string[]): Promise<number[]> {
  return new Promise((resolve, reject) => client.subscribe(filters, { qos: 1 }, (err, granted) => {
    // MQTT.js reports a SUBACK with a refusal as an error that carries the packet.
    const packet = (err as { packet?: { granted?: number[] } } | null)?.packet;
    if (packet?.granted) resolve(packet.granted);
    else if (err) reject(err);
    else resolve((granted ?? []).map((g) => g.qos));
  }));
}

/** A controller (embedded broker on a loopback ephemeral port, SQLite in a temp dir) for one describe block. */
async function startController(dir: string, extraArgs: string[], topicRoot: string): Promise<{ app: INestApplicationContext; config: ControllerConfig; url: string }> {
  const config = loadControllerConfig(['--data-dir', dir, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--mqtt-port', '0', ...extraArgs], {
    RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
  await moduleRef.init();
  return { app: moduleRef, config, url: moduleRef.get(EmbeddedBrokerService).listenUrl! };
}

describe('embedded broker: every client logs in and may use only its own topics', () => {
  let dir: TempDir;
  let app: INestApplicationContext;
  let url: string;
  let config: ControllerConfig;
  let users: TestBrokerUsers;
  let topics: RigTopics;
  const clients: MqttClient[] = [];
  const connect = async (clientId: string, options: IClientOptions = {}): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, { clientId: `${clientId}-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 5000, ...options });
    clients.push(client);
    return client;
  };
  const refused = (options: IClientOptions): Promise<number | undefined> =>
    connect('refused', options).then(() => undefined, (err: { code?: number }) => err.code);
  /** A client with the controller's own login (from the URL the controller's ingest uses), for observing. */
  const observer = async (): Promise<MqttClient> => {
    const own = new URL(await app.get(EmbeddedBrokerService).brokerUrl());
    return connect('observer', { username: decodeURIComponent(own.username), password: decodeURIComponent(own.password) });
  };
  const refusals = (): Record<string, number> => Object.fromEntries(app.get(EmbeddedBrokerService).refusals.snapshot());

  beforeAll(async () => {
    dir = makeTempDir();
    const topicRoot = `acl-${randomBytes(4).toString('hex')}/v1`;
    topics = new RigTopics(topicRoot);
    users = writeTestBrokerUsers(dir.path, { 'agent-a': ['rig-a1'], 'agent-b': ['rig-b1'], scanner: ['scan-*'] });
    ({ app, url, config } = await startController(dir.path, ['--broker-users', users.file], topicRoot));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
    dir.remove();
  });

  it('an agent with its credentials publishes its rig\'s telemetry and the controller stores it', async () => {
    const a = await connect('agent-a', users.login('agent-a'));
    await a.publishAsync(topics.rig('rig-a1', 'telemetry'), snapshot('rig-a1', 1, 'agent-a'), { qos: 1 });
    const rig = await waitFor('rig-a1 stored', async () => (await app.get(RigRepository).getRig('rig-a1'))?.lastSeq === 1 || undefined);
    expect(rig).toBe(true);
  });

  it('a wrong password, an unknown agent or the controller\'s name with a guess is refused with CONNACK 4', async () => {
    expect(await refused({ username: 'agent-a', password: 'not-the-password' })).toBe(4);
    expect(await refused({ username: 'agent-a', password: users.passwords.get('agent-b')! })).toBe(4);
    expect(await refused({ username: 'nobody', password: 'x' })).toBe(4);
    expect(await refused({ username: 'rigwarden-controller', password: 'guess' })).toBe(4);
    expect(await refused({ username: 'agent-a' })).toBe(4);
  });

  it('an anonymous client is refused with CONNACK 5 without --mqtt-allow-anonymous', async () => {
    expect(await refused({})).toBe(5);
    expect(refusals()['anonymous']).toBeGreaterThanOrEqual(1);
  });

  it('agent A cannot publish telemetry, state, results or events for agent B\'s rig, and stays connected', async () => {
    const watcher = await observer();
    const seen: string[] = [];
    watcher.on('message', (topic) => seen.push(topic));
    await watcher.subscribeAsync([topics.allRigs('telemetry'), topics.allRigs('state'), topics.allRigs('events'), topics.allRigs('results')], { qos: 1 });
    const before = refusals()['publish']!;
    const a = await connect('agent-a', users.login('agent-a'));
    await a.publishAsync(topics.rig('rig-b1', 'telemetry'), snapshot('rig-b1', 1, 'agent-b'), { qos: 1 });
    await a.publishAsync(topics.rig('rig-b1', 'state'), encodeJson(RigState, RigState.fromPartial({ rigId: 'rig-b1', online: false, at: new Date() })), { qos: 1 });
    await a.publishAsync(topics.rig('rig-b1', 'results'), encodeJson(CommandResult, CommandResult.fromPartial({ rigId: 'rig-b1', commandId: 'c-1', cause: 'forged by attacker' })), { qos: 1 });
    await a.publishAsync(topics.rig('rig-b1', 'events'), encodeJson(RigEvent, RigEvent.fromPartial({ rigId: 'rig-b1', eventId: 'e-1', kind: 'agent.overheat', severity: 'critical', at: new Date() })), { qos: 1 });
    await a.publishAsync(topics.agentStatus('agent-b'), Buffer.from('{}'), { qos: 1 });
    // Its own rig, after the forgeries on the same connection: once this one arrives, the others would have.
    await a.publishAsync(topics.rig('rig-a1', 'telemetry'), snapshot('rig-a1', 2, 'agent-a'), { qos: 1 });
    await waitFor('agent-a\'s own telemetry', () => (seen.includes(topics.rig('rig-a1', 'telemetry')) ? true : undefined));
    expect(seen).toEqual([topics.rig('rig-a1', 'telemetry')]);
    expect(a.connected).toBe(true);
    expect(refusals()['publish']! - before).toBe(5);
    expect(await app.get(RigRepository).getRig('rig-b1')).toBeUndefined();
  });

  it('agent A cannot subscribe to agent B\'s commands, to every rig\'s commands or to #', async () => {
    const a = await connect('agent-a', users.login('agent-a'));
    expect(await grants(a, [topics.rig('rig-b1', 'commands'), topics.allRigs('commands'), '#', `${topics.root}/#`, '$SYS/#', topics.rig('rig-a1', 'commands')]))
      .toEqual([128, 128, 128, 128, 128, 1]);
  });

  it('a forged retained state for another agent\'s rig is not kept', async () => {
    const a = await connect('agent-a', users.login('agent-a'));
    await a.publishAsync(topics.rig('rig-b1', 'state'), encodeJson(RigState, RigState.fromPartial({ rigId: 'rig-b1', online: false, at: new Date() })), { qos: 1, retain: true });
    await a.publishAsync(topics.rig('rig-a1', 'state'), encodeJson(RigState, RigState.fromPartial({ rigId: 'rig-a1', online: true, at: new Date() })), { qos: 1, retain: true });
    const late = await observer();
    const retained: string[] = [];
    late.on('message', (topic, _payload, packet) => { if (packet.retain) retained.push(topic); });
    await late.subscribeAsync(topics.allRigs('state'), { qos: 1 });
    await waitFor('rig-a1\'s retained state', () => (retained.includes(topics.rig('rig-a1', 'state')) ? true : undefined));
    // A live message after the retained ones, on the same subscription: every retained message came before it.
    await a.publishAsync(topics.rig('rig-a1', 'state'), encodeJson(RigState, RigState.fromPartial({ rigId: 'rig-a1', online: true, at: new Date() })), { qos: 1 });
    const live = new Promise<void>((resolve) => late.on('message', (_topic, _payload, packet) => { if (!packet.retain) resolve(); }));
    await live;
    expect(retained).toEqual([topics.rig('rig-a1', 'state')]);
  });

  it('a last will on another agent\'s rig refuses the CONNECT (CONNACK 5); one on its own rig is fine', async () => {
    const will = (rigId: string): IClientOptions['will'] => ({ topic: topics.rig(rigId, 'state'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true });
    expect(await refused({ ...users.login('agent-a'), will: will('rig-b1') })).toBe(5);
    expect(refusals()['will']).toBeGreaterThanOrEqual(1);
    const a = await connect('agent-a-will', { ...users.login('agent-a'), will: will('rig-a1') });
    expect(a.connected).toBe(true);
  });

  it('the controller\'s ingest receipts reach only the agent they are for', async () => {
    const controller = await observer();
    const a = await connect('agent-a', users.login('agent-a'));
    const b = await connect('agent-b', users.login('agent-b'));
    const toA: string[] = [];
    const toB: string[] = [];
    a.on('message', (topic) => toA.push(topic));
    b.on('message', (topic) => toB.push(topic));
    const stored = (agentId: string): string => `${topics.root}/agents/${agentId}/stored`;
    expect(await grants(a, stored('agent-a'))).toEqual([1]);
    expect(await grants(b, [stored('agent-a'), `${topics.root}/agents/+/stored`, stored('agent-b')])).toEqual([128, 128, 1]);
    await controller.publishAsync(stored('agent-a'), Buffer.from('{"for":"a"}'), { qos: 1 });
    await controller.publishAsync(stored('agent-b'), Buffer.from('{"for":"b"}'), { qos: 1 });
    await waitFor('both receipts', () => (toA.length >= 1 && toB.length >= 1 ? true : undefined));
    expect([toA, toB]).toEqual([[stored('agent-a')], [stored('agent-b')]]);
    // And the controller's own ingest: a snapshot of agent A's, once stored, is receipted to A alone.
    await a.publishAsync(topics.rig('rig-a1', 'telemetry'), snapshot('rig-a1', 10, 'agent-a'), { qos: 1 });
    await waitFor('the controller\'s receipt to agent-a', () => (toA.length >= 2 ? true : undefined));
    expect([toA.length, toB.length]).toEqual([2, 1]);
  });

  it('an agent may not publish commands or receipts, even for its own rig', async () => {
    const watcher = await observer();
    const a = await connect('agent-a', users.login('agent-a'));
    const seen: string[] = [];
    a.on('message', (topic) => seen.push(topic));
    await a.subscribeAsync([topics.rig('rig-a1', 'commands'), `${topics.root}/agents/agent-a/stored`], { qos: 1 });
    await a.publishAsync(topics.rig('rig-a1', 'commands'), Buffer.from('{}'), { qos: 1 });
    await a.publishAsync(`${topics.root}/agents/agent-a/stored`, Buffer.from('{}'), { qos: 1 });
    await watcher.publishAsync(topics.rig('rig-a1', 'commands'), Buffer.from('{"real":true}'), { qos: 1 });
    await waitFor('the controller\'s command', () => (seen.length >= 1 ? true : undefined));
    expect(seen).toEqual([topics.rig('rig-a1', 'commands')]);
  });

  it('a rig id prefix in the users file gives a scanning agent every rig it names', async () => {
    const s = await connect('scanner', users.login('scanner'));
    await s.publishAsync(topics.rig('scan-10-0-1-11', 'telemetry'), snapshot('scan-10-0-1-11', 1, 'scanner'), { qos: 1 });
    await waitFor('scan-10-0-1-11 stored', async () => (await app.get(RigRepository).getRig('scan-10-0-1-11')) ?? undefined);
    expect(await grants(s, [topics.rig('scan-10-0-1-11', 'commands'), topics.rig('rig-a1', 'commands'), topics.allRigs('commands')])).toEqual([1, 128, 128]);
  });

  it('no other principal may take the controller\'s client id (CONNACK 2)', async () => {
    const takeover = await mqtt.connectAsync(url, { ...users.login('agent-b'), clientId: config.mqttClientId, reconnectPeriod: 0 })
      .then(async (c) => { await c.endAsync(true); return 0; }, (err: { code?: number }) => err.code);
    expect(takeover).toBe(2);
    expect(refusals()['client_id_taken']).toBe(1);
  });

  it('counts refusals on /metrics by reason', async () => {
    const text = await app.get(MetricsService).render();
    expect(text).toMatch(/rigwarden_broker_refusals_total\{reason="publish"\} [1-9]/);
    expect(text).toMatch(/rigwarden_broker_refusals_total\{reason="bad_credentials"\} [1-9]/);
  });

  it('re-reads the users file when it changes: a new agent may log in, a removed one is disconnected', async () => {
    const b = await connect('agent-b', users.login('agent-b'));
    const closed = new Promise<void>((resolve) => b.once('close', () => resolve()));
    const next = writeTestBrokerUsers(dir.path, { 'agent-a': ['rig-a1'], 'agent-c': ['rig-c1'] }, 'next.yaml');
    writeFileSync(users.file, readFileSync(next.file));
    const c = await waitFor('agent-c may log in', () => connect('agent-c', { ...next.login('agent-c') }).catch(() => undefined));
    expect(c.connected).toBe(true);
    await closed;
    expect(await refused(users.login('agent-b'))).toBe(4);
  });
});

describe('embedded broker without a users file at start', () => {
  it('lets no agent in until the file exists, then reads it', async () => {
    const dir = makeTempDir();
    const topicRoot = `late-${randomBytes(4).toString('hex')}/v1`;
    const { app, url } = await startController(dir.path, [], topicRoot);
    const clients: MqttClient[] = [];
    try {
      const users = writeTestBrokerUsers(dir.path, { 'agent-l': ['rig-l1'] }, 'elsewhere.yaml');
      const login = (): Promise<MqttClient | number | undefined> =>
        mqtt.connectAsync(url, { ...users.login('agent-l'), reconnectPeriod: 0 }).then((c) => { clients.push(c); return c; }, (err: { code?: number }) => err.code);
      expect(await login()).toBe(4);
      // The default path, <data-dir>/broker-users.yaml, written after the controller started.
      writeFileSync(`${dir.path}/broker-users.yaml`, readFileSync(users.file));
      const client = await waitFor('agent-l may log in', async () => { const c = await login(); return typeof c === 'object' ? c : undefined; });
      expect(client.connected).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await app.close();
      dir.remove();
    }
  });
});

describe('embedded broker with --mqtt-allow-anonymous', () => {
  it('lets a client without a username in, and still refuses a wrong password', async () => {
    const dir = makeTempDir();
    const topicRoot = `anon-${randomBytes(4).toString('hex')}/v1`;
    const { app, url } = await startController(dir.path, ['--mqtt-allow-anonymous'], topicRoot);
    try {
      const anonymous = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
      await anonymous.publishAsync(new RigTopics(topicRoot).rig('anon-1', 'telemetry'), snapshot('anon-1', 1, 'anon'), { qos: 1 });
      await waitFor('anon-1 stored', async () => (await app.get(RigRepository).getRig('anon-1')) ?? undefined);
      // Not the broker's own topics, though.
      await anonymous.publishAsync('$SYS/forged', Buffer.from('x'), { qos: 1 });
      expect(Object.fromEntries(app.get(EmbeddedBrokerService).refusals.snapshot())['publish']).toBe(1);
      await anonymous.endAsync();
      const wrong = await mqtt.connectAsync(url, { reconnectPeriod: 0, username: 'agent-x', password: 'x' }).then(() => undefined, (err: { code?: number }) => err.code);
      expect(wrong).toBe(4);
    } finally {
      await app.close();
      dir.remove();
    }
  });
});
