/**
 * Firmware by HTTP fingerprint (issue 17 item 4): realm, redirects and page markers of one unauthenticated GET /,
 * over real loopback HTTP servers serving the pages of testdata-synthetic/web-fingerprints (synthetic around the
 * documented markers, see its PROVENANCE.txt; testdata/ holds device replies only) and the stock Antminer web simulator.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { AntminerWebSimulator } from '@rigwarden/simulators';
import { classifyWebPage, fetchWebPage, identifyWebFirmware, type WebFirmware } from './web-firmware.fingerprint';

const testdata = (...p: string[]): string => readFileSync(join(__dirname, '..', 'testdata', ...p), 'utf8');
const synthetic = (file: string): string => readFileSync(join(__dirname, '..', 'testdata-synthetic', 'web-fingerprints', file), 'utf8');

/** An HTTP server on 127.0.0.1 answering each path with its handler; stopped by the test. */
async function serve(routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const route = routes[(req.url ?? '/').split('?')[0]!];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const html = (body: string) => (_req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'text/html' }).end(body);
};

describe('web firmware fingerprint', () => {
  it('the stock Antminer web UI by the digest realm of its 401 on GET /, without credentials', async () => {
    const sim = new AntminerWebSimulator({ lifetimeMs: 10_000 });
    const target = await sim.start();
    try {
      const found = await identifyWebFirmware(target);
      expect(found).toMatchObject({ firmware: 'antminer-stock', vendor: 'antminer', controlPaths: ['antminer-web:80'], evidence: '401 with digest realm "antMiner Configuration"' });
      expect(sim.requests.every((r) => !r.headers['authorization'])).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it.each<[string, WebFirmware, string[]]>([
    ['braiins-os.html', 'braiins-os', ['braiins-grpc:50051', 'braiins:4028']],
    ['luxos.html', 'luxos', ['luxos:4028']],
    ['vnish.html', 'vnish', []],
    ['epic.html', 'epic', []],
    ['goldshell.html', 'goldshell', []],
    ['plain.html', 'unknown', []],
  ])('%s served at / is %s', async (file, firmware, controlPaths) => {
    const server = await serve({ '/': html(synthetic(file)) });
    try {
      expect(await identifyWebFirmware({ host: '127.0.0.1', port: server.port })).toMatchObject({ firmware, controlPaths });
    } finally {
      await server.stop();
    }
  });

  it('follows same-host redirects to the page; a redirect to https is read from its Location (Whatsminer\'s LuCI)', async () => {
    const braiins = synthetic('braiins-os.html');
    const server = await serve({
      '/': (_req, res) => res.writeHead(302, { Location: '/index.html' }).end(),
      '/index.html': html(braiins),
    });
    const whatsminer = await serve({ '/': (_req, res) => res.writeHead(307, { Location: 'https://127.0.0.1/cgi-bin/luci' }).end() });
    try {
      const page = await fetchWebPage({ host: '127.0.0.1', port: server.port });
      expect(page).toMatchObject({ status: 200, redirects: [{ status: 302, location: '/index.html' }] });
      expect(classifyWebPage(page!).firmware).toBe('braiins-os');
      expect(await identifyWebFirmware({ host: '127.0.0.1', port: whatsminer.port })).toMatchObject({
        firmware: 'whatsminer', controlPaths: ['whatsminer-v3:4433', 'whatsminer:4028'],
        evidence: 'HTTP 307 to https://127.0.0.1/cgi-bin/luci (LuCI behind https)',
      });
    } finally {
      await server.stop();
      await whatsminer.stop();
    }
  });

  it('a clone\'s realm is not the stock firmware, and the recorded 401 page alone names nothing', async () => {
    const page401 = testdata('antminer-s9i-digest-failure', 'get_network_info__401_body.html');
    const server = await serve({ '/': (_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Digest realm="blackMiner Configuration", qop="auth", nonce="n1"' }).end(page401) });
    try {
      expect(await identifyWebFirmware({ host: '127.0.0.1', port: server.port })).toMatchObject({ firmware: 'antminer-clone', controlPaths: [] });
    } finally {
      await server.stop();
    }
    expect(classifyWebPage({ status: 200, headers: {}, body: page401, redirects: [] }).firmware).toBe('unknown');
  });

  it('classifies by realm first, then the https redirect, then the page markers', () => {
    const page = (over: Partial<Parameters<typeof classifyWebPage>[0]>) => ({ status: 200, headers: {}, body: '', redirects: [], ...over });
    const table: Array<[string, Parameters<typeof classifyWebPage>[0], WebFirmware]> = [
      ['stock realm, Braiins marker in the body', page({ status: 401, headers: { 'www-authenticate': 'Digest realm="antMiner Configuration", nonce="x"' }, body: 'Braiins OS' }), 'antminer-stock'],
      ['Elphapex realm', page({ status: 401, headers: { 'www-authenticate': 'Digest realm="Daoge Configuration", nonce="x"' } }), 'elphapex'],
      ['an unknown realm', page({ status: 401, headers: { 'www-authenticate': 'Digest realm="router", nonce="x"' } }), 'unknown'],
      ['https redirect to LuCI', page({ status: 307, redirects: [{ status: 307, location: 'https://10.0.0.5/cgi-bin/luci' }] }), 'whatsminer'],
      ['https redirect elsewhere', page({ status: 301, redirects: [{ status: 301, location: 'https://10.0.0.5/' }] }), 'unknown'],
      ['Bitaxe', page({ body: '<title>AxeOS</title>' }), 'bitaxe'],
      ['Innosilicon', page({ body: 'DragonMint' }), 'innosilicon'],
      ['Avalon', page({ body: '<title>Avalon Device</title>' }), 'avalon'],
    ];
    for (const [name, p, firmware] of table) expect([name, classifyWebPage(p).firmware]).toEqual([name, firmware]);
  });

  it('a closed port is no HTTP answer', async () => {
    const server = await serve({});
    const port = server.port;
    await server.stop();
    expect(await identifyWebFirmware({ host: '127.0.0.1', port }, { timeoutMs: 1000 })).toMatchObject({ firmware: 'unknown', evidence: `no HTTP answer from 127.0.0.1:${port}` });
  });
});
