import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly body: unknown;
  /** Epoch ms when it arrived (real time: only for spacing checks). */
  readonly at: number;
}

/** How to answer the n-th request (0-based): a status (and body), optionally after a delay, or never. */
export type Reply = { status: number; body?: string; delayMs?: number; headers?: Record<string, string> } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 and an ephemeral port that records every request's exact JSON body and answers
 * as scripted. For tests only; `close()` drops open connections (hanging ones included).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly reply: (n: number, req: ReceivedRequest) => Reply) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(reply: (n: number, req: ReceivedRequest) => Reply = () => ({ status: 200, body: '{"ok":true}' })): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(reply);
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* kept as text */ }
    const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body, at: Date.now() };
    const n = this.requests.length;
    this.requests.push(received);
    const reply = this.reply(n, received);
    if (reply === 'hang') { this.hanging.add(res); return; }
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? '');
  }
}
