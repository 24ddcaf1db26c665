import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface StratumPoolOptions {
  host?: string;
  port?: number;
  /** How often a new job (mining.notify) goes out. */
  notifyIntervalMs?: number;
  difficulty?: number;
  /** Workers refused by mining.authorize. */
  rejectWorkers?: readonly string[];
  /** Stops the pool by itself after this long. */
  lifetimeMs?: number;
}

export interface StratumShare {
  worker: string;
  jobId: string;
  accepted: boolean;
}

/**
 * A stratum v1 pool on loopback: mining.subscribe, mining.authorize,
 * mining.set_difficulty, mining.notify and mining.submit, newline-delimited
 * JSON-RPC. It can be killed (connections reset, port closed) or silenced (it
 * keeps the connections but never says a word again), like a real pool that dies
 * or hangs.
 */
export class StratumPoolSimulator {
  readonly shares: StratumShare[] = [];
  /** Every JSON-RPC request received, in order. */
  readonly requests: Record<string, unknown>[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly authorized = new Map<Socket, string>();
  private notifyTimer: NodeJS.Timeout | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private silent = false;
  private jobSeq = 0;
  private boundPort = 0;

  constructor(private readonly options: StratumPoolOptions = {}) {}

  get url(): string {
    return `stratum+tcp://${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  get isSilent(): boolean {
    return this.silent;
  }

  async start(): Promise<{ host: string; port: number; url: string }> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Reuse the port after a kill, so miners configured with the URL find it again.
      server.listen(this.boundPort || this.options.port || 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.notifyTimer = setInterval(() => this.broadcastJob(), this.options.notifyIntervalMs ?? 1000);
    this.notifyTimer.unref();
    if (this.options.lifetimeMs !== undefined && !this.lifetimeTimer) {
      this.lifetimeTimer = setTimeout(() => void this.stop(), this.options.lifetimeMs);
      this.lifetimeTimer.unref();
    }
    return { host: this.options.host ?? '127.0.0.1', port: this.boundPort, url: this.url };
  }

  /** The pool process dies: every connection is reset and the port refuses new ones. */
  async kill(): Promise<void> {
    clearInterval(this.notifyTimer);
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    this.authorized.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The pool hangs: connections stay open, nothing is ever sent again (no jobs, no replies). */
  silence(): void {
    this.silent = true;
  }

  resume(): void {
    this.silent = false;
    this.broadcastJob();
  }

  async stop(): Promise<void> {
    clearTimeout(this.lifetimeTimer);
    await this.kill();
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.authorized.delete(socket);
    });
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.length > 64 * 1024) {
        socket.destroy();
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) this.onMessage(socket, line);
      }
    });
  }

  private send(socket: Socket, message: Record<string, unknown>): void {
    if (!this.silent && !socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  }

  private onMessage(socket: Socket, line: string): void {
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      socket.destroy();
      return;
    }
    this.requests.push(msg as Record<string, unknown>);
    const params = Array.isArray(msg.params) ? msg.params : [];
    switch (msg.method) {
      case 'mining.subscribe':
        this.send(socket, { id: msg.id, result: [[['mining.set_difficulty', 'd1'], ['mining.notify', 'n1']], '08000002', 4], error: null });
        return;
      case 'mining.authorize': {
        const worker = String(params[0] ?? '');
        const ok = !(this.options.rejectWorkers ?? []).includes(worker);
        if (ok) this.authorized.set(socket, worker);
        this.send(socket, { id: msg.id, result: ok, error: ok ? null : [24, 'Unauthorized worker', null] });
        if (ok) {
          this.send(socket, { id: null, method: 'mining.set_difficulty', params: [this.options.difficulty ?? 65536] });
          this.send(socket, this.job(true));
        }
        return;
      }
      case 'mining.submit': {
        const worker = String(params[0] ?? '');
        const accepted = this.authorized.get(socket) === worker;
        if (!this.silent) this.shares.push({ worker, jobId: String(params[1] ?? ''), accepted });
        this.send(socket, { id: msg.id, result: accepted, error: accepted ? null : [24, 'Unauthorized worker', null] });
        return;
      }
      default:
        this.send(socket, { id: msg.id, result: null, error: [20, 'Unsupported method', null] });
    }
  }

  private job(clean: boolean): Record<string, unknown> {
    const id = (++this.jobSeq).toString(16);
    return {
      id: null, method: 'mining.notify',
      params: [id, '0'.repeat(64), '01000000010000', 'ffffffff', [], '20000000', '1705ae3a', Math.floor(Date.now() / 1000).toString(16), clean],
    };
  }

  private broadcastJob(): void {
    if (this.silent) return;
    const job = this.job(false);
    for (const socket of this.authorized.keys()) this.send(socket, job);
  }
}
