import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * The socket side of a loopback cgminer API as the real programs behave: one request per connection, the reply,
 * then close; an empty reply closes with no bytes (a client not allowed by --api-allow). 127.0.0.1, ephemeral port.
 * Subclasses say what to answer.
 */
export abstract class OneShotCgminerServer {
  readonly requests: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  protected abstract answer(request: string): Buffer;

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('data', (chunk: Buffer) => {
        const request = chunk.toString('latin1');
        this.requests.push(request);
        const reply = this.answer(request);
        if (reply.length === 0) socket.destroy();
        else socket.end(reply);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
