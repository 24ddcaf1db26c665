/**
 * The dashboard's edges as a hostile client on the same host would try them, over real sockets (the controller's
 * app module, a test broker, SQLite in a temp dir, the HTTP and gRPC servers on 127.0.0.1:0): broken percent-encoding
 * after authentication, streams closed on revocation, single-use tickets bound to their key, a cap of streams per
 * key, and a flood of refusals that is answered 429 and costs two audit rows.
 */
import 'reflect-metadata';
import { readdirSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Client, credentials, type MethodDefinition } from '@grpc/grpc-js';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AdminServiceService, RevokeApiKeyRequest } from '@rigwarden/protocol';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { FleetGrpcServer } from '../api-grpc/fleet-grpc.server';
import { AppModule } from '../app.module';
import { AuditRepository } from '../audit/audit.repository';
import { DEFAULT_REFUSALS_PER_WINDOW } from '../audit/refusal-audit';
import { RefusalAuditService } from '../audit/refusal-audit.service';
import { loadControllerConfig } from '../config/controller-config';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { ApiKeyService } from '../security/api-key.service';
import { DashboardHttpServer } from './dashboard-http.server';
import { DashboardStream } from './dashboard-stream.service';

jest.setTimeout(60_000);

interface Sse { frames: string[]; ended: Promise<void>; close(): void; response: IncomingMessage }

/** Opens /api/stream with a ticket; resolves once the response headers are in (any status). */
function openSse(url: string): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      let buffer = '';
      const frames: string[] = [];
      const ended = new Promise<void>((done) => { res.on('end', done); res.on('close', done); });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          frames.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('error', () => undefined);
      resolve({ frames, ended, close: () => req.destroy(), response: res });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard edges', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: INestApplicationContext;
  let base: string;
  let grpc: Client;
  const streams: Sse[] = [];
  let anonymousRefusals = 0;

  const fetchAs = async (path: string, key?: string, method = 'GET'): Promise<{ status: number; headers: Headers; body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown> }> => {
    const res = await fetch(`${base}${path.replace(/^\//, '')}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.status, headers: res.headers, body: await res.json() as never };
  };
  const newKey = async (name: string): Promise<{ token: string; id: string }> => {
    const { token, info } = await app.get(ApiKeyService).create({ name, scopes: ['read'] });
    return { token: token.reveal(), id: info.id };
  };
  const ticketFor = async (key: string): Promise<string> => (await fetchAs('/api/stream-ticket', key, 'POST')).body['ticket'] as string;
  const stream = async (ticket: string): Promise<Sse> => {
    const sse = await openSse(`${base}api/stream?ticket=${encodeURIComponent(ticket)}`);
    streams.push(sse);
    return sse;
  };
  const revokeOverGrpc = (keyId: string): Promise<void> => new Promise((resolve, reject) => {
    const def = AdminServiceService.revokeApiKey as unknown as MethodDefinition<RevokeApiKeyRequest, unknown>;
    grpc.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, RevokeApiKeyRequest.fromPartial({ keyId }), grpcAuth(readAdminToken(dir.path)),
      (err) => (err ? reject(err) : resolve()));
  });

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir('rigwarden-dash-edge-');
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--max-streams-per-key', '3'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await moduleRef.init();
    app = moduleRef;
    base = app.get(DashboardHttpServer).url;
    grpc = new Client(app.get(FleetGrpcServer).address, credentials.createInsecure());
  });

  let closed = false;

  afterAll(async () => {
    for (const s of streams) s.close();
    grpc?.close();
    if (!closed) await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it('/api/rigs/%E0%A4%A: 401 without a key (decoding waits for authentication), 400 naming rigId with one; never a 500', async () => {
    const reader = await newKey('edge-reader');
    for (const path of ['/api/rigs/%E0%A4%A', '/api/rigs/%E0%A4%A/telemetry', '/api/rigs/%ZZ/events']) {
      const anonymous = await fetchAs(path);
      anonymousRefusals++;
      expect({ path, status: anonymous.status, code: anonymous.body.error?.code }).toEqual({ path, status: 401, code: 'unauthenticated' });
      const keyed = await fetchAs(path, reader.token);
      expect({ path, status: keyed.status, body: keyed.body }).toEqual({
        path, status: 400, body: { error: { code: 'bad_request', message: 'the rigId in the path is not valid percent-encoded UTF-8', field: 'rigId' } },
      });
    }
    const action = await fetch(`${base}api/rigs/%E0%A4%A/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    anonymousRefusals++;
    expect(action.status).toBe(401);
  });

  it('a ticket opens one stream: the same ticket again is 401', async () => {
    const reader = await newKey('edge-once');
    const ticket = await ticketFor(reader.token);
    const first = await stream(ticket);
    expect(first.response.statusCode).toBe(200);
    const again = await stream(ticket);
    expect(again.response.statusCode).toBe(401);
    first.close();
  });

  it('revoking a key (RevokeApiKey over gRPC) closes its open streams with a last `revoked` event, voids its unused tickets, and leaves other keys\' streams open', async () => {
    const doomed = await newKey('edge-doomed');
    const bystander = await newKey('edge-bystander');
    const open = [await stream(await ticketFor(doomed.token)), await stream(await ticketFor(doomed.token))];
    const unused = await ticketFor(doomed.token);
    const other = await stream(await ticketFor(bystander.token));
    for (const s of [...open, other]) expect(s.response.statusCode).toBe(200);
    await waitFor('hello on every stream', () => ([...open, other].every((s) => s.frames.some((f) => f.startsWith('event: hello'))) ? true : undefined));
    const hub = (app.get(DashboardHttpServer) as unknown as { stream: DashboardStream }).stream;
    expect(hub.streamsOf(doomed.id)).toBe(2);

    await revokeOverGrpc(doomed.id);
    await Promise.all(open.map((s) => s.ended));
    for (const s of open) expect(s.frames[s.frames.length - 1]).toBe(`event: revoked\ndata: {"keyId":"${doomed.id}"}`);
    expect(hub.streamsOf(doomed.id)).toBe(0);
    expect(hub.streamsOf(bystander.id)).toBe(1);
    expect((await stream(unused)).response.statusCode).toBe(401);
    expect((await fetchAs('/api/stream-ticket', doomed.token, 'POST')).status).toBe(401);
    other.close();
  });

  it('a ticket is refused once its key was revoked, even by another path than this process\'s revocation hook', async () => {
    const reader = await newKey('edge-db-revoked');
    const ticket = await ticketFor(reader.token);
    // Revoked in the database directly (as another controller sharing it would): the redeem re-checks the key.
    await (app.get(ApiKeyService) as unknown as { keys: { revoke(id: string, now: number): Promise<boolean> } }).keys.revoke(reader.id, Date.now());
    expect((await stream(ticket)).response.statusCode).toBe(401);
  });

  it('caps streams per key (--max-streams-per-key 3): the fourth is a 429 that says why; closing one makes room', async () => {
    const reader = await newKey('edge-many-tabs');
    const hub = (app.get(DashboardHttpServer) as unknown as { stream: DashboardStream }).stream;
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await stream(await ticketFor(reader.token)));
    expect(open.map((s) => s.response.statusCode)).toEqual([200, 200, 200]);
    const fourthTicket = await ticketFor(reader.token);
    const res = await fetch(`${base}api/stream?ticket=${encodeURIComponent(fourthTicket)}`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ error: { code: 'too_many_streams', message: `API key ${reader.id} already has 3 open streams (at most 3); close one (another tab) and retry` } });
    open[0]!.close();
    await waitFor('the closed stream gone', () => (hub.streamsOf(reader.id) === 2 ? true : undefined));
    // The refused ticket was not used up by the 429: it opens the stream now.
    expect((await stream(fourthTicket)).response.statusCode).toBe(200);
    for (const s of open) s.close();
  });

  it(`a flood of 400 unauthenticated requests from one address: ${DEFAULT_REFUSALS_PER_WINDOW} answered 401, the rest 429 with Retry-After, one summary row with their count (the window's first refusal has its own); a valid key from the same address still reads`, async () => {
    const audit = app.get(AuditRepository);
    const before = (await audit.query({ limit: 1 }))[0]!.seq;
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    const flood = 400;
    for (let i = 0; i < flood; i++) {
      const res = await fetch(`${base}api/rigs`, { headers: { authorization: i % 2 ? 'Bearer rwk_nonsense' : '' } });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    const earlier = anonymousRefusals; // this window began with the refusals of the first test
    expect(Object.fromEntries(statuses)).toEqual({ 401: DEFAULT_REFUSALS_PER_WINDOW - earlier, 429: flood - (DEFAULT_REFUSALS_PER_WINDOW - earlier) });
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    const reader = await newKey('edge-after-flood');
    expect((await fetchAs('/api/overview', reader.token)).status).toBe(200);

    expect((await audit.query({ limit: 10_000 })).filter((r) => r.seq > before && r.principal === 'anonymous')).toHaveLength(0);
    await app.get(RefusalAuditService).flush();
    const rows = (await audit.query({ limit: 10_000 })).filter((r) => r.seq > before && r.principal === 'anonymous');
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.detail)).toMatchObject({
      source: 'addr:127.0.0.1', count: flood + earlier - 1, actions: { 'GET /api/rigs': flood },
      reasons: { 'unauthenticated:missing': expect.any(Number), 'unauthenticated:malformed': expect.any(Number) },
    });
  });

  it('at shutdown the refusals of open windows are written before the database closes', async () => {
    const { token, info } = await app.get(ApiKeyService).create({ name: 'edge-last', scopes: ['read'] });
    for (const path of ['/api/rigs/r1/actions', '/api/rigs/r2/actions']) {
      const res = await fetch(`${base}${path.slice(1)}`, { method: 'POST', headers: { authorization: `Bearer ${token.reveal()}`, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(403);
    }
    const dbPath = join(dir.path, 'rigwarden.db');
    closed = true;
    await app.close();
    const db = await SqliteDatabase.open(dbPath);
    const rows = await db.all<{ outcome: string; action: string; detail: string }>('SELECT outcome, action, detail FROM audit WHERE principal = ? ORDER BY seq', [`apikey:${info.id}`]);
    await db.close();
    expect(rows.map((r) => [r.outcome, r.action, (JSON.parse(r.detail) as { count?: number }).count])).toEqual([
      ['denied', 'POST /api/rigs/:rigId/actions', undefined],
      ['refused', 'refusals', 1],
    ]);
    // Everything the controller wrote into its data dir (database, WAL, secrets, admin token) is 0600.
    const modes = Object.fromEntries(readdirSync(dir.path).map((f) => [f, statSync(join(dir.path, f)).mode & 0o777]));
    expect(Object.keys(modes)).toEqual(expect.arrayContaining(['rigwarden.db', 'admin.token', 'controller-secrets.json']));
    expect(Object.entries(modes).filter(([, m]) => m !== 0o600)).toEqual([]);
  });
});
