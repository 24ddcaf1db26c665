import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface FixtureReplayOptions {
  /** Recorded reply text by command ("stats" -> the bytes a real miner sent, quirks and all). */
  replies: Readonly<Record<string, string>>;
  host?: string;
  port?: number;
  /** Answer joined requests ("summary+pools") from the recorded parts; false answers Code 14 like cgminer 2.x. */
  joinCommands?: boolean;
  lifetimeMs?: number;
}

/**
 * Replays replies recorded from real miners (testdata/) over the cgminer wire
 * protocol: read once, answer the recorded bytes verbatim plus a NUL, close. A
 * command that was not recorded gets cgminer's Code 14. Lets the drivers meet
 * every recorded firmware over a real socket, not only through the parser.
 */
export class FixtureReplaySimulator {
  readonly requests: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FixtureReplayOptions) {}

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('data', (chunk: Buffer) => {
        const request = chunk.subarray(0, 4095).toString('latin1');
        this.requests.push(request);
        socket.end(Buffer.concat([Buffer.from(this.answer(request), 'latin1'), Buffer.from([0])]));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    if (this.options.lifetimeMs !== undefined) {
      this.timer = setTimeout(() => void this.stop(), this.options.lifetimeMs);
      this.timer.unref();
    }
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(request: string): string {
    let command: string;
    try {
      const parsed = JSON.parse(request.trim()) as { command?: unknown; cmd?: unknown };
      command = String(parsed.command ?? parsed.cmd ?? '');
    } catch {
      command = request.trim().split('|')[0] ?? '';
    }
    const invalid = '{"STATUS":[{"STATUS":"E","When":0,"Code":14,"Msg":"Invalid command"}],"id":1}';
    const recorded = this.options.replies[command];
    if (recorded !== undefined) return recorded; // including a recorded joined reply ("pools+summary+stats")
    if (!command.includes('+')) return invalid;
    if (this.options.joinCommands === false) return invalid;
    const parts = command.split('+').map((part) => `${JSON.stringify(part)}:[${(this.options.replies[part] ?? invalid).trim()}]`);
    return `{${parts.join(',')},"id":1}`;
  }
}
