/**
 * The dashboard's HTTP API over a real socket: the controller's app module (a test broker, real SQLite in a temp dir,
 * real API keys, the real command dispatcher; no fleet spec, so no policy acts) fed through real MQTT publishes.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import mqtt, { type MqttClient } from 'mqtt';
import {
  CommandEnvelope, CommandOutcome, CommandResult, MinerSnapshot, RigEvent, RigState, RigTopics, decodeCommandEnvelope, encodeJson,
} from '@rigwarden/protocol';
import { RigKeyFile, RigMessageSigner } from '@rigwarden/security';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { RefusalAuditService } from '../audit/refusal-audit.service';
import { loadControllerConfig } from '../config/controller-config';
import { EventRepository } from '../persistence/event-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { ApiKeyService } from '../security/api-key.service';
import { DashboardHttpServer } from './dashboard-http.server';
import { FleetViewService } from './fleet-view.service';

interface Reply { status: number; body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown> }

function snapshot(rigId: string, seq: number, extra: Partial<MinerSnapshot> = {}): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: 'm1', host: '127.0.0.1', port: 4028, seq, collectedAt: new Date(), hashrate5sHs: 1e12, model: 'SimASIC X1', algorithm: 'sha256d',
    boards: [{ index: 0, hashrateHs: 1e12, boardTempC: 60, chipTempC: 70, status: 1 }], fans: [{ index: 0, rpm: 5000 }],
    pools: [
      { index: 0, url: 'stratum+tcp://a:3333', user: 'w', status: 1, active: true },
      { index: 1, url: 'stratum+tcp://b:3333', user: 'w', status: 1, active: false },
    ],
    powerW: 3000, ...extra,
  });
}

/** An open /api/stream: the frames received so far, parsed. */
interface Sse { frames: Array<{ event: string; data: unknown }>; close(): void; response: IncomingMessage }

function openSse(url: string): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const sse: Sse = { frames: [], close: () => req.destroy(), response: res };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) sse.frames.push({ event, data: JSON.parse(data) });
        }
      });
      res.on('error', () => undefined);
      resolve(sse);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard HTTP API', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: INestApplicationContext;
  let base: string;
  let publisher: MqttClient;
  let topics: RigTopics;
  let readKey: string;
  let operateKey: string;
  const streams: Sse[] = [];

  const call = async (path: string, init: { key?: string; method?: string; body?: unknown } = {}): Promise<Reply> => {
    const res = await fetch(`${base}${path.replace(/^\//, '')}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: await res.json() as Reply['body'] };
  };
  const publish = (rigId: string, kind: 'telemetry' | 'state' | 'events' | 'results', payload: Buffer): Promise<unknown> =>
    publisher.publishAsync(topics.rig(rigId, kind), payload, { qos: 1 });

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir('rigwarden-dash-');
    topics = new RigTopics(broker.topicRoot);
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'dash-a': [{ id: 'k1', secret: randomBytes(32).toString('base64url') }] } }), { mode: 0o600 });
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--keys-file', keysFile], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await moduleRef.init();
    app = moduleRef;
    app.get(FleetViewService).windowMs = 100;
    base = app.get(DashboardHttpServer).url;
    const keys = app.get(ApiKeyService);
    readKey = (await keys.create({ name: 'dash-reader', scopes: ['read'] })).token.reveal();
    operateKey = (await keys.create({ name: 'dash-operator', scopes: ['operate'] })).token.reveal();
    publisher = await mqtt.connectAsync(broker.url, { clientId: `pub-${broker.topicRoot}` });
    await publish('dash-a', 'telemetry', encodeJson(MinerSnapshot, snapshot('dash-a', 1, { hashrate5sHs: 3e12, boards: [{ index: 0, hashrateHs: 3e12, boardTempC: 71, chipTempC: 88.5, status: 1, phantomReason: '', pciBusId: '', name: '' }] })));
    await publish('dash-b', 'telemetry', encodeJson(MinerSnapshot, snapshot('dash-b', 1, { hashrate5sHs: 1e12, model: 'SimASIC X2 Pro' })));
    await publish('dash-c', 'telemetry', encodeJson(MinerSnapshot, snapshot('dash-c', 1, { hashrate5sHs: 2e12, algorithm: 'scrypt' })));
    await publish('dash-c', 'state', encodeJson(RigState, RigState.fromPartial({ rigId: 'dash-c', agentId: 'a', online: false, at: new Date(Date.now() + 1000) })));
    await waitFor('three rigs in the dashboard', async () => {
      const r = await call('/api/rigs', { key: readKey });
      return r.body['total'] === 3 && (r.body['rigs'] as Array<{ status: string }>).some((s) => s.status === 'offline') ? true : undefined;
    });
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await publisher?.endAsync();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it('answers /healthz without a key', async () => {
    const r = await call('/healthz');
    expect(r).toEqual({ status: 200, body: { status: 'ok', rigs: 3, streamClients: expect.any(Number) } });
  });

  it('serves the Prometheus exposition on /metrics to a read key only', async () => {
    expect((await fetch(`${base}metrics`)).status).toBe(401);
    const res = await fetch(`${base}metrics`, { headers: { authorization: `Bearer ${readKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/^# HELP /m);
  });

  it.each<[string, string | undefined, RegExp]>([
    ['no key', undefined, /no API key was sent: send "Authorization: Bearer rwk_\.\.\." .*admin\.token/],
    ['a malformed key', 'not-a-key', /refused \(malformed\)/],
    ['an unknown key', `rwk_${'0'.repeat(16)}_${'A'.repeat(43)}`, /refused \(unknown_key\)/],
  ])('answers 401 with what to do for %s', async (_what, key, message) => {
    const r = await call('/api/overview', { key });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(message) });
  });

  it('answers 403 naming the operate scope when a read key tries an action, and sends nothing', async () => {
    const r = await call('/api/rigs/dash-a/actions', { key: readKey, method: 'POST', body: { action: 'restart' } });
    expect(r.status).toBe(403);
    expect(r.body.error!.message).toMatch(/needs the "operate" scope/);
    expect((await call('/api/commands', { key: readKey })).body['commands']).toEqual([]);
  });

  it('reports the overview: counts, hashrate per algorithm of online rigs, hottest devices', async () => {
    const r = await call('/api/overview', { key: readKey });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      rigs: { total: 3, online: 2, offline: 1, quarantined: 0 },
      hashrateByAlgorithm: { sha256d: 4e12 },
      hottest: [expect.objectContaining({ rigId: 'dash-a', tempC: 88.5 }), expect.anything(), expect.anything()],
      models: ['SimASIC X1', 'SimASIC X2 Pro'],
    });
  });

  it.each<[string, string, string[]]>([
    ['sorts by hashrate, highest first', 'sort=hashrateHs&dir=desc', ['dash-a', 'dash-c', 'dash-b']],
    ['filters by status', 'status=offline', ['dash-c']],
    ['filters by model substring', 'model=x2', ['dash-b']],
    ['searches rig ids', 'q=DASH-B', ['dash-b']],
    ['pages', 'sort=rigId&offset=1&limit=1', ['dash-b']],
  ])('lists rigs: %s', async (_what, query, ids) => {
    const r = await call(`/api/rigs?${query}`, { key: readKey });
    expect(r.status).toBe(200);
    expect((r.body['rigs'] as Array<{ rigId: string }>).map((s) => s.rigId)).toEqual(ids);
  });

  it.each<[string, string]>([['sort=colour', 'sort'], ['limit=0', 'limit'], ['status=asleep', 'status']])('refuses %s with 400 naming the field', async (query, field) => {
    const r = await call(`/api/rigs?${query}`, { key: readKey });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_argument', field });
  });

  it('serves a rig with its pools and a 404 that says why for an unknown one', async () => {
    const r = await call('/api/rigs/dash-a', { key: readKey });
    expect(r.status).toBe(200);
    const miners = (r.body['rig'] as { miners: Array<{ pools: Array<{ url: string; active?: boolean }> }> }).miners;
    expect(miners[0]!.pools.find((p) => p.active)?.url).toBe('stratum+tcp://a:3333');
    const missing = await call('/api/rigs/nope', { key: readKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error!.message).toMatch(/never received telemetry/);
  });

  it('serves telemetry points from the raw snapshots', async () => {
    const r = await call('/api/rigs/dash-a/telemetry?range=15m', { key: readKey });
    expect(r.body).toMatchObject({ rigId: 'dash-a', resolution: 'raw', points: [expect.objectContaining({ hashrateHs: 3e12, tempMaxC: 88.5, powerW: 3000, fanMinRpm: 5000 })] });
  });

  it('refuses a stream without a valid ticket, and with a forged one', async () => {
    for (const q of ['', '?ticket=', '?ticket=eyJ9.abc']) {
      const res = await fetch(`${base}api/stream${q}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as Reply['body']).error!.message).toMatch(/POST \/api\/stream-ticket/);
    }
  });

  it('streams a rig change after an MQTT publish, and a new event', async () => {
    const { body } = await call('/api/stream-ticket', { key: readKey, method: 'POST' });
    const sse = await openSse(`${base}api/stream?ticket=${encodeURIComponent(body['ticket'] as string)}`);
    streams.push(sse);
    expect(sse.response.headers['content-type']).toMatch(/^text\/event-stream/);
    await waitFor('hello', () => sse.frames.find((f) => f.event === 'hello'));
    await publish('dash-b', 'telemetry', encodeJson(MinerSnapshot, snapshot('dash-b', 2, { hashrate5sHs: 9e12, model: 'SimASIC X2 Pro' })));
    const change = await waitFor('the rigs frame', () => sse.frames.find((f) => f.event === 'rigs' && (f.data as { rigs: Array<{ rigId: string }> }).rigs.some((r) => r.rigId === 'dash-b')));
    expect((change.data as { rigs: Array<{ rigId: string; hashrateHs: number }> }).rigs.find((r) => r.rigId === 'dash-b')!.hashrateHs).toBe(9e12);
    await publish('dash-b', 'events', encodeJson(RigEvent, RigEvent.fromPartial({
      eventId: randomBytes(8).toString('hex'), rigId: 'dash-b', kind: 'safety.critical_temperature', severity: 'critical', reason: 'chip_over_limit', message: 'chip 101 °C', at: new Date(),
    })));
    // Liveness transitions stream too (dash-c's agent went offline): look for this one.
    const event = await waitFor('the event frame', () => sse.frames.find((f) => f.event === 'event' && (f.data as { kind?: string }).kind === 'safety.critical_temperature'));
    // dash-b has no key: its unsigned event is accepted, marked unverified.
    expect(event.data).toMatchObject({ rigId: 'dash-b', kind: 'safety.critical_temperature', reason: 'chip_over_limit', source: 'agent-unverified' });
    // The alert rules fire on it; the overview lists what is firing.
    const alerts = await waitFor('the firing alert in the overview', async () => {
      const a = (await call('/api/overview', { key: readKey })).body['alerts'] as unknown[];
      return a.length > 0 ? a : undefined;
    });
    expect(alerts).toEqual([expect.objectContaining({ rule: 'overheating', rigId: 'dash-b', severity: 'critical', reason: 'chip_over_limit' })]);
    const log = await call('/api/events?severity=critical&kind=safety.', { key: readKey });
    expect((log.body['events'] as unknown[]).length).toBe(1);
  });

  it('restarts a miner through the dispatcher with an operate key: signed, sent, and its result streamed', async () => {
    const { body } = await call('/api/stream-ticket', { key: operateKey, method: 'POST' });
    const sse = await openSse(`${base}api/stream?ticket=${encodeURIComponent(body['ticket'] as string)}`);
    streams.push(sse);
    const agent = await mqtt.connectAsync(broker.url, { clientId: `agent-${broker.topicRoot}` });
    try {
      const received: CommandEnvelope[] = [];
      agent.on('message', (_t, payload) => received.push(decodeCommandEnvelope(payload)));
      await agent.subscribeAsync(topics.rig('dash-a', 'commands'), { qos: 1 });
      const r = await call('/api/rigs/dash-a/actions', { key: operateKey, method: 'POST', body: { action: 'restart', reason: 'stuck at 0 H/s' } });
      expect(r.status).toBe(202);
      const command = r.body['command'] as { commandId: string; state: string; requestedBy: string; reason: string; type: string };
      expect(command).toMatchObject({ type: 'restart-miner', state: 'SENT', reason: 'stuck at 0 H/s', requestedBy: expect.stringMatching(/^operator:apikey:/) });
      const envelope = await waitFor('the signed command on MQTT', () => received.find((e) => e.commandId === command.commandId));
      expect(envelope.payload?.$case).toBe('restartMiner');
      const signer = new RigMessageSigner(() => new RigKeyFile(join(dir.path, 'keys.json')).keyRing()); // the controller refuses unsigned results
      await agent.publishAsync(topics.rig('dash-a', 'results'), encodeJson(CommandResult, signer.signResult(CommandResult.fromPartial({
        commandId: command.commandId, rigId: 'dash-a', outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: '', durationMs: 12, finishedAt: new Date(),
      }), Date.now())), { qos: 1 });
      const done = await waitFor('the finished command on the stream', () => sse.frames.find((f) => f.event === 'command' && (f.data as { state: string }).state === 'SUCCEEDED'));
      expect(done.data).toMatchObject({ commandId: command.commandId, rigId: 'dash-a' });
      const listed = await call('/api/rigs/dash-a/commands', { key: readKey });
      expect(listed.body['commands']).toEqual([expect.objectContaining({ commandId: command.commandId, state: 'SUCCEEDED', reason: 'stuck at 0 H/s' })]);
    } finally {
      await agent.endAsync();
    }
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['switch-pool', { action: 'switch-pool', poolIndex: 1 }, 'switchPool', 'switch-pool'],
    ['apply-profile', { action: 'apply-profile', profile: 'eco' }, 'applyProfile', 'apply-profile'],
  ])('sends %s as a signed command', async (_name, body, $case, type) => {
    const agent = await mqtt.connectAsync(broker.url, { clientId: `agent2-${broker.topicRoot}` });
    try {
      const received: CommandEnvelope[] = [];
      agent.on('message', (_t, payload) => received.push(decodeCommandEnvelope(payload)));
      await agent.subscribeAsync(topics.rig('dash-a', 'commands'), { qos: 1 });
      const r = await call('/api/rigs/dash-a/actions', { key: operateKey, method: 'POST', body });
      expect(r.status).toBe(202);
      const command = r.body['command'] as { commandId: string; type: string };
      expect(command.type).toBe(type);
      const envelope = await waitFor('the command on MQTT', () => received.find((e) => e.commandId === command.commandId));
      expect(envelope.payload).toEqual({ $case, value: $case === 'switchPool' ? { poolIndex: 1 } : { profile: 'eco' } });
    } finally {
      await agent.endAsync();
    }
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown action', { action: 'explode' }, 'action'],
    ['a pool the miner does not have', { action: 'switch-pool', poolIndex: 7 }, 'poolIndex'],
    ['a miner the rig does not have', { action: 'restart', minerId: 'm9' }, 'minerId'],
  ])('refuses %s with 400 naming the field', async (_what, body, field) => {
    const r = await call('/api/rigs/dash-a/actions', { key: operateKey, method: 'POST', body });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_argument', field });
  });

  it('releases a quarantined rig with an operate key and a reason: 409 when not quarantined, audited', async () => {
    // No fleet spec here, so no policy quarantines: the watchdog's decision is seeded as the reconciler records it.
    await app.get(EventRepository).recordEvent(RigEvent.fromPartial({
      eventId: 'dash-b-quarantine', rigId: 'dash-b', kind: 'policy.quarantine', severity: 'critical', reason: 'ladder-exhausted', message: 'quarantined', at: new Date(),
    }), 'watchdog');
    app.get(FleetViewService).markDirty('dash-b');
    const status = async (): Promise<string> => ((await call('/api/rigs/dash-b', { key: readKey })).body['summary'] as { status: string }).status;
    await waitFor('dash-b quarantined in the dashboard', async () => ((await status()) === 'quarantined' ? true : undefined));

    expect((await call('/api/rigs/dash-b/actions', { key: readKey, method: 'POST', body: { action: 'release', reason: 'fixed' } })).status).toBe(403);
    const noReason = await call('/api/rigs/dash-b/actions', { key: operateKey, method: 'POST', body: { action: 'release' } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error).toMatchObject({ code: 'invalid_argument', field: 'reason' });
    const released = await call('/api/rigs/dash-b/actions', { key: operateKey, method: 'POST', body: { action: 'release', reason: 'swapped the PSU' } });
    expect(released.status).toBe(202);
    expect(released.body['event']).toMatchObject({ rigId: 'dash-b', kind: 'operator.release', source: 'operator', reason: 'swapped the PSU', at: expect.any(Number) });
    await waitFor('dash-b no longer quarantined', async () => ((await status()) !== 'quarantined' ? true : undefined));
    const again = await call('/api/rigs/dash-b/actions', { key: operateKey, method: 'POST', body: { action: 'release', reason: 'again' } });
    expect(again.status).toBe(409);
    expect(again.body.error?.message).toContain('not quarantined');
    const rows = await app.get(SqliteDatabase).all<{ outcome: string }>("SELECT outcome FROM audit WHERE action = 'dashboard.release' AND target = 'dash-b' ORDER BY seq");
    expect(rows.map((r) => r.outcome)).toEqual(['invalid', 'ok', 'invalid']);
  });

  it('audits every action attempted through the dashboard: who, which key, what, which rig, how it went', async () => {
    const db = app.get(SqliteDatabase);
    const before = (await db.get<{ n: number }>("SELECT MAX(seq) AS n FROM audit"))?.n ?? 0;
    const ok = await call('/api/rigs/dash-a/actions', { key: operateKey, method: 'POST', body: { action: 'restart', reason: 'audit me' } });
    expect(ok.status).toBe(202);
    const refused = await call('/api/rigs/dash-a/actions', { key: operateKey, method: 'POST', body: { action: 'switch-pool', poolIndex: 7 } });
    expect(refused.status).toBe(400);
    const denied = await call('/api/rigs/dash-a/actions', { key: readKey, method: 'POST', body: { action: 'restart' } });
    expect(denied.status).toBe(403);
    await app.get(RefusalAuditService).flush(); // refusals are aggregated per key and window: write the open windows
    const rows = await db.all<{ principal: string; key_id: string; action: string; target: string; outcome: string; detail: string }>(
      "SELECT principal, key_id, action, target, outcome, detail FROM audit WHERE seq > ? AND (action LIKE 'dashboard.%' OR action LIKE 'POST %' OR action = 'refusals') ORDER BY seq", [before]);
    const commandId = (ok.body['command'] as { commandId: string }).commandId;
    expect(rows).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'dashboard.restart', target: 'dash-a', outcome: 'ok', principal: expect.stringMatching(/^apikey:/), key_id: expect.any(String) }),
      expect.objectContaining({ action: 'dashboard.switch-pool', target: 'dash-a', outcome: 'invalid' }),
    ]));
    expect(rows.find((r) => r.action === 'dashboard.restart')!.detail).toContain(commandId);
    expect(rows.some((r) => r.outcome !== 'ok' && r.outcome !== 'invalid')).toBe(true); // the read key's refusal, audited by the authenticator
  });
});
