import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';

/** The stand-alone fake miner process's entry (bundle it, then run it as a miner command line). */
export const GPU_MINER_MAIN_TS = join(__dirname, 'gpu-miner.main.ts');

/** One simulated GPU. Units as the protocol: H/s, °C, %, W, MHz. */
export interface SimGpu {
  index: number;
  /** "0000:01:00.0" */
  pciBusId: string;
  name: string;
  hashrateHs: number;
  tempC: number;
  fanPercent: number;
  powerW: number;
  accepted: number;
  rejected: number;
  coreClockMhz: number;
  memoryClockMhz: number;
  /** Fell off the bus: the miner reads 0 for everything on it. */
  lost: boolean;
}

export type GpuMinerFlavor = 't-rex' | 'lolminer' | 'lolminer-legacy' | 'gminer' | 'xmrig' | 'xmrig-legacy';

/** How the simulated miner misbehaves. GPU loss is per GPU: set `lost` or call loseGpu(). */
export type GpuMinerFault =
  | 'none'
  | 'api-hang'           // accept the request, never answer
  | 'hashrate-collapse'; // every GPU hashes at collapseFactor of its rate

export interface GpuMinerSimState {
  version: string;
  algorithm: string;
  poolUrl: string;
  poolUser: string;
  startedAtMs: number;
  gpus: SimGpu[];
}

export interface GpuMinerSimulatorOptions {
  flavor: GpuMinerFlavor;
  host?: string;
  port?: number;
  state?: Partial<GpuMinerSimState>;
  /** T-Rex API password: /login?password= is required first. */
  password?: string;
  /** xmrig http.access-token: "Authorization: Bearer <token>" is required. */
  accessToken?: string;
  /** Bodies served verbatim for a path ("/summary"), e.g. a recorded reply. */
  recordedReplies?: Record<string, string>;
  now?: () => number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export function defaultSimGpus(count = 2, vendor: 'nvidia' | 'amd' = 'nvidia'): SimGpu[] {
  return Array.from({ length: count }, (_, i) => ({
    index: i,
    pciBusId: `0000:${(i + 1).toString(16).padStart(2, '0')}:00.0`,
    name: vendor === 'nvidia' ? 'NVIDIA GeForce RTX 3070' : 'AMD Radeon RX 6800',
    hashrateHs: 60e6 + i * 1e6,
    tempC: 60 + i,
    fanPercent: 70 + i,
    powerW: 120 + i,
    accepted: 100 + i,
    rejected: i,
    coreClockMhz: 1500,
    memoryClockMhz: 7000,
    lost: false,
  }));
}

const VERSIONS: Record<GpuMinerFlavor, string> = {
  't-rex': '0.26.8', lolminer: '1.76', 'lolminer-legacy': '1.0', gminer: '3.44', xmrig: '6.21.0', 'xmrig-legacy': '2.6.1',
};

/**
 * One GPU miner's HTTP API on loopback, answering from its state in the miner's own
 * reply shape (T-Rex /summary, lolMiner /summary legacy or multi-algorithm, gminer
 * /stat, xmrig /2/summary + /2/backends or GET / for 2.x), with faults.
 */
export class GpuMinerSimulator {
  readonly state: GpuMinerSimState;
  fault: GpuMinerFault = 'none';
  collapseFactor = 0.05;
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private readonly sessions = new Set<string>();
  private sessionCounter = 0;
  private readonly now: () => number;

  constructor(private readonly options: GpuMinerSimulatorOptions) {
    this.now = options.now ?? (() => Date.now());
    this.state = {
      version: VERSIONS[options.flavor],
      algorithm: options.flavor.startsWith('xmrig') ? 'rx/0' : 'ethash',
      poolUrl: 'stratum+tcp://pool.example:4444',
      poolUser: 'wallet.rig1',
      startedAtMs: this.now() - 600_000,
      gpus: defaultSimGpus(2),
      ...options.state,
    };
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => this.onRequest(req, res));
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
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  loseGpu(index: number): void {
    const gpu = this.state.gpus.find((g) => g.index === index);
    if (!gpu) throw new Error(`no simulated GPU ${index}`);
    gpu.lost = true;
  }

  /** Forget T-Rex session ids, as a T-Rex restart does. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** A GPU as the miner sees it right now (faults applied). */
  view(gpu: SimGpu): SimGpu {
    if (gpu.lost) return { ...gpu, hashrateHs: 0, tempC: 0, fanPercent: 0, powerW: 0, coreClockMhz: 0, memoryClockMhz: 0 };
    if (this.fault === 'hashrate-collapse') return { ...gpu, hashrateHs: gpu.hashrateHs * this.collapseFactor };
    return gpu;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    req.resume();
    if (this.fault === 'api-hang') return; // the socket stays open until stop()
    const url = new URL(req.url ?? '/', 'http://sim');
    const recorded = this.options.recordedReplies?.[url.pathname];
    if (recorded !== undefined) return send(res, 200, recorded);
    const reply = this.route(url, req);
    send(res, reply.status, typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  private route(url: URL, req: IncomingMessage): { status: number; body: unknown } {
    const flavor = this.options.flavor;
    const path = url.pathname;
    if (flavor === 't-rex') {
      if (path === '/login') {
        if (url.searchParams.get('password') !== this.options.password) {
          return { status: 200, body: { success: 0, error: { code: 401, message: 'Wrong password' } } };
        }
        const sid = `sid${++this.sessionCounter}`;
        this.sessions.add(sid);
        return { status: 200, body: { success: 1, sid } };
      }
      if (path === '/summary') {
        if (this.options.password !== undefined && !this.sessions.has(url.searchParams.get('sid') ?? '')) {
          return { status: 200, body: { success: 0, error: { code: 403, message: 'Unauthorized' } } };
        }
        return { status: 200, body: this.trexSummary() };
      }
    }
    if ((flavor === 'lolminer' || flavor === 'lolminer-legacy') && path === '/summary') {
      return { status: 200, body: flavor === 'lolminer' ? this.lolminerSummary() : this.lolminerLegacySummary() };
    }
    if (flavor === 'gminer' && path === '/stat') return { status: 200, body: this.gminerStat() };
    if (flavor === 'xmrig' || flavor === 'xmrig-legacy') {
      if (this.options.accessToken !== undefined && req.headers.authorization !== `Bearer ${this.options.accessToken}`) {
        return { status: 401, body: { status: 401, error: 'Unauthorized' } };
      }
      if (flavor === 'xmrig' && (path === '/2/summary' || path === '/1/summary')) return { status: 200, body: this.xmrigSummary() };
      if (flavor === 'xmrig' && path === '/2/backends') return { status: 200, body: this.xmrigBackends() };
      if (flavor === 'xmrig-legacy' && path === '/') return { status: 200, body: this.xmrigLegacySummary() };
    }
    return { status: 404, body: 'Not Found' };
  }

  private gpus(): SimGpu[] {
    return this.state.gpus.map((g) => this.view(g));
  }

  private uptimeS(): number {
    return Math.floor((this.now() - this.state.startedAtMs) / 1000);
  }

  private totals(): { hashrate: number; accepted: number; rejected: number } {
    const gpus = this.gpus();
    return {
      hashrate: gpus.reduce((a, g) => a + g.hashrateHs, 0),
      accepted: gpus.reduce((a, g) => a + g.accepted, 0),
      rejected: gpus.reduce((a, g) => a + g.rejected, 0),
    };
  }

  private trexSummary(): unknown {
    const t = this.totals();
    return {
      accepted_count: t.accepted, rejected_count: t.rejected, algorithm: this.state.algorithm, api: '3.5',
      active_pool: { url: this.state.poolUrl, user: this.state.poolUser, difficulty: 4, ping: 30, retries: 0 },
      description: 'T-Rex NVIDIA GPU miner', gpu_total: this.state.gpus.length, hashrate: Math.round(t.hashrate),
      hashrate_hour: 0, hashrate_minute: Math.round(t.hashrate), name: 't-rex', os: 'linux', success: 1,
      uptime: this.uptimeS(), version: this.state.version,
      gpus: this.gpus().map((g) => {
        const [domain, bus, dev] = g.pciBusId.split(/[:.]/).map((p) => parseInt(p, 16));
        return {
          device_id: g.index, gpu_id: g.index, hashrate: Math.round(g.hashrateHs), name: g.name.replace(/^NVIDIA /, ''),
          vendor: 'NVIDIA', temperature: g.tempC, fan_speed: g.fanPercent, power: g.powerW, cclock: g.coreClockMhz,
          mclock: g.memoryClockMhz, pci_domain: domain, pci_bus: bus, pci_id: dev,
          shares: { accepted_count: g.accepted, rejected_count: g.rejected, invalid_count: 0 },
        };
      }),
    };
  }

  private lolminerSummary(): unknown {
    const gpus = this.gpus();
    const t = this.totals();
    return {
      Software: `lolMiner ${this.state.version}`,
      Session: { Started: '2024-01-01 00:00:00', Uptime: this.uptimeS(), Last_Update: Math.floor(this.now() / 1000), Active_GPUs: gpus.length, Total_Power: gpus.reduce((a, g) => a + g.powerW, 0) },
      Num_Workers: gpus.length,
      Workers: gpus.map((g) => ({
        Index: g.index, Name: g.name, Power: g.powerW, CCLK: g.coreClockMhz, MCLK: g.memoryClockMhz, Core_Temp: g.tempC,
        Juc_Temp: 0, Mem_Temp: 0, Fan_Speed: g.fanPercent, LHR_Unlock_Value: 0, PCIE_Address: lolminerAddress(g.pciBusId),
      })),
      Num_Algorithms: 1,
      Algorithms: [{
        Algorithm: this.state.algorithm, Algorithm_Appendix: '', Pool: this.state.poolUrl, User: this.state.poolUser, Worker: 'rig1',
        Performance_Unit: 'Mh/s', Performance_Factor: 1e6, Total_Performance: t.hashrate / 1e6,
        Total_Accepted: t.accepted, Total_Rejected: t.rejected, Total_Stales: 0, Total_Errors: 0,
        Worker_Performance: gpus.map((g) => g.hashrateHs / 1e6), Worker_Accepted: gpus.map((g) => g.accepted),
        Worker_Rejected: gpus.map((g) => g.rejected), Worker_Stales: gpus.map(() => 0), Worker_Errors: gpus.map(() => 0),
      }],
    };
  }

  private lolminerLegacySummary(): unknown {
    const gpus = this.gpus();
    const t = this.totals();
    return {
      Software: `lolMiner ${this.state.version}`,
      Mining: { Coin: 'ETH', Algorithm: this.state.algorithm },
      Stratum: { Current_Pool: this.state.poolUrl, Current_User: this.state.poolUser, Average_Latency: 20 },
      Session: {
        Startup: Math.floor(this.state.startedAtMs / 1000), Uptime: this.uptimeS(), Active_GPUs: gpus.length,
        Performance_Summary: t.hashrate / 1e6, Performance_Unit: 'mh/s', Accepted: t.accepted, Submitted: t.accepted + t.rejected,
        TotalPower: gpus.reduce((a, g) => a + g.powerW, 0),
      },
      GPUs: gpus.map((g) => ({
        Index: g.index, Name: g.name, Performance: g.hashrateHs / 1e6, 'Consumption (W)': g.powerW, 'Fan Speed (%)': g.fanPercent,
        'Temps (deg C)': g.tempC, Session_Accepted: g.accepted, Session_Submitted: g.accepted + g.rejected, PCIE_Address: lolminerAddress(g.pciBusId),
      })),
    };
  }

  private gminerStat(): unknown {
    const t = this.totals();
    return {
      miner: `GMiner ${this.state.version}`, uptime: this.uptimeS(), server: this.state.poolUrl, user: this.state.poolUser,
      algorithm: this.state.algorithm, electricity: 0, total_accepted_shares: t.accepted, total_rejected_shares: t.rejected,
      speed_unit: 'H/s', power_unit: 'H/W',
      devices: this.gpus().map((g) => ({
        gpu_id: g.index, bus_id: g.pciBusId, name: g.name, speed: g.hashrateHs, accepted_shares: g.accepted, rejected_shares: g.rejected,
        stale_shares: 0, invalid_shares: 0, fan: g.fanPercent, temperature: g.tempC, temperature_limit: 90, power_usage: g.powerW,
        core_clock: g.coreClockMhz, memory_clock: g.memoryClockMhz,
      })),
    };
  }

  private xmrigSummary(): unknown {
    const t = this.totals();
    return {
      id: 'sim', worker_id: 'rig1', uptime: this.uptimeS(), restricted: true, version: this.state.version, kind: 'miner',
      algo: this.state.algorithm, hashrate: { total: [t.hashrate, t.hashrate, null], highest: t.hashrate, threads: [] },
      results: { diff_current: 1000, shares_good: t.accepted, shares_total: t.accepted + t.rejected, avg_time: 10, hashes_total: 0, best: [], error_log: [] },
      connection: { pool: this.state.poolUrl, ip: '127.0.0.1', uptime: this.uptimeS(), ping: 10, failures: 0, error_log: [] },
    };
  }

  private xmrigBackends(): unknown {
    return [
      { type: 'cpu', enabled: false, algo: null, hashrate: [null, null, null], threads: [] },
      {
        type: 'cuda', enabled: true, algo: this.state.algorithm, hashrate: [this.totals().hashrate, null, null],
        threads: this.gpus().map((g) => ({
          index: g.index, name: g.name, bus_id: g.pciBusId.slice(5), hashrate: [g.hashrateHs, null, null],
          health: { temperature: g.tempC, power: g.powerW, clock: g.coreClockMhz, mem_clock: g.memoryClockMhz, fan_speed: [g.fanPercent] },
        })),
      },
    ];
  }

  private xmrigLegacySummary(): unknown {
    const gpus = this.gpus();
    const t = this.totals();
    return {
      id: 'sim', worker_id: 'rig1', version: this.state.version, kind: 'nvidia', algo: 'cryptonight',
      hashrate: { total: [t.hashrate, t.hashrate, 0], highest: t.hashrate, threads: gpus.map((g) => [g.hashrateHs, g.hashrateHs, 0]) },
      health: gpus.map((g) => ({ name: g.name, clock: g.coreClockMhz, mem_clock: g.memoryClockMhz, power: g.powerW, temp: g.tempC, fan: g.fanPercent })),
      results: { shares_good: t.accepted, shares_total: t.accepted + t.rejected },
      connection: { pool: this.state.poolUrl, uptime: this.uptimeS(), ping: 10, failures: 0, error_log: [] },
    };
  }
}

function lolminerAddress(pciBusId: string): string {
  const [, bus = '0', dev = '0'] = pciBusId.split(/[:.]/);
  return `${parseInt(bus, 16)}:${parseInt(dev, 16)}`;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * TeamRedMiner's sgminer-compatible API on TCP: one JSON request per connection,
 * a JSON reply and a NUL, then close. Answers summary, devs, devdetails, pools, version.
 */
export class TeamRedMinerSimulator {
  fault: GpuMinerFault = 'none';
  collapseFactor = 0.05;
  readonly requests: string[] = [];
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;
  readonly gpus: SimGpu[];
  startedAtMs: number;

  constructor(options: { gpus?: SimGpu[]; now?: () => number } = {}) {
    this.now = options.now ?? (() => Date.now());
    this.gpus = options.gpus ?? defaultSimGpus(2, 'amd');
    this.startedAtMs = this.now() - 600_000;
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.once('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        this.requests.push(text);
        if (this.fault === 'api-hang') return;
        let command = '';
        try {
          command = String((JSON.parse(text) as { command?: unknown }).command ?? '');
        } catch {
          command = '';
        }
        socket.end(Buffer.concat([Buffer.from(JSON.stringify(this.reply(command)), 'latin1'), Buffer.from([0])]));
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
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private status(code: number, msg: string): unknown[] {
    return [{ STATUS: 'S', When: Math.floor(this.now() / 1000), Code: code, Msg: msg, Description: 'TeamRedMiner 0.10.21' }];
  }

  private reply(command: string): unknown {
    const gpus = this.gpus.map((g) => (g.lost ? { ...g, hashrateHs: 0, tempC: 0, fanPercent: 0, powerW: 0 }
      : this.fault === 'hashrate-collapse' ? { ...g, hashrateHs: g.hashrateHs * this.collapseFactor } : g));
    const mhs = gpus.reduce((a, g) => a + g.hashrateHs, 0) / 1e6;
    switch (command) {
      case 'summary':
        return {
          STATUS: this.status(11, 'Summary'),
          SUMMARY: [{ Elapsed: Math.floor((this.now() - this.startedAtMs) / 1000), 'MHS av': mhs, 'MHS 5s': mhs, Accepted: gpus.reduce((a, g) => a + g.accepted, 0), Rejected: gpus.reduce((a, g) => a + g.rejected, 0), Stale: 0, 'Hardware Errors': 0 }],
          id: 1,
        };
      case 'devs':
        return {
          STATUS: this.status(9, `${gpus.length} GPU(s)`),
          DEVS: gpus.map((g) => ({
            GPU: g.index, Enabled: 'Y', Status: g.lost ? 'Dead' : 'Alive', Temperature: g.tempC, 'Fan Speed': g.fanPercent * 30,
            'Fan Percent': g.fanPercent, 'GPU Clock': g.coreClockMhz, 'Memory Clock': g.memoryClockMhz, 'GPU Voltage': 0.9,
            'GPU Activity': 100, Powertune: 0, 'MHS av': g.hashrateHs / 1e6, 'MHS 5s': g.hashrateHs / 1e6, Accepted: g.accepted,
            Rejected: g.rejected, 'Hardware Errors': 0,
          })),
          id: 1,
        };
      case 'devdetails':
        return {
          STATUS: this.status(69, 'Device Details'),
          DEVDETAILS: gpus.map((g) => ({ DEVDETAILS: g.index, Name: 'GPU', ID: g.index, Driver: 'opencl', Kernel: 'ethash', Model: g.name, 'Device Path': g.pciBusId })),
          id: 1,
        };
      case 'pools':
        return {
          STATUS: this.status(7, '1 Pool(s)'),
          POOLS: [{ POOL: 0, URL: 'stratum+tcp://pool.example:4444', Status: 'Alive', Priority: 0, Algorithm: 'ethash', User: 'wallet.rig1', Accepted: 10, Rejected: 0, Stale: 0, 'Stratum Active': true }],
          id: 1,
        };
      case 'version':
        return { STATUS: this.status(22, 'SGMiner versions'), VERSION: [{ SGMiner: '5.5.1', API: '3.7', TeamRedMiner: '0.10.21' }], id: 1 };
      default:
        return { STATUS: [{ STATUS: 'E', When: Math.floor(this.now() / 1000), Code: 14, Msg: 'Invalid command' }], id: 1 };
    }
  }
}
