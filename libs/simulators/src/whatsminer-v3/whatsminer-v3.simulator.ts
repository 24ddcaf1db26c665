import { createDecipheriv, createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A Whatsminer on API v3 firmware (TCP 4433), for tests and the demo farm: 4-byte little-endian length-prefixed
 * JSON both ways; get.device.info / get.miner.status / get.miner.setting open to anyone; set.* checked against
 * token = base64(sha256(cmd + password + salt + ts))[0..8] for the "super" account, set.miner.pools' param
 * AES-256-ECB encrypted with that sha256 digest. Replies keep the recorded M60S_VK40 shape (numbers as strings
 * under miner.*, hash rates in TH/s).
 */
export interface WhatsminerV3SimPool {
  url: string;
  user: string;
  passwd: string;
}

export type WhatsminerV3SimFault =
  /** A frame whose length prefix promises more bytes than are sent, then close. */
  | 'truncated-frame'
  /** A whole frame whose body is not JSON. */
  | 'garbled-json'
  /** A length prefix far beyond any reply (0xFFFFFFF0). */
  | 'huge-length'
  /** Read the request and never answer. */
  | 'stall'
  /** Close the connection without a byte. */
  | 'close-without-reply';

export interface WhatsminerV3SimulatorOptions {
  host?: string;
  port?: number;
  /** The "super" account's password (factory default "super"). */
  password?: string;
  salt?: string;
  /** Hashing stops for this long after set.miner.service "restart" (the API keeps answering). Default 2000 ms. */
  restartPauseMs?: number;
  /** The API is away for this long after set.system.reboot. Default 3000 ms. */
  rebootDownMs?: number;
  /** set.miner.mode is applied without a reply, as some firmware does (PROTOCOLS.md). */
  silentModeWrites?: boolean;
  /** set.* commands are acknowledged (code 0) but not applied: a firmware that lies. */
  ignoreWrites?: boolean;
  pools?: WhatsminerV3SimPool[];
  /** Nominal hash rate in TH/s with every board hashing. */
  nominalThs?: number;
  model?: string;
  now?: () => number;
}

export interface WhatsminerV3SimRequest {
  /** The frame as received, length prefix included. */
  raw: Buffer;
  body: Record<string, unknown> | undefined;
  /** set.miner.pools: the param after decryption. */
  decryptedParam?: unknown;
}

export interface WhatsminerV3SimState {
  pools: WhatsminerV3SimPool[];
  powerLimitW: number;
  mode: 'low' | 'normal' | 'high';
  /** "auto", or "manual" while a set.system.led pattern runs. */
  ledStatus: string;
  /** btminer runs (false after set.miner.service "stop"). */
  working: boolean;
  startedAtMs: number;
  hashingFromMs: number;
  restarts: number;
  reboots: number;
}

/** An overheating miner (blocked intake): its chips head for hotC above the low mode (and above hotAboveW), coolC otherwise. */
export interface WhatsminerV3Heat {
  hotC: number;
  coolC: number;
  /** Power limits at or under this stay cool even out of the low mode (default 0: only the mode counts). */
  hotAboveW?: number;
  /** How fast the chips move towards their target, °C per second. */
  rampCPerS: number;
}

/** The hottest chip's normal figure on board 0 (board n: + n). */
const CHIP_MAX_C = 80;

const MODE_CODE = { low: '0', normal: '1', high: '2' } as const;
const BOARDS = 3;

export class WhatsminerV3Simulator {
  readonly requests: WhatsminerV3SimRequest[] = [];
  readonly state: WhatsminerV3SimState;
  /** Applied to every connection from now on; undefined answers normally. */
  fault: WhatsminerV3SimFault | undefined;
  /** Replies to force, by "cmd" or "cmd:param" (e.g. "get.miner.status:edevs"), as a firmware refusing a read. */
  readonly refusals = new Map<string, { code: number; msg: string }>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;
  private readonly password: string;
  private readonly salt: string;
  private downUntilMs = 0;
  /** Pool URLs the miner cannot reach (a pool outage in the demo farm): shown "dead", skipped by FAILOVER. */
  private readonly unreachable = new Set<string>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private heat: WhatsminerV3Heat | undefined;
  /** The chips above their normal figures (°C), moved towards the heat's target on each read. */
  private heatExcessC = 0;
  private heatAt = 0;

  constructor(private readonly options: WhatsminerV3SimulatorOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.password = options.password ?? 'super';
    this.salt = options.salt ?? 'uhCiDyVj';
    const at = this.now();
    this.state = {
      pools: (options.pools ?? [
        { url: 'stratum+tcp://btc.example.pool:3333', user: 'rigwarden.sim', passwd: 'x' },
        { url: 'stratum+tcp://btc2.example.pool:3333', user: 'rigwarden.sim', passwd: 'x' },
        { url: 'stratum+tcp://btc3.example.pool:3333', user: 'rigwarden.sim', passwd: 'x' },
      ]).map((p) => ({ ...p })),
      powerLimitW: 3600, mode: 'normal', ledStatus: 'auto', working: true,
      startedAtMs: at, hashingFromMs: at, restarts: 0, reboots: 0,
    };
    this.heatAt = at;
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  async stop(): Promise<void> {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Starts overheating (WhatsminerV3Heat); cool() ends it and the chips return to normal at the same rate. */
  overheat(heat: WhatsminerV3Heat): void {
    this.moveHeat();
    this.heat = heat;
  }

  cool(): void {
    this.moveHeat();
    this.heat = undefined;
  }

  /** The hottest chip of board `board` (0-based) now. */
  chipTempMaxC(board: number): number {
    this.moveHeat();
    return Math.round((CHIP_MAX_C + board + this.heatExcessC) * 10) / 10;
  }

  private moveHeat(): void {
    const now = this.now();
    const elapsedS = Math.max(0, (now - this.heatAt) / 1000);
    this.heatAt = now;
    const h = this.heat;
    const hot = h !== undefined && this.state.mode !== 'low' && this.state.powerLimitW > (h.hotAboveW ?? 0);
    const target = h ? (hot ? h.hotC : h.coolC) - (CHIP_MAX_C + BOARDS - 1) : 0;
    const step = (h?.rampCPerS ?? 10) * elapsedS;
    const gap = target - this.heatExcessC;
    this.heatExcessC = Math.abs(gap) <= step ? target : this.heatExcessC + Math.sign(gap) * step;
  }

  /** True while btminer runs, is not in its post-restart pause and has a pool it can reach. */
  hashing(): boolean {
    return this.state.working && this.now() >= this.state.hashingFromMs && this.now() >= this.downUntilMs && this.activePool() !== undefined;
  }

  /**
   * Takes a pool away (or gives it back) by URL. With the firmware's FAILOVER strategy the miner hashes on the
   * first pool in its list that it can reach; none reachable, it stops hashing.
   */
  setPoolReachable(url: string, reachable: boolean): void {
    if (reachable) this.unreachable.delete(url);
    else this.unreachable.add(url);
  }

  /** Whether the miner can reach this pool (setPoolReachable). */
  poolReachable(url: string): boolean {
    return !this.unreachable.has(url);
  }

  /** The slot the miner hashes on: the first reachable pool (FAILOVER), or undefined. */
  activePool(): number | undefined {
    const index = this.state.pools.findIndex((p) => !this.unreachable.has(p.url));
    return index < 0 ? undefined : index;
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.now() < this.downUntilMs || this.fault === 'close-without-reply') {
      socket.destroy();
      return;
    }
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4) {
        const length = buffer.readUInt32LE(0);
        if (length > 1024 * 1024) {
          socket.destroy();
          return;
        }
        if (buffer.length < 4 + length) return;
        const raw = buffer.subarray(0, 4 + length);
        buffer = buffer.subarray(4 + length);
        this.onFrame(socket, Buffer.from(raw));
      }
    });
  }

  private onFrame(socket: Socket, raw: Buffer): void {
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw.subarray(4).toString('utf8'));
      body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined;
    } catch {
      body = undefined;
    }
    const request: WhatsminerV3SimRequest = { raw, body };
    this.requests.push(request);
    switch (this.fault) {
      case 'stall': return;
      case 'truncated-frame': {
        const header = Buffer.alloc(4);
        header.writeUInt32LE(200, 0);
        socket.end(Buffer.concat([header, Buffer.from('{"code":0,"desc":"get.de')]));
        return;
      }
      case 'garbled-json': {
        const text = Buffer.from('{"code":0,"desc":\u0000\u0007garbage');
        const header = Buffer.alloc(4);
        header.writeUInt32LE(text.length, 0);
        socket.write(Buffer.concat([header, text]));
        return;
      }
      case 'huge-length': {
        const header = Buffer.alloc(4);
        header.writeUInt32LE(0xfffffff0, 0);
        socket.write(header);
        return;
      }
      default: break;
    }
    if (!body || typeof body['cmd'] !== 'string') {
      this.reply(socket, { code: -3, desc: '', msg: 'invalid json' });
      return;
    }
    const cmd = body['cmd'];
    const refusal = this.refusals.get(typeof body['param'] === 'string' ? `${cmd}:${body['param']}` : cmd) ?? this.refusals.get(cmd);
    if (refusal) {
      this.reply(socket, { code: refusal.code, desc: cmd, msg: refusal.msg });
      return;
    }
    const reply = cmd.startsWith('set.') ? this.onWrite(cmd, body, request) : this.onRead(cmd, body['param']);
    if (reply) this.reply(socket, reply);
  }

  private reply(socket: Socket, reply: { code: number; desc: string; msg: unknown }): void {
    const json = Buffer.from(JSON.stringify({ ...reply, when: Math.floor(this.now() / 1000) }), 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32LE(json.length, 0);
    if (!socket.destroyed) socket.write(Buffer.concat([header, json]));
  }

  private onRead(cmd: string, param: unknown): { code: number; desc: string; msg: unknown } {
    if (cmd === 'get.device.info') {
      const info = this.deviceInfo();
      if (param === undefined) return { code: 0, desc: cmd, msg: info };
      if (typeof param === 'string' && param in info) return { code: 0, desc: cmd, msg: { [param]: info[param] } };
      return { code: -1, desc: cmd, msg: 'invalid param' };
    }
    if (cmd === 'get.miner.status') {
      if (param === 'summary') return { code: 0, desc: cmd, msg: { summary: this.summary() } };
      if (param === 'pools') return { code: 0, desc: cmd, msg: { pools: this.poolsReply() } };
      if (param === 'edevs') return { code: 0, desc: cmd, msg: { edevs: this.edevs() } };
      return { code: -1, desc: cmd, msg: 'invalid param' };
    }
    if (cmd === 'get.miner.setting') {
      return { code: 0, desc: cmd, msg: { 'power-mode': this.state.mode, 'power-limit': this.state.powerLimitW, 'pool-strategy': 'FAILOVER' } };
    }
    return { code: -2, desc: cmd, msg: 'invalid command' };
  }

  private onWrite(cmd: string, body: Record<string, unknown>, request: WhatsminerV3SimRequest): { code: number; desc: string; msg: unknown } | undefined {
    const ts = body['ts'];
    if (body['account'] !== 'super' || typeof ts !== 'number' || typeof body['token'] !== 'string') {
      return { code: -4, desc: cmd, msg: 'access denied' };
    }
    const digest = createHash('sha256').update(`${cmd}${this.password}${this.salt}${ts}`, 'utf8').digest();
    if (body['token'] !== digest.toString('base64').slice(0, 8)) return { code: -4, desc: cmd, msg: 'access denied' };
    let param = body['param'];
    if (cmd === 'set.miner.pools') {
      try {
        param = JSON.parse(decrypt(digest, String(param)));
        request.decryptedParam = param;
      } catch {
        return { code: -1, desc: cmd, msg: 'param decrypt error' };
      }
    }
    const ok = { code: 0, desc: cmd, msg: 'ok' };
    const bad = { code: -1, desc: cmd, msg: 'invalid param' };
    const apply = !this.options.ignoreWrites;
    switch (cmd) {
      case 'set.miner.pools': {
        if (!Array.isArray(param) || param.length === 0 || param.length > 3) return bad;
        const pools: WhatsminerV3SimPool[] = [];
        for (const p of param as unknown[]) {
          const r = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
          if (typeof r['pool'] !== 'string' || typeof r['worker'] !== 'string') return bad;
          pools.push({ url: r['pool'], user: r['worker'], passwd: typeof r['passwd'] === 'string' ? r['passwd'] : '' });
        }
        if (apply) this.state.pools = pools;
        return ok;
      }
      case 'set.miner.power_limit':
        if (typeof param !== 'number' || !Number.isInteger(param) || param < 1 || param > 20_000) return bad;
        if (apply) this.state.powerLimitW = param;
        return ok;
      case 'set.miner.mode':
        if (param !== 'low' && param !== 'normal' && param !== 'high') return bad;
        if (apply) this.state.mode = param;
        return this.options.silentModeWrites ? undefined : ok;
      case 'set.miner.service':
        if (param !== 'start' && param !== 'stop' && param !== 'restart') return bad;
        if (!apply) return ok;
        if (param === 'stop') this.state.working = false;
        else {
          this.state.working = true;
          this.state.restarts++;
          this.state.startedAtMs = this.now();
          this.state.hashingFromMs = this.now() + (this.options.restartPauseMs ?? 2000);
        }
        return ok;
      case 'set.system.reboot':
        if (apply) {
          // Answer first, then go away: the reply goes out before the sockets are cut.
          const timer = setTimeout(() => {
            this.pending.delete(timer);
            this.downUntilMs = this.now() + (this.options.rebootDownMs ?? 3000);
            this.state.reboots++;
            this.state.working = true;
            this.state.startedAtMs = this.downUntilMs;
            this.state.hashingFromMs = this.downUntilMs + (this.options.restartPauseMs ?? 2000);
            this.state.ledStatus = 'auto';
            for (const s of this.sockets) s.destroy();
          }, 10);
          this.pending.add(timer);
        }
        return ok;
      case 'set.system.led':
        if (param === 'auto') {
          if (apply) this.state.ledStatus = 'auto';
          return ok;
        }
        if (!Array.isArray(param) || param.length === 0) return bad;
        if (apply) this.state.ledStatus = 'manual';
        return ok;
      default:
        return { code: -2, desc: cmd, msg: 'invalid command' };
    }
  }

  private hashThs(): number {
    if (!this.hashing()) return 0;
    const factor = this.state.mode === 'low' ? 0.8 : this.state.mode === 'high' ? 1.1 : 1;
    return Math.min(this.options.nominalThs ?? 171.3, (this.options.nominalThs ?? 171.3) * factor * Math.min(1, this.state.powerLimitW / 3156));
  }

  private deviceInfo(): Record<string, unknown> {
    return {
      miner: {
        'board-num': String(BOARDS), 'fast-boot': 'disable', 'hash-board': 'K40', 'hash-percent': '0',
        'miner-sn': 'BTM3CS40HD24083100000000000000SIM', 'pool-strategy': 'FAILOVER', type: this.options.model ?? 'M60S_VK40',
        working: this.state.working ? 'true' : 'false',
      },
      network: { dns: '127.0.0.1', gateway: '127.0.0.1', hostname: 'WhatsMiner', ip: '127.0.0.1', mac: 'CE:02:01:00:8C:36', netmask: '255.0.0.0', proto: 'dhcp' },
      power: { fanspeed: 6344, hwversion: 'RT0159', mode: MODE_CODE[this.state.mode], model: 'P221B', sn: '1436B2429603097', swversion: '230224.220429', type: 'P221B', vendor: '1' },
      salt: this.salt,
      system: { api: '3.0.2', apiswitch: '1', 'control-board-version': 'CB6V10', fwversion: '20251209.16.Rel2', ledstatus: this.state.ledStatus, platform: 'H616' },
    };
  }

  private summary(): Record<string, unknown> {
    const ths = this.hashThs();
    const elapsed = Math.max(0, Math.floor((this.now() - this.state.startedAtMs) / 1000));
    const power = ths === 0 ? 180 : Math.round(Math.min(this.state.powerLimitW, 3156 * (ths / 171.3)));
    const hottest = this.chipTempMaxC(BOARDS - 1);
    return {
      Debug: '', 'board-temperature': [41.1, 40.1, 41.5], 'bootup-time': elapsed + 60, 'chip-temp-avg': round(hottest - 6.5), 'chip-temp-max': hottest,
      'chip-temp-min': round(hottest - 14), elapsed, 'environment-temperature': 28.5, 'factory-hash': 181.051, 'fan-speed-in': 5400, 'fan-speed-out': 5280,
      'freq-avg': 625, 'hash-15min': round(ths), 'hash-1min': round(ths), 'hash-average': round(ths), 'hash-realtime': round(ths),
      'power-5min': power, 'power-limit': this.state.powerLimitW, 'power-rate': ths === 0 ? 0 : round(power / ths), 'power-realtime': power,
      'up-freq-finish': 1,
    };
  }

  private poolsReply(): Record<string, unknown>[] {
    const active = this.activePool();
    return this.state.pools.map((p, i) => ({
      account: p.user, id: i, 'pool-priority': i, status: this.unreachable.has(p.url) ? 'dead' : 'alive',
      'stratum-active': this.state.working && i === active, url: p.url,
    }));
  }

  private edevs(): Record<string, unknown>[] {
    const per = this.hashThs() / BOARDS;
    return Array.from({ length: BOARDS }, (_, id) => ({
      'chip-temp-avg': round(this.chipTempMaxC(id) - 6), 'chip-temp-max': this.chipTempMaxC(id), 'chip-temp-min': round(this.chipTempMaxC(id) - 12), 'effective-chips': 75, 'factory-hash': 60.35,
      freq: 625.0, 'hash-average': round(per), 'hash-realtime': round(per), id, status: 'alive',
    }));
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function decrypt(key: Buffer, base64: string): string {
  const decipher = createDecipheriv('aes-256-ecb', key, null);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(base64, 'base64')), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end).toString('utf8');
}
