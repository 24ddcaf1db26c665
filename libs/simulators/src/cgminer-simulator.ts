import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface SimBoard {
  hashrateHs: number;
  tempC: number;
  chipTempC?: number;
  chips?: number;
  hwErrors: number;
  alive: boolean;
}

export interface SimPool {
  url: string;
  user: string;
  status: 'Alive' | 'Dead' | 'Disabled';
  priority: number;
  accepted: number;
  rejected: number;
  stale: number;
  /** Unix seconds; 0 = never. */
  lastShareTime: number;
}

export interface CgminerSimState {
  model: string;
  /** cgminer version string reported by `version`. */
  software: string;
  startedAtS: number;
  boards: SimBoard[];
  /** Fan speeds in RPM, fan1..fanN. */
  fans: number[];
  pools: SimPool[];
  /** Index into pools of the pool the miner is hashing on. */
  activePool: number;
  accepted: number;
  rejected: number;
  stale: number;
  powerW?: number;
}

/** How the simulated miner misbehaves, to exercise the client's error paths. */
export type CgminerSimFault =
  | 'none'
  | 'close-without-reply' // not in --api-allow: FIN with zero bytes
  | 'hang'                // accept, never answer
  | 'no-nul'              // reply, then keep the socket open without a NUL
  | 'garbage';            // reply bytes that are not JSON

export interface CgminerSimulatorOptions {
  host?: string;
  port?: number;
  state?: Partial<CgminerSimState>;
  /** Clock in ms; defaults to the wall clock. Only used for "When" and elapsed. */
  now?: () => number;
  /** Write access for privileged commands (switchpool, restart). */
  writeAccess?: boolean;
  /** Whether multi-commands ("summary+pools") are answered joined (cgminer >= 3) or refused (Code 14). */
  joinCommands?: boolean;
}

const JOINABLE = new Set(['version', 'summary', 'pools', 'devs', 'stats', 'config', 'coin']);
const PRIVILEGED = new Set(['switchpool', 'restart', 'enablepool', 'disablepool', 'addpool', 'removepool', 'quit']);

export function defaultSimState(nowS: number): CgminerSimState {
  return {
    model: 'Rigwarden SimASIC X1',
    software: '4.11.1',
    startedAtS: nowS - 3600,
    boards: [0, 1, 2].map((i) => ({ hashrateHs: 30e12 + i * 1e11, tempC: 60 + i, chipTempC: 75 + i, chips: 76, hwErrors: i, alive: true })),
    fans: [5400, 5460, 5520, 5580],
    pools: [
      { url: 'stratum+tcp://pool-a.example:3333', user: 'farm.worker1', status: 'Alive', priority: 0, accepted: 1200, rejected: 3, stale: 1, lastShareTime: nowS - 5 },
      { url: 'stratum+tcp://pool-b.example:3333', user: 'farm.worker1', status: 'Alive', priority: 1, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 },
    ],
    activePool: 0,
    accepted: 1200,
    rejected: 3,
    stale: 1,
  };
}

/**
 * A miner that speaks the cgminer RPC API on loopback exactly as cgminer 4.11 does:
 * one request per connection, read once, reply in JSON (or key=value text for
 * `cmd|param` requests) followed by one NUL byte, then close.
 */
export class CgminerSimulator {
  readonly state: CgminerSimState;
  fault: CgminerSimFault = 'none';
  writeAccess: boolean;
  joinCommands: boolean;
  /** Every request received, as raw bytes, for tests that check the exact wire format. */
  readonly requests: Buffer[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;

  constructor(private readonly options: CgminerSimulatorOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.state = { ...defaultSimState(Math.floor(this.now() / 1000)), ...options.state };
    this.writeAccess = options.writeAccess ?? true;
    this.joinCommands = options.joinCommands ?? true;
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    return this.address();
  }

  address(): { host: string; port: number } {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('simulator is not listening');
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.fault === 'close-without-reply') {
      socket.end();
      return;
    }
    // cgminer does a single recv() of at most 4095 bytes and answers that.
    socket.once('data', (chunk: Buffer) => {
      const request = chunk.subarray(0, 4095);
      this.requests.push(Buffer.from(request));
      if (this.fault === 'hang') return;
      if (this.fault === 'garbage') {
        socket.end(Buffer.from('{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS 5s":\u0000', 'latin1'));
        return;
      }
      const reply = this.handle(request.toString('latin1'));
      if (this.fault === 'no-nul') {
        socket.write(reply + '\n');
        return;
      }
      socket.end(Buffer.concat([Buffer.from(reply, 'latin1'), Buffer.from([0])]));
    });
  }

  /** Answers one request as cgminer would. Public so tests can check replies without a socket. */
  handle(text: string): string {
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      let parsed: { command?: unknown; parameter?: unknown };
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        return JSON.stringify({ STATUS: [this.status('E', 23, 'Invalid JSON')], id: 1 });
      }
      if (typeof parsed.command !== 'string') {
        return JSON.stringify({ STATUS: [this.status('E', 24, 'Missing JSON \'command\'')], id: 1 });
      }
      const parameter = parsed.parameter === undefined ? undefined : String(parsed.parameter);
      return JSON.stringify(this.reply(parsed.command, parameter));
    }
    const [command = '', parameter] = trimmed.split('|', 2);
    return toPlainText(this.reply(command, parameter));
  }

  private reply(command: string, parameter: string | undefined): Record<string, unknown> {
    if (command.includes('+')) {
      if (!this.joinCommands) return { STATUS: [this.status('E', 14, 'Invalid command')], id: 1 };
      const out: Record<string, unknown> = {};
      for (const part of command.split('+')) {
        out[part] = [JOINABLE.has(part) ? this.single(part, parameter) : { STATUS: [this.status('E', 45, `Access denied to '${part}' command`)], id: 1 }];
      }
      out['id'] = 1;
      return out;
    }
    return this.single(command, parameter);
  }

  private single(command: string, parameter: string | undefined): Record<string, unknown> {
    if (PRIVILEGED.has(command) && !this.writeAccess) {
      return { STATUS: [this.status('E', 45, `Access denied to '${command}' command`)], id: 1 };
    }
    const s = this.state;
    const nowS = Math.floor(this.now() / 1000);
    switch (command) {
      case 'version':
        return { STATUS: [this.status('S', 22, 'CGMiner versions')], VERSION: [{ CGMiner: s.software, API: '3.7', Type: s.model }], id: 1 };
      case 'summary': {
        const mhs = this.totalHashrateHs() / 1e6;
        return {
          STATUS: [this.status('S', 11, 'Summary')],
          SUMMARY: [{
            Elapsed: nowS - s.startedAtS, 'MHS av': mhs, 'MHS 5s': mhs, Accepted: s.accepted, Rejected: s.rejected,
            Stale: s.stale, 'Hardware Errors': s.boards.reduce((a, b) => a + b.hwErrors, 0),
            'Best Share': 18446744073709551615, ...(s.powerW !== undefined ? { Power: s.powerW } : {}),
          }],
          id: 1,
        };
      }
      case 'pools':
        return {
          STATUS: [this.status('S', 7, `${s.pools.length} Pool(s)`)],
          POOLS: s.pools.map((p, i) => ({
            POOL: i, URL: p.url, User: p.user, Status: p.status, Priority: p.priority, Accepted: p.accepted,
            Rejected: p.rejected, Stale: p.stale, 'Last Share Time': p.lastShareTime, 'Stratum Active': i === s.activePool && p.status === 'Alive',
          })),
          id: 1,
        };
      case 'devs':
        return {
          STATUS: [this.status('S', 9, `${s.boards.length} ASC(s)`)],
          DEVS: s.boards.map((b, i) => ({
            ASC: i, Name: 'SIM', ID: i, Enabled: 'Y', Status: b.alive ? 'Alive' : 'Dead', Temperature: b.tempC,
            'MHS av': b.alive ? b.hashrateHs / 1e6 : 0, 'MHS 5s': b.alive ? b.hashrateHs / 1e6 : 0, 'Hardware Errors': b.hwErrors,
          })),
          id: 1,
        };
      case 'stats': {
        const stat: Record<string, unknown> = { STATS: 0, ID: 'SIM0', Elapsed: nowS - s.startedAtS, fan_num: s.fans.length };
        s.fans.forEach((rpm, i) => { stat[`fan${i + 1}`] = rpm; });
        return { STATUS: [this.status('S', 70, 'CGMiner stats')], STATS: [stat], id: 1 };
      }
      case 'config':
        return { STATUS: [this.status('S', 33, 'CGMiner config')], CONFIG: [{ 'ASC Count': s.boards.length, 'Pool Count': s.pools.length }], id: 1 };
      case 'switchpool': {
        const index = Number(parameter);
        if (parameter === undefined || !Number.isInteger(index)) return { STATUS: [this.status('E', 24, 'Missing pool id parameter')], id: 1 };
        if (index < 0 || index >= s.pools.length) return { STATUS: [this.status('E', 26, `Invalid pool id ${index} - range is 0 - ${s.pools.length - 1}`)], id: 1 };
        s.activePool = index;
        return { STATUS: [this.status('S', 27, `Switching to pool ${index}:'${s.pools[index]!.url}'`)], id: 1 };
      }
      case 'restart':
        s.startedAtS = nowS;
        return { STATUS: 'RESTART', id: 1 } as Record<string, unknown>;
      default:
        return { STATUS: [{ STATUS: 'E', When: nowS, Code: 14, Msg: 'Invalid command' }], id: 1 };
    }
  }

  totalHashrateHs(): number {
    return this.state.boards.reduce((sum, b) => sum + (b.alive ? b.hashrateHs : 0), 0);
  }

  private status(letter: string, code: number, msg: string): Record<string, unknown> {
    return { STATUS: letter, When: Math.floor(this.now() / 1000), Code: code, Msg: msg, Description: `cgminer ${this.state.software}` };
  }
}

/** cgminer's plain-text form: "STATUS=S,When=..,Code=..,Msg=..|SECTION=0,key=value,...|". */
function toPlainText(reply: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(reply)) {
    if (key === 'id') continue;
    if (key === 'STATUS' && typeof value === 'string') {
      parts.push(`STATUS=${value}`);
      continue;
    }
    if (!Array.isArray(value)) continue;
    value.forEach((entry: Record<string, unknown>, i: number) => {
      const fields = Object.entries(entry).map(([k, v]) => `${k}=${String(v)}`);
      parts.push(key === 'STATUS' ? fields.join(',') : [`${key.replace(/S$/, '')}=${i}`, ...fields].join(','));
    });
  }
  return parts.map((p) => `${p}|`).join('');
}
