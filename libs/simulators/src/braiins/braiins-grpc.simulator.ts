import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Metadata, Server, ServerCredentials, loadPackageDefinition, status as GrpcStatus,
  type GrpcObject, type ServerUnaryCall, type ServiceClientConstructor, type ServiceError, type UntypedServiceImplementation, type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { BraiinsMinerState, type BraiinsMinerStateOptions, type SimBraiinsGroup } from './braiins-miner.state';

/**
 * A Braiins OS+ miner's gRPC API (bos-plus-api 1.11.0) on 127.0.0.1, served from the same .proto files the driver
 * loads (libs/drivers/braiins/proto): AuthenticationService/Login with a token that lapses `tokenTimeoutS` after
 * its last use, the reads of MinerService, CoolingService, PoolService, PerformanceService and
 * ConfigurationService, and the writes of PoolService, PerformanceService and ActionsService changing the state.
 * A restart, a pool write with SAVE_AND_APPLY and a reboot stop hashing for `restartPauseMs`.
 */
export interface BraiinsGrpcSimulatorOptions extends BraiinsMinerStateOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  /** A token's lifetime after its last use, as Login reports it (3600 s on the real firmware). */
  tokenTimeoutS?: number;
  /** Put the token only in the reply header `authorization`, as older API versions did. */
  tokenInHeaderOnly?: boolean;
  /** Methods ("MinerService/GetTunerState") answered UNIMPLEMENTED, as an older API version would. */
  unimplemented?: readonly string[];
  /** Writes ("PerformanceService/SetPowerTarget") acknowledged but not applied: a firmware that ignores them. */
  ignoredWrites?: readonly string[];
  /** MinerService and PoolService answer UNAVAILABLE while bosminer restarts (the API itself stays up). */
  unavailableWhileRestarting?: boolean;
  /** Every authenticated reply waits this long (a miner too busy to answer in time). 0 by default. */
  replyDelayMs?: number;
  /** What ApiVersionService/GetApiVersion answers (no token needed); "1.11.0" by default. */
  apiVersion?: string;
  /** GetMinerConfiguration lists no pool groups, as the recorded 25.07-26.04 configurations do. */
  configurationWithoutPools?: boolean;
  /** Stops by itself after this long, so a forgotten simulator cannot outlive its test. 60 s by default. */
  lifetimeMs?: number;
  /** Folder with the bos-plus-api .proto files. */
  protoDir?: string;
}

const PROTO_FILES = [
  'bos/v1/actions.proto', 'bos/v1/authentication.proto', 'bos/v1/configuration.proto', 'bos/v1/cooling.proto',
  'bos/v1/miner.proto', 'bos/v1/performance.proto', 'bos/v1/pool.proto', 'bos/version.proto',
];

function findProtoDir(): string {
  const candidates = [join(__dirname, '..', '..', '..', 'drivers', 'braiins', 'proto'), join(__dirname, 'braiins-proto')];
  const found = candidates.find((dir) => existsSync(join(dir, 'bos', 'v1', 'miner.proto')));
  if (!found) throw new Error(`the bos-plus-api .proto files are missing: looked in ${candidates.join(', ')}`);
  return found;
}

function services(protoDir: string): Record<string, ServiceClientConstructor> {
  const definition = loadSync(PROTO_FILES, { keepCase: true, longs: Number, enums: Number, defaults: false, arrays: true, oneofs: true, includeDirs: [protoDir] });
  const bos = (loadPackageDefinition(definition)['braiins'] as GrpcObject)['bos'] as GrpcObject;
  return { ...(bos['v1'] as GrpcObject), ApiVersionService: bos['ApiVersionService'] } as unknown as Record<string, ServiceClientConstructor>;
}

type Handler = (request: Record<string, unknown>) => object;

function grpcError(code: number, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

const gh = (v: number): object => ({ gigahash_per_second: v });
const temp = (c: number): object => ({ degree_c: c });

export class BraiinsGrpcSimulator {
  readonly state: BraiinsMinerState;
  /** Logins accepted and refused, and calls refused for want of a valid token. */
  readonly counters = { logins: 0, loginsRefused: 0, unauthenticated: 0 };
  /** Every call by method ("PoolService/SetPoolGroups") with its request. */
  readonly calls: { method: string; request: Record<string, unknown> }[] = [];
  private readonly sessions = new Map<string, number>();
  private readonly server = new Server();
  private readonly now: () => number;
  private lifetime: NodeJS.Timeout | undefined;
  private boundPort = 0;

  constructor(private readonly options: BraiinsGrpcSimulatorOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.state = new BraiinsMinerState(options);
    const defs = services(options.protoDir ?? findProtoDir());
    const implement = (service: string, handlers: Record<string, Handler>): void => {
      const impl: UntypedServiceImplementation = {};
      for (const [method, handler] of Object.entries(handlers)) {
        impl[method] = (call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>) => {
          this.answer(`${service}/${method}`, call, callback, handler);
        };
      }
      this.server.addService(defs[service]!.service, impl);
    };
    this.server.addService(defs['AuthenticationService']!.service, {
      Login: (call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>) => this.login(call, callback),
    });
    this.server.addService(defs['ApiVersionService']!.service, {
      GetApiVersion: (call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>) => {
        this.calls.push({ method: 'ApiVersionService/GetApiVersion', request: call.request });
        if ((this.options.unimplemented ?? []).includes('ApiVersionService/GetApiVersion')) {
          callback(grpcError(GrpcStatus.UNIMPLEMENTED, 'Method not found: braiins.bos.ApiVersionService/GetApiVersion'));
          return;
        }
        const [major, minor, patch] = (this.options.apiVersion ?? '1.11.0').split('.').map(Number);
        callback(null, { major, minor, patch });
      },
    });
    implement('MinerService', {
      GetMinerDetails: () => this.details(),
      GetMinerStats: () => this.stats(),
      GetHashboards: () => ({ hashboards: this.hashboards() }),
    });
    implement('CoolingService', { GetCoolingState: () => this.cooling() });
    implement('PoolService', {
      GetPoolGroups: () => ({ pool_groups: this.poolGroups() }),
      SetPoolGroups: (r) => this.setPoolGroups(r),
    });
    implement('PerformanceService', {
      GetTunerState: () => this.tunerState(),
      SetPowerTarget: (r) => this.setPowerTarget(r),
    });
    implement('ConfigurationService', {
      GetMinerConfiguration: () => this.configuration(),
      GetConstraints: () => ({ tuner_constraints: { power_target: {
        default: { watt: this.state.nominalPowerW }, min: { watt: this.state.minPowerTargetW }, max: { watt: this.state.maxPowerTargetW },
      } } }),
    });
    implement('ActionsService', {
      PauseMining: () => this.write('ActionsService/PauseMining', { already_paused: this.state.paused }, () => this.state.pause()),
      ResumeMining: () => this.write('ActionsService/ResumeMining', { already_mining: !this.state.paused }, () => this.state.resume()),
      Restart: () => this.write('ActionsService/Restart', { already_running: !this.state.restarting }, () => this.state.restart()),
      Reboot: () => this.write('ActionsService/Reboot', {}, () => { this.state.reboot(); this.sessions.clear(); }),
      SetLocateDeviceStatus: (r) => this.write('ActionsService/SetLocateDeviceStatus', { enabled: r['enable'] === true },
        () => { this.state.locate = r['enable'] === true; }),
      GetLocateDeviceStatus: () => ({ enabled: this.state.locate }),
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  async start(): Promise<number> {
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${this.options.host ?? '127.0.0.1'}:${this.options.port ?? 0}`, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.lifetime = setTimeout(() => void this.stop(), this.options.lifetimeMs ?? 60_000);
    this.lifetime.unref();
    return this.boundPort;
  }

  async stop(): Promise<void> {
    if (this.lifetime) clearTimeout(this.lifetime);
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 2_000);
      this.server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
  }

  /** Forgets every session, as a miner whose boser restarted does. */
  dropSessions(): void {
    this.sessions.clear();
  }

  private answer(method: string, call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>, handler: Handler): void {
    this.calls.push({ method, request: call.request });
    if ((this.options.unimplemented ?? []).includes(method)) {
      callback(grpcError(GrpcStatus.UNIMPLEMENTED, `Method not found: braiins.bos.v1.${method}`));
      return;
    }
    const token = call.metadata.get('authorization')[0];
    const expires = typeof token === 'string' ? this.sessions.get(token) : undefined;
    if (expires === undefined || this.now() >= expires) {
      if (typeof token === 'string') this.sessions.delete(token);
      this.counters.unauthenticated++;
      callback(grpcError(GrpcStatus.UNAUTHENTICATED, typeof token === 'string' ? 'session expired or unknown token' : 'missing authorization token'));
      return;
    }
    this.sessions.set(token as string, this.now() + this.tokenLifetimeMs);
    if (this.options.unavailableWhileRestarting && this.state.restarting && /^(MinerService|PoolService)\/Get/.test(method)) {
      callback(grpcError(GrpcStatus.UNAVAILABLE, 'bosminer is not running'));
      return;
    }
    const reply = (): void => {
      try {
        callback(null, handler(call.request));
      } catch (err) {
        const e = err as Partial<ServiceError>;
        callback(typeof e.code === 'number' ? (err as ServiceError) : grpcError(GrpcStatus.INTERNAL, String(err)));
      }
    };
    const delay = this.options.replyDelayMs ?? 0;
    if (delay > 0) setTimeout(reply, delay).unref();
    else reply();
  }

  private get tokenLifetimeMs(): number {
    return (this.options.tokenTimeoutS ?? 3600) * 1000;
  }

  /** AuthenticationService/Login (no token needed): checks user and password, hands out a token (in the body, or only in the header). */
  private login(call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>): void {
    this.calls.push({ method: 'AuthenticationService/Login', request: { username: call.request['username'] } });
    const user = this.options.username ?? 'root';
    const password = this.options.password ?? '';
    if (call.request['username'] !== user || (call.request['password'] ?? '') !== password) {
      this.counters.loginsRefused++;
      callback(grpcError(GrpcStatus.UNAUTHENTICATED, 'Invalid username or password'));
      return;
    }
    const token = randomBytes(12).toString('base64url');
    this.sessions.set(token, this.now() + this.tokenLifetimeMs);
    this.counters.logins++;
    const header = new Metadata();
    header.set('authorization', token);
    call.sendMetadata(header);
    callback(null, { token: this.options.tokenInHeaderOnly ? '' : token, timeout_s: this.options.tokenTimeoutS ?? 3600 });
  }

  private write(method: string, reply: object, apply: () => void): object {
    if (!(this.options.ignoredWrites ?? []).includes(method)) apply();
    return reply;
  }

  private details(): object {
    const s = this.state;
    return {
      uid: 'simBraiinsMiner01', miner_identity: { brand: 1, name: s.model, miner_model: s.model }, platform: 4, bos_mode: 4,
      bos_version: { current: s.firmware, major: '2022-09-13-0-11012d53-22.08-plus', bos_plus: true },
      hostname: s.hostname, mac_address: s.macAddress, system_uptime: s.systemUptimeS(), system_uptime_s: s.systemUptimeS(),
      sticker_hashrate: gh(s.boardGhs * s.boards), bosminer_uptime_s: s.bosminerUptimeS(), status: s.status,
      kernel_version: '4.9.113', control_board_soc_family: 3,
    };
  }

  private workStats(ghs: number, nominal: number): object {
    const windows = ['last_5s', 'last_15s', 'last_30s', 'last_1m', 'last_5m', 'last_15m', 'last_30m', 'last_1h', 'last_24h', 'since_restart'];
    return {
      real_hashrate: Object.fromEntries(windows.map((w) => [w, gh(ghs)])), nominal_hashrate: gh(nominal),
      error_hashrate: { megahash_per_second: 0 }, found_blocks: 0, best_share_str: '0',
    };
  }

  private stats(): object {
    const s = this.state;
    return {
      pool_stats: { accepted_shares: s.acceptedShares(), rejected_shares: 0, stale_shares: 0, last_difficulty: s.shareDifficulty(), generated_work: s.acceptedShares() * s.shareDifficulty(), best_share_str: '0' },
      miner_stats: this.workStats(s.totalRateGhs(), s.boardGhs * s.boards),
      power_stats: { approximated_consumption: { watt: s.powerW() }, efficiency: { joule_per_terahash: 21.5 } },
    };
  }

  private hashboards(): object[] {
    const s = this.state;
    const out: object[] = [];
    for (let b = 1; b <= s.boards; b++) {
      const on = !s.disabledBoards.has(b);
      out.push({
        id: String(b), enabled: on, chips_count: { value: s.chipsPerBoard }, current_voltage: { volt: 13.6 },
        current_frequency: { hertz: 525e6 }, highest_chip_temp: { id: 1, location: 1, temperature: temp(s.chipTempC(b)) },
        board_temp: temp(s.hashing ? Math.round((s.chipTempC(b) - 13) * 10) / 10 : 30), stats: this.workStats(s.boardRateGhs(b), s.boardGhs), model: 'BHB56902',
        board_name: 'BHB56902', chip_type: 'BM1366', serial_number: `SIMHB000${b}`,
      });
    }
    return out;
  }

  private cooling(): object {
    const ratio = this.state.hashing ? 0.8 : 0.3;
    return {
      fans: Array.from({ length: this.state.fans }, (_, i) => ({ position: i, rpm: Math.round(6000 * ratio), target_speed_ratio: ratio })),
      highest_temperature: { location: 1, temperature: temp(this.state.chipTempC(this.state.boards)) },
    };
  }

  private poolGroups(): object[] {
    const active = this.state.activePool();
    return this.state.groups.map((g, gi) => ({
      uid: g.uid, name: g.name, quota: { value: g.quota },
      pools: g.pools.map((p, pi) => {
        const isActive = active?.group === gi && active.pool === pi;
        return {
          uid: p.uid, url: p.url, user: p.user, enabled: p.enabled, alive: p.enabled && this.state.poolAlive(p.url), active: isActive,
          stats: { accepted_shares: this.state.acceptedShares(p.url), rejected_shares: 0, stale_shares: 0, last_difficulty: this.state.shareDifficulty(), best_share_str: '0' },
        };
      }),
    }));
  }

  private configuration(): object {
    return {
      pool_groups: this.options.configurationWithoutPools ? [] : this.state.groups.map((g) => ({
        uid: g.uid, name: g.name, quota: { value: g.quota },
        pools: g.pools.map((p) => ({ uid: p.uid, url: p.url, user: p.user, ...(p.password !== undefined ? { password: p.password } : {}), enabled: p.enabled })),
      })),
      temperature: { auto: { target_temperature: temp(75), hot_temperature: temp(90), dangerous_temperature: temp(100) } },
      tuner: { enabled: true, tuner_mode: 1, power_target: { watt: this.state.powerTargetW } },
    };
  }

  private tunerState(): object {
    return {
      overall_tuner_state: this.state.hashing ? 2 : 1,
      power_target_mode_state: { current_target: { watt: this.state.powerTargetW }, profile: { target: { watt: this.state.powerTargetW } } },
    };
  }

  private setPowerTarget(r: Record<string, unknown>): object {
    const watt = Number((r['power_target'] as { watt?: number } | undefined)?.watt ?? 0);
    if (watt < this.state.minPowerTargetW || watt > this.state.maxPowerTargetW) {
      throw grpcError(GrpcStatus.INVALID_ARGUMENT, `power target ${watt} W out of range ${this.state.minPowerTargetW}-${this.state.maxPowerTargetW} W`);
    }
    return this.write('PerformanceService/SetPowerTarget', { power_target: { watt } }, () => { this.state.powerTargetW = watt; });
  }

  private setPoolGroups(r: Record<string, unknown>): object {
    const groups = (r['pool_groups'] as Record<string, unknown>[] | undefined) ?? [];
    const parsed: SimBraiinsGroup[] = groups.map((g) => ({
      name: String(g['name'] ?? ''),
      quota: Number((g['quota'] as { value?: number } | undefined)?.value ?? 1),
      pools: ((g['pools'] as Record<string, unknown>[] | undefined) ?? []).map((p) => ({
        url: String(p['url'] ?? ''), user: String(p['user'] ?? ''),
        ...(p['password'] !== undefined ? { password: String(p['password']) } : {}), enabled: p['enabled'] !== false,
      })),
    }));
    if (parsed.some((g) => !g.name || g.pools.length === 0 || g.pools.some((p) => !/^stratum(\+tcp|2\+tcp|\+ssl)?:\/\/[^/]+:\d+/.test(p.url)))) {
      throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'every pool group needs a name and pools with a stratum URL (stratum+tcp://host:port)');
    }
    const applies = r['save_action'] === 2 || r['save_action'] === 3;
    const reply = { pool_groups: parsed.map((g) => ({ ...g, quota: { value: g.quota } })) };
    return this.write('PoolService/SetPoolGroups', reply, () => {
      this.state.setGroups(parsed);
      if (applies) this.state.restart();
    });
  }
}
