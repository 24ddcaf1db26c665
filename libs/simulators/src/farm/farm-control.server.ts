import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FARM_FAULTS, FarmFaultError, type FarmFault, type SimFarm } from './sim-farm';

/**
 * The farm's control port, loopback HTTP with JSON bodies, so another process (a test, an operator, the agent's
 * rebootCommand) can inject faults and see what the miners did:
 *
 *   GET  /state            pools, rigs (active pool, work mode, boards, temperatures, restarts, reboots, switches), fault log
 *   GET  /rigs/<id>        one rig
 *   POST /faults           {"fault":"kill-pool","pool":"pool-a"}  -> {"ok":true,"message":"..."}
 */
export class FarmControlServer {
  private server: Server | undefined;

  constructor(private readonly farm: SimFarm) {}

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return this.url();
  }

  url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('the farm control server is not listening');
    return `http://${addr.address}:${addr.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://farm').pathname;
    try {
      if (req.method === 'GET' && path === '/state') return send(res, 200, this.farm.state());
      const rig = /^\/rigs\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && rig) return send(res, 200, this.farm.rigState(decodeURIComponent(rig[1]!)));
      if (req.method === 'POST' && path === '/faults') {
        const fault = parseFault(await readBody(req));
        return send(res, 200, { ok: true, message: await this.farm.apply(fault) });
      }
      return send(res, 404, { error: `no route ${req.method} ${path}; try GET /state, GET /rigs/<id>, POST /faults` });
    } catch (err) {
      const known = err instanceof FarmFaultError || err instanceof SyntaxError;
      return send(res, known ? 400 : 500, { error: (err as Error).message });
    }
  }
}

/** Checks a fault from the wire: a known kind with its target named. */
export function parseFault(raw: unknown): FarmFault {
  const o = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const kind = o['fault'];
  if (typeof kind !== 'string' || !(FARM_FAULTS as readonly string[]).includes(kind)) {
    throw new FarmFaultError(`"fault" must be one of ${FARM_FAULTS.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  const onPool = kind.endsWith('-pool');
  const target = onPool ? 'pool' : 'rig';
  if (typeof o[target] !== 'string' || o[target] === '') throw new FarmFaultError(`fault ${kind} needs "${target}" (a ${target} name)`);
  for (const key of ['board', 'gpu', 'periodMs']) {
    if (o[key] !== undefined && typeof o[key] !== 'number') throw new FarmFaultError(`"${key}" must be a number; got ${JSON.stringify(o[key])}`);
  }
  for (const key of ['sticky', 'broken']) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new FarmFaultError(`"${key}" must be true or false`);
  }
  return o as unknown as FarmFault;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 64 * 1024) req.destroy(new FarmFaultError('body too large'));
    });
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A client for the control port (tests, `rigwarden-simfarm ctl`). Errors carry the server's message. */
export async function farmControl<T = unknown>(baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const url = new URL(path, baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(url, { method, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          reject(new Error(`${method} ${url.href}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${url.href}: ${(parsed as { error?: string }).error ?? `HTTP ${res.statusCode}`}`));
        else resolve(parsed as T);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: no answer within 10 s`)));
    req.on('error', (err) => reject(new Error(`${method} ${url.href}: ${err.message}`)));
    req.end(payload);
  });
}
