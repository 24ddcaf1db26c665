/**
 * Issue 17 item 4: the scanner and the agent's scan identify a miner by its HTTP fingerprint as well as its cgminer
 * API, label it (vendor, model, firmware, control paths) and pick the driver that controls it. Real simulators over
 * loopback: the stock Antminer web simulator, the Braiins OS+ gRPC simulator, the Whatsminer API v3 simulator and the
 * cgminer simulators; web pages from libs/drivers/antminer-web/testdata-synthetic/web-fingerprints (synthetic around
 * the documented markers, see its PROVENANCE.txt).
 */
import '@rigwarden/drivers-cgminer';
import '@rigwarden/drivers-antminer-web';
import '@rigwarden/drivers-braiins';
import '@rigwarden/drivers-whatsminer';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CgminerFamilyDriver, runProbeCommand, runScanCommand, scanAll, type ScanOptions, type ScanResult } from '@rigwarden/drivers-cgminer';
import { driverRegistry } from '@rigwarden/drivers-core';
import { createLogger, systemClock } from '@rigwarden/shared';
import { AntminerWebSimulator, BraiinsGrpcSimulator, CgminerSimulator, WhatsminerV3Simulator } from '@rigwarden/simulators';
import { makeTempDir, startTestBroker, waitFor, type TempDir, type TestBroker } from '@rigwarden/testing';
import { Agent } from '../agent';
import { parseAgentConfig } from '../config/agent-config';

jest.setTimeout(30_000);

const page = (file: string): string =>
  readFileSync(join(__dirname, '..', '..', '..', '..', 'libs', 'drivers', 'antminer-web', 'testdata-synthetic', 'web-fingerprints', file), 'utf8');

interface Stoppable { port: number; stop: () => Promise<void> }

/** An HTTP server on 127.0.0.1 answering GET / with `handler`; stopped by the test. */
async function web(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Stoppable & { requests: IncomingMessage[] }> {
  const sockets = new Set<Socket>();
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port, requests,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that accepts and never answers: a web UI that hangs. */
async function hanging(): Promise<Stoppable> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that was just closed: nothing listens there. */
async function closedPort(): Promise<number> {
  const s = await hanging();
  await s.stop();
  return s.port;
}

/** The miner under test: what it serves, and the scan options that reach it. */
interface WebRequest { url?: string; headers: Record<string, string | string[] | undefined> }
interface Rig { scan: Partial<ScanOptions> & { port: number; webPort: number }; stop: () => Promise<void>; webRequests?: () => WebRequest[] }

async function stockAntminer(): Promise<Rig> {
  const webSim = new AntminerWebSimulator({ lifetimeMs: 20_000 });
  const api = new CgminerSimulator({ dialect: 'antminer' });
  const w = await webSim.start();
  const a = await api.start();
  return {
    scan: { port: a.port, webPort: w.port },
    webRequests: () => webSim.requests.map((q) => ({ url: q.path, headers: q.headers })),
    stop: async () => { await webSim.stop(); await api.stop(); },
  };
}

async function braiinsPlus(): Promise<Rig> {
  const grpc = new BraiinsGrpcSimulator({ lifetimeMs: 20_000 });
  const grpcPort = await grpc.start();
  const ui = await web((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page('braiins-os.html')));
  return {
    scan: { port: await closedPort(), webPort: ui.port, apiPorts: { 'braiins-grpc': grpcPort } },
    webRequests: () => ui.requests,
    stop: async () => { await ui.stop(); await grpc.stop(); },
  };
}

async function whatsminerV3(): Promise<Rig> {
  const v3 = new WhatsminerV3Simulator();
  const v3Addr = await v3.start();
  const ui = await web((_req, res) => res.writeHead(307, { Location: 'https://127.0.0.1/cgi-bin/luci' }).end());
  return {
    scan: { port: await closedPort(), webPort: ui.port, apiPorts: { 'whatsminer-v3': v3Addr.port } },
    webRequests: () => ui.requests,
    stop: async () => { await ui.stop(); await v3.stop(); },
  };
}

async function plainCgminer(): Promise<Rig> {
  const api = new CgminerSimulator();
  const a = await api.start();
  return { scan: { port: a.port, webPort: await closedPort() }, stop: () => api.stop() };
}

async function oldBraiinsNoGrpc(): Promise<Rig> {
  // Braiins OS (cgminer API, braiins dialect) with no gRPC API: the scan asks 50051's stand-in and finds nothing there.
  const api = new CgminerSimulator({ dialect: 'braiins' });
  const a = await api.start();
  const ui = await web((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page('braiins-os.html')));
  return {
    scan: { port: a.port, webPort: ui.port, apiPorts: { 'braiins-grpc': await closedPort() } },
    stop: async () => { await ui.stop(); await api.stop(); },
  };
}

async function identifyOne(rig: Rig, extra: Partial<ScanOptions> = {}): Promise<ScanResult> {
  const results = await scanAll({ targets: ['127.0.0.1'], hostDeadlineMs: 4000, ...rig.scan, ...extra });
  expect(results).toHaveLength(1);
  return results[0]!;
}

describe('scan: identification by HTTP fingerprint and the cgminer API', () => {
  it.each<[string, () => Promise<Rig>, Record<string, unknown>, Array<[string, 'control' | 'read']>, string]>([
    ['stock Antminer (web realm + cgminer API)', stockAntminer,
      { vendor: 'antminer', model: 'Antminer S19 Pro', web: { firmware: 'antminer-stock' } },
      [['antminer-web', 'control'], ['antminer', 'read']], 'antminer-web'],
    ['Braiins OS+ (page marker + gRPC, no cgminer API)', braiinsPlus,
      { vendor: 'braiins', firmware: 'Braiins OS+', web: { firmware: 'braiins-os' } },
      [['braiins-grpc', 'control']], 'braiins-grpc'],
    ['Whatsminer API v3 (LuCI behind https + get.device.info)', whatsminerV3,
      { vendor: 'whatsminer', model: expect.stringContaining('M60S') as unknown, web: { firmware: 'whatsminer' } },
      [['whatsminer-v3', 'control']], 'whatsminer-v3'],
    ['cgminer with no web UI: by its API alone', plainCgminer,
      { vendor: '', firmware: expect.stringContaining('cgminer') as unknown },
      [['cgminer', 'control']], 'cgminer'],
    ['Braiins OS without gRPC: its cgminer API (the braiins dialect reads only)', oldBraiinsNoGrpc,
      { vendor: 'braiins', web: { firmware: 'braiins-os' } },
      [['braiins', 'read']], 'braiins'],
  ])('%s', async (_name, make, label, paths, driver) => {
    const rig = await make();
    try {
      const r = await identifyOne(rig);
      expect(r.class).toBe('identified');
      expect(r.label).toMatchObject(label);
      expect(r.label!.controlPaths.map((p) => [p.driver, p.access])).toEqual(paths);
      expect(r.label!.driver?.name).toBe(driver);
      // No credentials on the web UI's GET / (none configured).
      for (const req of rig.webRequests?.() ?? []) expect(req.headers['authorization']).toBeUndefined();
    } finally {
      await rig.stop();
    }
  });

  it('a stock Antminer\'s pick reads its cgminer API too (options.apiPort); one GET / is all the web UI sees', async () => {
    const rig = await stockAntminer();
    try {
      const r = await identifyOne(rig);
      expect(r.label!.driver).toEqual({ name: 'antminer-web', port: rig.scan.webPort, options: { apiPort: rig.scan.port } });
      expect(r.label!.controlPaths[1]!.note).toContain('Code 45');
      expect(rig.webRequests!().map((q) => q.url)).toEqual(['/']);
    } finally {
      await rig.stop();
    }
  });

  it('Braiins OS+ with configured credentials: logs in and names the model; without, no login is tried', async () => {
    const rig = await braiinsPlus();
    try {
      expect((await identifyOne(rig)).label!.model).toBe('');
      const r = await identifyOne(rig, { credentials: { user: 'root', password: '' } });
      expect(r.label).toMatchObject({ vendor: 'braiins', model: 'Antminer S19 XP' });
    } finally {
      await rig.stop();
    }
  });

  it('a web UI that hangs does not stall the scan: identified by the API within the web wait', async () => {
    const api = new CgminerSimulator({ dialect: 'antminer' });
    const a = await api.start();
    const hang = await hanging();
    try {
      const started = performance.now();
      const r = await identifyOne({ scan: { port: a.port, webPort: hang.port }, stop: async () => undefined }, { webTimeoutMs: 500, hostDeadlineMs: 3000 });
      const took = performance.now() - started;
      expect(r).toMatchObject({ class: 'identified', label: { vendor: 'antminer', model: 'Antminer S19 Pro', controlPaths: [{ driver: 'antminer', access: 'read' }] } });
      expect(r.label!.web).toBeUndefined();
      expect(took).toBeLessThan(1500);
    } finally {
      await hang.stop();
      await api.stop();
    }
  });

  it('a web UI of no known firmware and no API: responsive, not identified', async () => {
    const ui = await web((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page('plain.html')));
    try {
      const r = await identifyOne({ scan: { port: await closedPort(), webPort: ui.port }, stop: async () => undefined });
      expect(r.class).toBe('responsive');
      expect(r.message).toContain('no known realm');
    } finally {
      await ui.stop();
    }
  });
});

describe('the auto driver: identified by the web fingerprint as well as the cgminer API', () => {
  it('a stock Antminer read through auto is labelled from its web UI, which names antminer-web as the driver that controls it', async () => {
    const rig = await stockAntminer();
    try {
      const driver = driverRegistry.create('auto', { host: '127.0.0.1', port: rig.scan.port, options: { webPort: rig.scan.webPort } }) as CgminerFamilyDriver;
      const reading = await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
      expect(reading).toMatchObject({ vendor: 'antminer', model: 'Antminer S19 Pro', driver: 'auto:antminer' });
      expect(driver.label).toMatchObject({ web: { firmware: 'antminer-stock' }, driver: { name: 'antminer-web', port: rig.scan.webPort, options: { apiPort: rig.scan.port } } });
      expect(driver.label!.controlPaths.map((p) => `${p.driver} ${p.access}`)).toEqual(['antminer-web control', 'antminer read']);
      // A second collect does not ask the web UI again.
      await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
      expect(rig.webRequests!()).toHaveLength(1);
      const lines: string[] = [];
      expect(await runProbeCommand([`127.0.0.1:${rig.scan.port}`, '--web-port', String(rig.scan.webPort)], (l) => lines.push(l))).toBe(0);
      expect(lines[1]).toBe(`# antminer / Antminer S19 Pro / ${reading.firmware}; control paths: antminer-web:${rig.scan.webPort} (control), antminer:${rig.scan.port} (read only); configure driver antminer-web on port ${rig.scan.webPort} to control it`);
    } finally {
      await rig.stop();
    }
  });

  it('with no web UI, auto is identified by its API alone', async () => {
    const rig = await plainCgminer();
    try {
      const driver = driverRegistry.create('auto', { host: '127.0.0.1', port: rig.scan.port, options: { webPort: rig.scan.webPort } }) as CgminerFamilyDriver;
      expect((await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 })).driver).toBe('auto:cgminer');
      expect(driver.label).toMatchObject({ controlPaths: [{ driver: 'cgminer', access: 'control' }], driver: { name: 'cgminer' } });
      expect(driver.label!.web).toBeUndefined();
    } finally {
      await rig.stop();
    }
  });
});

describe('rigwarden-agent scan: table, --json, --write-config', () => {
  let dir: TempDir;
  beforeAll(() => { dir = makeTempDir(); });
  afterAll(() => dir?.remove());

  it('prints vendor, model, firmware and the control paths; writes agent config with the controlling driver', async () => {
    const rig = await stockAntminer();
    const file = join(dir.path, 'found.yaml');
    try {
      const args = ['127.0.0.1', '--port', String(rig.scan.port), '--web-port', String(rig.scan.webPort)];
      const lines: string[] = [];
      expect(await runScanCommand([...args, '--write-config', file, '--rig-prefix', 'row1-'], (l) => lines.push(l))).toBe(0);
      expect(lines[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1:${rig.scan.port} +identified +antminer {2}Antminer S19 Pro {2}\\S.* via antminer-web:${rig.scan.webPort} \\(control\\), antminer:${rig.scan.port} \\(read only\\) +\\d+ ms$`));
      expect(lines).toContain('1 identified, 0 responsive but unidentified, 0 unresponsive');
      expect(lines.at(-1)).toBe(`wrote 1 miners to ${file}`);
      const written = parseYaml(readFileSync(file, 'utf8')) as { miners: unknown[] };
      expect(written.miners).toEqual([{ rig: 'row1-127-0-0-1', driver: 'antminer-web', host: '127.0.0.1', port: rig.scan.webPort, options: { apiPort: rig.scan.port } }]);
      // The written entries are a valid agent config's miners.
      const config = parseAgentConfig({ agent: { id: 'a1', dataDir: join(dir.path, 'd') }, mqtt: { url: 'mqtt://127.0.0.1:1' }, miners: written.miners }, join(dir.path, 'agent.yaml'), {});
      expect(config.miners.map((m) => m.driver)).toEqual(['antminer-web']);

      const json: string[] = [];
      expect(await runScanCommand([...args, '--json'], (l) => json.push(l))).toBe(0);
      expect(JSON.parse(json[0]!)).toMatchObject({
        class: 'identified', host: '127.0.0.1', port: rig.scan.port,
        label: { vendor: 'antminer', model: 'Antminer S19 Pro', driver: { name: 'antminer-web' }, controlPaths: [{ driver: 'antminer-web' }, { driver: 'antminer' }] },
      });
      expect(await runScanCommand([...args, '--web-port', 'x'], () => undefined, () => undefined)).toBe(2);
    } finally {
      await rig.stop();
    }
  });
});

describe('the agent\'s scan: ranges with driver auto add each miner under the driver that controls it', () => {
  let broker: TestBroker;
  let dir: TempDir;
  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
  });
  afterAll(async () => {
    await broker?.stop();
    dir?.remove();
  });

  it('a Whatsminer API v3 found by scan is polled with whatsminer-v3', async () => {
    const rig = await whatsminerV3();
    const config = parseAgentConfig({
      agent: { id: 'scan-id-agent', dataDir: join(dir.path, 'agent') },
      mqtt: { url: broker.url, clientId: `scan-id-${broker.topicRoot}`, topicRoot: broker.topicRoot },
      poll: { intervalMs: 300 },
      scan: [{ ranges: ['127.0.0.1'], port: rig.scan.port, webPort: rig.scan.webPort, ports: rig.scan.apiPorts, rigPrefix: 'found-', intervalMinutes: 0 }],
    }, join(dir.path, 'agent.yaml'), {});
    const agent = new Agent(config, systemClock, createLogger('agent', { level: 'error' }));
    try {
      await agent.start();
      await agent.scanOnce();
      expect(agent.status(true).rigIds).toEqual(['found-127-0-0-1']);
      const drivers = await waitFor('a collect by the picked driver', () => {
        const names = agent.status(true).drivers.filter((d) => d.successes > 0).map((d) => d.driver);
        return names.length > 0 ? names : undefined;
      }, 10_000);
      expect(drivers).toEqual(['whatsminer-v3']);
    } finally {
      await agent.stop();
      await rig.stop();
    }
  });
});
