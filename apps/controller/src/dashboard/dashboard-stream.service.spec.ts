import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RigEvent } from '@rigwarden/protocol';
import { makeTempDir, waitFor, type TempDir } from '@rigwarden/testing';
import { EventRepository } from '../persistence/event-repository';
import { migrate } from '../persistence/migrations';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { DashboardReadRepository } from './dashboard-read.repository';
import { DashboardStream, type FleetChanges } from './dashboard-stream.service';
import type { FleetChange } from './fleet-view.service';
import type { FleetOverview } from './rig-summary';

const OVERVIEW = { rigs: { total: 0, online: 0, offline: 0, quarantined: 0 }, hashrateByAlgorithm: {}, powerW: 0, hottest: [], groups: [], models: [] } as FleetOverview;

/** The stream over a real socket: what a client receives, and when the server ends it. */
describe('dashboard stream', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let server: Server;
  let stream: DashboardStream;
  let publish: (change: FleetChange) => void = () => undefined;

  beforeAll(async () => {
    dir = makeTempDir('rigwarden-dash-stream-');
    db = await SqliteDatabase.open(join(dir.path, 's.db'));
    await migrate(db);
    const view: FleetChanges = { subscribe: (l) => { publish = l; return () => undefined; }, overview: () => OVERVIEW };
    stream = new DashboardStream(view, new DashboardReadRepository(db), 50, 400);
    await stream.start();
    server = createServer((_req, res) => stream.open(res, 'test'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    stream.stop();
    await new Promise((resolve) => server.close(resolve));
    await db.close();
    dir.remove();
  });

  it('sends hello, fleet changes and new events in order, then ends the stream at its maximum age', async () => {
    const started = Date.now();
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve());
      }).on('error', reject).end();
    });
    await waitFor('hello', () => (text.includes('event: hello') ? true : undefined));
    publish({ rigs: [], reload: true, changed: 900, overview: OVERVIEW });
    await new EventRepository(db).recordEvent(RigEvent.fromPartial({ eventId: 'x1', rigId: 'r', kind: 'policy.alert', severity: 'warning', reason: 'why', message: 'm', at: new Date() }), 'failover');
    await waitFor('the event', () => (text.includes('event: event') ? true : undefined));
    await ended;
    const age = Date.now() - started;
    expect(age).toBeGreaterThanOrEqual(350);
    expect(age).toBeLessThan(3000);
    const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(types).toEqual(['hello', 'rigs', 'event']);
    expect(text).toMatch(/^retry: 2000$/m);
    expect(text).toMatch(/"reload":true,"changed":900/);
    expect(text).toMatch(/"eventId":"x1","rigId":"r","kind":"policy.alert"/);
    expect(stream.clientCount).toBe(0);
  });

  it('ends the streams of a key that stopped working (expired) at the next key check, with a last revoked event; other keys stay', async () => {
    const hub = new DashboardStream({ subscribe: () => () => undefined, overview: () => OVERVIEW }, new DashboardReadRepository(db), 50, 60_000, 50);
    await hub.start();
    const active = new Set(['key-a', 'key-b']);
    hub.checkKeysWith(async (keyId) => active.has(keyId));
    const keyed = createServer((req, res) => hub.open(res, 'p', new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? ''));
    await new Promise<void>((resolve) => keyed.listen(0, '127.0.0.1', () => resolve()));
    const port = (keyed.address() as AddressInfo).port;
    const open = (key: string): { text: () => string; ended: Promise<void> } => {
      let text = '';
      const ended = new Promise<void>((resolve, reject) => {
        request(`http://127.0.0.1:${port}/?key=${key}`, (res) => {
          res.setEncoding('utf8');
          res.on('data', (c: string) => { text += c; });
          res.on('end', () => resolve());
        }).on('error', reject).end();
      });
      return { text: () => text, ended };
    };
    const a = open('key-a');
    const b = open('key-b');
    await waitFor('both streams', () => (hub.streamsOf('key-a') === 1 && hub.streamsOf('key-b') === 1 ? true : undefined));
    active.delete('key-a');
    await a.ended;
    expect(a.text()).toMatch(/event: revoked\ndata: \{"keyId":"key-a"\}\n\n$/);
    expect(hub.streamsOf('key-b')).toBe(1);
    hub.stop();
    await b.ended;
    await new Promise((resolve) => keyed.close(resolve));
  });
});
