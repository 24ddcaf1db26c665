import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ANTMINER_WEB_PERSONALITIES, S19_2020, type AntminerWebPersonality } from './antminer-web.personalities';

export const ANTMINER_REALM = 'antMiner Configuration';

/** The XHTML page lighttpd sends on a failed digest login (recorded from an S9i). */
export const UNAUTHORIZED_PAGE = `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>401 - Unauthorized</title>
 </head>
 <body>
  <h1>401 - Unauthorized</h1>
 </body>
</html>`;

export interface AntminerWebSimulatorOptions {
  personality?: AntminerWebPersonality | string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** Acknowledge every config write with M000 but ignore its work mode (the S19j Pro Dec 2022 behaviour). */
  lying?: boolean;
  /** After a pool change mining restarts: no hashrate for this long (real: minutes). */
  miningRestartMs?: number;
  /** How long set_miner_conf.cgi takes to answer (an S19j Pro: about 21 s). */
  writeDelayMs?: number;
  /** After reboot.cgi every connection is cut for this long. */
  rebootDownMs?: number;
  /** Bodies served verbatim for GET /cgi-bin/<endpoint> (recorded replies), instead of the rendered ones. */
  bodies?: Record<string, string>;
  /** Called after each stored config write: the firmware changing settings by itself (low power moving the frequency). */
  afterWrite?: (conf: Record<string, unknown>) => void;
  /** blink.cgi answers {"code":"B001"} and changes nothing (the miningos mock's failure reply). */
  blinkFails?: boolean;
  /** Close the connection of the first challenge instead of answering 401 (proto-fleet saw real firmware do so). */
  closeFirstChallenge?: boolean;
  now?: () => number;
  /** Stops by itself after this long, so a forgotten simulator cannot keep a test run alive. */
  lifetimeMs?: number;
  /**
   * The miner behind the web UI: stats.cgi, summary.cgi and pools.cgi render what it does (the firmware's CGI
   * scripts ask bmminer, the same process the cgminer API is), instead of the personality's nominal figures. The
   * farm pairs each web UI with its rig's cgminer simulator this way.
   */
  live?: () => AntminerWebLive;
}

/** What the miner behind the web UI is doing now (AntminerWebSimulatorOptions.live). */
export interface AntminerWebLive {
  /** Seconds since bmminer started. */
  elapsedS: number;
  /** One per chain: its hashrate (GH/s; 0 for a dead chain), hottest chip and PCB sensors (°C), hardware errors. */
  chains: Array<{ rateGhs: number; chipC: number; pcbC: number; hw: number }>;
  fans: number[];
  pools: Array<{ url: string; user: string; alive: boolean; priority: number; accepted: number; rejected: number; stale: number }>;
}

export interface AntminerWebRequest {
  method: string;
  /** "/cgi-bin/set_miner_conf.cgi" */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Whether the digest credentials checked out. */
  authorized: boolean;
}

export interface AntminerWebSimState {
  conf: Record<string, unknown>;
  blink: boolean;
  /** Until then, mining restarts after a pool change (rates read 0). */
  restartingUntil: number;
  rebootingUntil: number;
  startedAt: number;
  writes: number;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/**
 * A stock Antminer's web UI on 127.0.0.1: lighttpd's digest auth (realm "antMiner Configuration", qop=auth), the
 * CGI endpoints of the personality's generation, and set_miner_conf.cgi's whole-config semantics: every writable
 * setting the body leaves out is reset (pools emptied, mode back to normal), as the firmware stores what it gets.
 */
export class AntminerWebSimulator {
  readonly personality: AntminerWebPersonality;
  readonly state: AntminerWebSimState;
  readonly requests: AntminerWebRequest[] = [];
  lying: boolean;
  writeDelayMs: number;
  private readonly options: AntminerWebSimulatorOptions;
  private readonly now: () => number;
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly opaque = randomBytes(8).toString('hex');
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private lifetime: NodeJS.Timeout | undefined;
  private challengesClosed = 0;

  constructor(options: AntminerWebSimulatorOptions = {}) {
    this.options = options;
    const p = options.personality ?? S19_2020;
    const personality = typeof p === 'string' ? ANTMINER_WEB_PERSONALITIES[p] : p;
    if (!personality) throw new Error(`unknown Antminer web personality "${String(p)}"; known: ${Object.keys(ANTMINER_WEB_PERSONALITIES).join(', ')}`);
    this.personality = personality;
    this.now = options.now ?? (() => Date.now());
    this.lying = options.lying ?? false;
    this.writeDelayMs = options.writeDelayMs ?? 0;
    this.state = {
      conf: structuredClone(personality.conf), blink: false, restartingUntil: 0, rebootingUntil: 0, startedAt: this.now(), writes: 0,
    };
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => server.listen(this.options.port ?? 0, host, resolve));
    if (this.options.lifetimeMs) {
      this.lifetime = setTimeout(() => void this.stop(), this.options.lifetimeMs);
      this.lifetime.unref();
    }
    return { host, port: (server.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    if (this.lifetime) clearTimeout(this.lifetime);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The config as get_miner_conf.cgi prints it now. */
  renderConf(): string {
    const p = this.personality;
    const lead = p.leadingBlankLines ? '\n\n' : '';
    if (p.confStyle === 'pretty') return `${lead}${JSON.stringify(this.state.conf, null, 2)}\n`;
    const lines: string[] = ['{'];
    const entries = Object.entries(this.state.conf);
    entries.forEach(([key, value], i) => {
      const last = i === entries.length - 1;
      if (key === 'pools' && Array.isArray(value)) {
        lines.push('"pools" : [');
        value.forEach((pool: Record<string, unknown>, j) => {
          lines.push('{', `"url" : ${JSON.stringify(pool['url'] ?? '')},`, `"user" : ${JSON.stringify(pool['user'] ?? '')},`,
            `"pass" : ${JSON.stringify(pool['pass'] ?? '')}`, j === value.length - 1 ? '}' : '},');
        });
        lines.push(']', last ? '' : ',');
        return;
      }
      // A setting that was never stored prints with no value at all: "bitmain-fan-ctrl" : ,
      lines.push(`${JSON.stringify(key)} : ${value === null ? '' : JSON.stringify(value)}${last ? '' : ','}`);
    });
    lines.push('}');
    return `${lead}${lines.join('\n')}\n`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const now = this.now();
    if (now < this.state.rebootingUntil) {
      req.socket.destroy();
      return;
    }
    const authorized = this.checkDigest(req);
    this.requests.push({ method: req.method ?? 'GET', path, headers: { ...req.headers }, body, authorized });
    if (!authorized) {
      if (this.options.closeFirstChallenge && this.challengesClosed === 0 && !req.headers.authorization) {
        this.challengesClosed++;
        req.socket.destroy();
        return;
      }
      res.writeHead(401, {
        'WWW-Authenticate': `Digest realm="${ANTMINER_REALM}", qop="auth", nonce="${this.nonce}", opaque="${this.opaque}"`,
        'Content-Type': 'text/html',
      });
      res.end(UNAUTHORIZED_PAGE);
      return;
    }
    const endpoint = path.replace(/^\/cgi-bin\//, '');
    const recorded = req.method === 'GET' ? this.options.bodies?.[endpoint] : undefined;
    if (recorded !== undefined) return send(res, 200, recorded);
    switch (endpoint) {
      case 'get_system_info.cgi':
        return send(res, 200, this.pretty(this.personality.systemInfo));
      case 'get_miner_conf.cgi':
        return send(res, 200, this.renderConf());
      case 'set_miner_conf.cgi':
        if (req.method !== 'POST') return send(res, 405, '');
        if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
        return send(res, 200, this.personality.generation === 'json' ? this.writeJson(body) : this.writeForm(body));
      case 'blink.cgi':
        return send(res, 200, this.blink(body));
      case 'get_blink_status.cgi':
        return this.personality.generation === 'json' ? send(res, 200, JSON.stringify({ blink: this.state.blink })) : send(res, 404, '');
      case 'reboot.cgi':
        this.state.rebootingUntil = now + (this.options.rebootDownMs ?? 1_000);
        this.state.startedAt = this.state.rebootingUntil;
        req.socket.destroy();
        return;
      case 'stats.cgi':
      case 'summary.cgi':
      case 'pools.cgi':
        if (this.personality.liveEndpoints !== 'web') return send(res, 404, '');
        return send(res, 200, JSON.stringify(endpoint === 'stats.cgi' ? this.stats() : endpoint === 'summary.cgi' ? this.summary() : this.pools(), null, 2));
      default:
        return send(res, 404, '');
    }
  }

  private pretty(obj: Record<string, unknown>): string {
    return this.personality.confStyle === 'pretty' ? JSON.stringify(obj, null, 2) : `{\n${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n')}\n}`;
  }

  private checkDigest(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (!header || !/^Digest\s/i.test(header)) return false;
    const params = new Map<string, string>();
    for (const m of header.slice(7).matchAll(/([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/gi)) {
      params.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
    }
    const user = this.options.user ?? 'root';
    const password = this.options.password ?? 'root';
    if (params.get('username') !== user || params.get('realm') !== ANTMINER_REALM || params.get('nonce') !== this.nonce) return false;
    if (params.get('uri') !== req.url || params.get('qop') !== 'auth' || !params.get('nc') || !params.get('cnonce')) return false;
    const ha1 = md5(`${user}:${ANTMINER_REALM}:${password}`);
    const ha2 = md5(`${req.method}:${params.get('uri')}`);
    return params.get('response') === md5(`${ha1}:${this.nonce}:${params.get('nc')}:${params.get('cnonce')}:auth:${ha2}`);
  }

  /** JSON generation: the body is the whole config; what it leaves out is reset. */
  private writeJson(body: string): string {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(body) as Record<string, unknown>;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not an object');
    } catch {
      return JSON.stringify({ stats: 'error', code: 'M001', msg: 'Invalid data!' });
    }
    const conf = this.state.conf;
    const poolsBefore = JSON.stringify(conf['pools']);
    conf['pools'] = slots(Array.isArray(data['pools']) ? data['pools'] : []);
    conf['bitmain-fan-ctrl'] = data['bitmain-fan-ctrl'] === true;
    conf['bitmain-fan-pwm'] = typeof data['bitmain-fan-pwm'] === 'string' ? data['bitmain-fan-pwm'] : '100';
    // miner-mode is the write key and must be an integer: bitmain-work-mode or a string is acknowledged and ignored.
    if (!this.lying) conf['bitmain-work-mode'] = typeof data['miner-mode'] === 'number' ? String(data['miner-mode']) : '0';
    if ('bitmain-freq-level' in conf) conf['bitmain-freq-level'] = data['freq-level'] === undefined ? '100' : String(data['freq-level']);
    this.afterWrite(poolsBefore);
    return JSON.stringify({ stats: 'success', code: 'M000', msg: 'OK!' });
  }

  /** Form generation: _ant_* fields; a field left out is stored empty (_ant_freq included: the frequency changes). */
  private writeForm(body: string): string {
    const form = new URLSearchParams(body);
    const conf = this.state.conf;
    const poolsBefore = JSON.stringify(conf['pools']);
    conf['pools'] = slots([1, 2, 3].map((n) => ({
      url: form.get(`_ant_pool${n}url`) ?? '', user: form.get(`_ant_pool${n}user`) ?? '', pass: form.get(`_ant_pool${n}pw`) ?? '',
    })));
    conf['bitmain-freq'] = form.get('_ant_freq') ?? '';
    if ('bitmain-voltage' in conf) conf['bitmain-voltage'] = form.get('_ant_voltage') ?? '';
    if ('bitmain-fan-ctrl' in conf) conf['bitmain-fan-ctrl'] = form.get('_ant_fan_customize_switch') === 'true';
    if ('bitmain-fan-pwm' in conf) conf['bitmain-fan-pwm'] = form.get('_ant_fan_customize_value') ?? '';
    if ('bitmain-work-mode' in conf && !this.lying) conf['bitmain-work-mode'] = form.get('_ant_work_mode') ?? '0';
    this.afterWrite(poolsBefore);
    return 'ok';
  }

  private afterWrite(poolsBefore: string): void {
    this.state.writes++;
    this.options.afterWrite?.(this.state.conf);
    if (JSON.stringify(this.state.conf['pools']) !== poolsBefore) this.state.restartingUntil = this.now() + (this.options.miningRestartMs ?? 0);
  }

  private blink(body: string): string {
    if (this.personality.generation === 'form') {
      const action = new URLSearchParams(body).get('action');
      if (action === 'startBlink') this.state.blink = true;
      if (action === 'stopBlink') this.state.blink = false;
      return '';
    }
    if (this.options.blinkFails) return JSON.stringify({ code: 'B001' });
    let on: unknown;
    try {
      on = (JSON.parse(body) as Record<string, unknown>)['blink'];
    } catch {
      return JSON.stringify({ code: 'B001' });
    }
    if (on !== true && on !== false && on !== 'true' && on !== 'false') return JSON.stringify({ code: 'B001' });
    this.state.blink = on === true || on === 'true';
    return JSON.stringify({ code: this.state.blink ? 'B000' : 'B100' });
  }

  /** Hashing now, as a fraction of nominal: 0 while sleeping or restarting after a pool change, 0.7 in low mode. */
  hashingFactor(): number {
    const mode = String(this.state.conf['bitmain-work-mode'] ?? '0');
    if (this.now() < this.state.restartingUntil) return 0;
    if (mode === '1' || mode === '254') return 0;
    return mode === '3' ? 0.7 : 1;
  }

  /** 0 while mining restarts after a pool change or the miner sleeps, else 1. */
  private stoppedFactor(): number {
    return this.hashingFactor() === 0 ? 0 : 1;
  }

  private info(): Record<string, unknown> {
    return { miner_version: this.personality.minerVersion, CompileTime: this.personality.compileTime, type: this.personality.systemInfo['minertype'] };
  }

  private stats(): Record<string, unknown> {
    const p = this.personality;
    const live = this.options.live?.();
    // The miner's own rates already follow its power mode; a restart or sleep stops them.
    const f = live ? this.stoppedFactor() : this.hashingFactor();
    const mode = Number(this.state.conf['bitmain-work-mode'] || 0);
    const chains = live
      ? live.chains.map((c) => ({ rate: c.rateGhs * f, chip: c.chipC, pcb: c.pcbC, hw: c.hw }))
      : Array.from({ length: p.chains }, (_, i) => ({ rate: (p.rateGhs / p.chains) * f, chip: 70 + i, pcb: 62 + i, hw: i }));
    const total = chains.reduce((sum, c) => sum + c.rate, 0);
    const fans = live ? live.fans.map((rpm) => (f > 0 ? rpm : Math.min(rpm, 1200))) : Array.from({ length: p.fans }, (_, i) => (f > 0 ? 4000 + i * 60 : 1200));
    return {
      STATUS: { STATUS: 'S', when: Math.floor(this.now() / 1000), Msg: 'stats', api_version: '1.0.0' },
      INFO: this.info(),
      STATS: [{
        elapsed: this.elapsedS(live),
        rate_5s: total, rate_30m: total, rate_avg: total, rate_ideal: p.rateGhs, rate_unit: 'GH/s',
        chain_num: chains.length, fan_num: fans.length, fan: fans,
        'miner-mode': mode, 'freq-level': Number(this.state.conf['bitmain-freq-level'] || 100),
        chain: chains.map((c, i) => ({
          index: i, freq_avg: c.rate > 0 ? 675 : 0, rate_ideal: p.rateGhs / p.chains, rate_real: c.rate, asic_num: p.chipsPerChain,
          // Four sensors per kind, the inlet pair cooler than the outlet pair: the hottest is the chain's figure.
          temp_pic: [c.pcb - 22, c.pcb - 22, c.pcb - 7, c.pcb - 7], temp_pcb: [c.pcb - 17, c.pcb - 17, c.pcb, c.pcb],
          temp_chip: [c.chip - 20, c.chip - 20, c.chip, c.chip],
          hw: c.hw, sn: `SIMCHAIN${i}`, hwp: 0,
        })),
      }],
    };
  }

  private elapsedS(live: AntminerWebLive | undefined): number {
    return live ? live.elapsedS : Math.max(0, Math.floor((this.now() - this.state.startedAt) / 1000));
  }

  private summary(): Record<string, unknown> {
    const p = this.personality;
    const live = this.options.live?.();
    const rate = live ? live.chains.reduce((sum, c) => sum + c.rateGhs, 0) * this.stoppedFactor() : p.rateGhs * this.hashingFactor();
    const status = { STATUS: 'S', When: Math.floor(this.now() / 1000), Code: 11, Msg: 'Summary', Description: 'bmminer' };
    return {
      STATUS: p.summaryStatus === 'array' ? [status] : status,
      INFO: this.info(),
      SUMMARY: [{
        elapsed: this.elapsedS(live),
        rate_5s: rate, rate_30m: rate, rate_avg: rate, rate_ideal: p.rateGhs, rate_unit: 'GH/s', hw_all: 3, bestshare: 1_000_000,
        status: [{ type: 'rate', status: rate > 0 ? 's' : 'w', code: 0, msg: rate > 0 ? '' : 'no hashrate' }],
      }],
    };
  }

  private pools(): Record<string, unknown> {
    const live = this.options.live?.();
    const pools = live
      ? live.pools
      : (this.state.conf['pools'] as Record<string, string>[]).filter((x) => x['url'])
        .map((x, i) => ({ url: x['url']!, user: x['user'] ?? '', alive: true, priority: i, accepted: i === 0 ? 100 : 0, rejected: 0, stale: 0 }));
    return {
      STATUS: { STATUS: 'S', when: Math.floor(this.now() / 1000), Msg: 'pools', api_version: '1.0.0' },
      INFO: this.info(),
      POOLS: pools.map((x, i) => ({
        index: i, url: x.url, user: x.user, status: x.alive ? 'Alive' : 'Dead', priority: x.priority, getworks: 10, accepted: x.accepted, rejected: x.rejected,
        discarded: 0, stale: x.stale, diff: '', diff1: 0, diffa: x.accepted * 65_536, diffr: x.rejected * 65_536, diffs: 0, lsdiff: 65_536, lstime: '0:00:05',
      })),
    };
  }
}

function slots(pools: unknown[]): Record<string, string>[] {
  return [0, 1, 2].map((i) => {
    const p = (pools[i] ?? {}) as Record<string, unknown>;
    return { url: typeof p['url'] === 'string' ? p['url'] : '', user: typeof p['user'] === 'string' ? p['user'] : '', pass: typeof p['pass'] === 'string' ? p['pass'] : '' };
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': status === 200 ? 'text/plain' : 'text/html', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
