import type { CollectError } from '@rigwarden/protocol';
import {
  DriverError, NO_CONTROL, driverRegistry, sanitizeReading,
  type ApiIdentity, type CollectContext, type CommandSettleTimes, type ControlAction, type ControlCapabilities, type ControlResult, type ControlStep,
  type FaultLight, type MinerControl, type MinerDriver, type MinerEndpoint, type MinerReading, type MiningSwitch, type PoolSpec,
  type PowerTarget, type Rebootable, type Restartable, type SettlingCommand,
} from '@rigwarden/drivers-core';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  MinerStatus, SaveAction,
  type ApiVersion, type GetConstraintsResponse, type GetMinerConfigurationResponse, type GetMinerDetailsResponse, type GetMinerStatsResponse,
  type LocateDeviceStatusResponse, type SetPowerTargetResponse,
} from './bos-messages';
import { BraiinsGrpcClient, type BosService } from './braiins-grpc.client';
import { BraiinsGrpcError } from './braiins-grpc.error';
import { parseBraiinsOptions, type BraiinsOptions } from './braiins-options';
import { BraiinsPoolControl, groupsFromSpecs, singleGroup, withPoolFirst, withPoolOrder, type PoolGroupSpec } from './braiins-pools.control';
import { BRAIINS_GRPC_DRIVER, mapReading, mapState, type BraiinsReplies, type BraiinsState } from './braiins-reading.mapper';

export const BRAIINS_GRPC_PORT = 50051;

export const BRAIINS_CONTROL: ControlCapabilities = Object.freeze({
  ...NO_CONTROL, switchPool: true, poolPriority: true, setPools: true, restart: true,
});

/**
 * How long the miner takes to be itself again. Estimates from the API's documentation (a pool write with
 * SAVE_AND_APPLY restarts bosminer) and from the simulator, not measured on hardware.
 */
const SETTLE_MS: Record<SettlingCommand, number> = {
  setpools: 30_000, switchpool: 30_000, restart: 30_000, reboot: 180_000, powermode: 0, workmode: 0, faultlight: 0,
};

export interface BraiinsDriverDeps {
  /** Clock for the token's lifetime. */
  now?: () => number;
  /** Folder with the bos-plus-api .proto files. */
  protoDir?: string;
  /** Poll interval while waiting for a write to show (ms). */
  pollMs?: number;
}

/** The operations this driver offers on a miner, by name: what telemetry and rigctl can list as its capabilities. */
export type BraiinsGrpcOperation = 'read' | 'set-pools' | 'switch-pool' | 'power-target' | 'stop-resume' | 'restart' | 'reboot' | 'fault-light';
const OPERATIONS: readonly BraiinsGrpcOperation[] = ['read', 'set-pools', 'switch-pool', 'power-target', 'stop-resume', 'restart', 'reboot', 'fault-light'];

/** What a Braiins OS+ gRPC API says it is. */
export interface BraiinsGrpcIdentity {
  vendor: 'braiins';
  /** The API version ("1.3.0"), asked without a token. */
  apiVersion: string;
  /** From GetMinerDetails once logged in; '' when the login was refused. */
  model: string;
  firmware: string;
  serial: string;
  macAddress: string;
  /** False when the configured user and password were refused: the miner is a Braiins OS+ one all the same. */
  loggedIn: boolean;
}

type OptionalRead = 'hashboards' | 'cooling' | 'poolGroups' | 'tuner' | 'configuration';

const OPTIONAL_READS: readonly [OptionalRead, BosService, string][] = [
  ['hashboards', 'MinerService', 'GetHashboards'],
  ['cooling', 'CoolingService', 'GetCoolingState'],
  ['poolGroups', 'PoolService', 'GetPoolGroups'],
  ['tuner', 'PerformanceService', 'GetTunerState'],
  ['configuration', 'ConfigurationService', 'GetMinerConfiguration'],
];

/**
 * A Braiins OS+ miner (23.03 and later) driven through its own gRPC API, the bos-plus-api on TCP 50051: reads
 * details, stats, hashboards, cooling, pool groups and the tuner; writes pool groups, the power target, pause and
 * resume, bosminer restart, reboot and the locate light, each verified by reading back. Older Braiins OS has no
 * gRPC API: this driver then fails with a clear error and the miner stays on driver "braiins" (cgminer API).
 */
export class BraiinsGrpcDriver implements MinerDriver, MinerControl, Restartable, MiningSwitch, PowerTarget, Rebootable, FaultLight, CommandSettleTimes {
  readonly name = BRAIINS_GRPC_DRIVER;
  readonly client: BraiinsGrpcClient;
  readonly options: BraiinsOptions;
  /** What the last collect read that the snapshot has no field for (MAC, cooling mode, tuner, pool groups). */
  lastState: BraiinsState | undefined;
  private readonly pools: BraiinsPoolControl;
  private readonly pollMs: number;
  /** Optional reads this firmware does not implement: not asked again. */
  private readonly unimplemented = new Set<OptionalRead>();

  constructor(readonly endpoint: MinerEndpoint, deps: BraiinsDriverDeps = {}) {
    this.options = parseBraiinsOptions(endpoint.options, { host: endpoint.host, port: endpoint.port });
    this.client = new BraiinsGrpcClient({
      host: endpoint.host, port: endpoint.port, username: this.options.user, password: this.options.password,
      now: deps.now, protoDir: deps.protoDir,
    });
    this.pollMs = deps.pollMs ?? 250;
    this.pools = new BraiinsPoolControl(this.client, this.where, { verifyWaitMs: this.options.verifyWaitMs, pause: (ctx) => this.pause(ctx) });
  }

  private get where(): { host: string; port: number } {
    return { host: this.endpoint.host, port: this.endpoint.port };
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const [details, stats] = await Promise.all([
      this.client.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails', {}, ctx),
      this.client.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats', {}, ctx),
    ]);
    const replies: BraiinsReplies = { details, stats };
    const errors: CollectError[] = [];
    await Promise.all(OPTIONAL_READS.filter(([key]) => !this.unimplemented.has(key)).map(async ([key, service, method]) => {
      try {
        (replies as unknown as Record<string, unknown>)[key] = await this.client.call(service, method, {}, ctx);
      } catch (err) {
        const e = err instanceof DriverError ? err : new BraiinsGrpcError('parse', String(err), { ...this.where, command: `${service}/${method}` });
        if (e.context.statusCode === GrpcStatus.UNIMPLEMENTED) this.unimplemented.add(key);
        errors.push({ kind: e.kind, message: e.message, statusLetter: '', statusCode: e.context.statusCode, command: `${service}/${method}` });
      }
    }));
    this.lastState = mapState(replies);
    return sanitizeReading(mapReading(replies, this.where, errors));
  }

  /**
   * Tells a Braiins OS+ gRPC API apart with GetApiVersion (no token), then names the miner with GetMinerDetails.
   * A closed port or a server without the service fails as collect does (unreachable / unsupported).
   */
  async identify(ctx: CollectContext): Promise<BraiinsGrpcIdentity> {
    const version = await this.client.callAnonymous<ApiVersion>('ApiVersionService', 'GetApiVersion', {}, ctx);
    const apiVersion = `${version.major ?? 0}.${version.minor ?? 0}.${version.patch ?? 0}${version.pre ? `-${version.pre}` : ''}`;
    try {
      const details = await this.client.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails', {}, ctx);
      const reading = mapReading({ details, stats: {} }, this.where);
      return { vendor: 'braiins', apiVersion, model: reading.model, firmware: reading.firmware, serial: details.serial_number ?? '', macAddress: details.mac_address ?? '', loggedIn: true };
    } catch (err) {
      if (err instanceof DriverError && err.kind === 'access_denied') {
        return { vendor: 'braiins', apiVersion, model: '', firmware: '', serial: '', macAddress: '', loggedIn: false };
      }
      throw err;
    }
  }

  /** Every operation offered: all of them, since the gRPC API takes writes from the logged-in user. */
  operations(): BraiinsGrpcOperation[] {
    return [...OPERATIONS];
  }

  controlCapabilities(): ControlCapabilities {
    return BRAIINS_CONTROL;
  }

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    const steps: ControlStep[] = [];
    try {
      switch (action.kind) {
        case 'switchpool': {
          const groups = withPoolFirst(await this.pools.configuredGroups(ctx, steps), action.pool);
          if (!groups) throw this.fail('bad_request', `there is no pool ${action.pool}`, 'PoolService/SetPoolGroups');
          await this.pools.write(groups, ctx, steps);
          return { ok: true, action: action.kind, message: `pool ${action.pool} is first in its group (bosminer restarts to apply)`, steps };
        }
        case 'poolpriority': {
          const groups = withPoolOrder(await this.pools.configuredGroups(ctx, steps), action.order);
          if (!groups) throw this.fail('bad_request', `the order ${action.order.join(',')} does not name each pool at most once`, 'PoolService/SetPoolGroups');
          await this.pools.write(groups, ctx, steps);
          return { ok: true, action: action.kind, message: `pools in the order ${action.order.join(', ')}`, steps };
        }
        case 'restart': {
          const message = await this.restart(ctx, action.waitForApiMs ?? this.options.restartWaitMs, steps);
          return { ok: true, action: action.kind, message, steps };
        }
        default:
          throw this.fail('unsupported', `${action.kind} is not supported by the Braiins OS+ gRPC API driver`, action.kind);
      }
    } catch (err) {
      return { ok: false, action: action.kind, error: this.asDriverError(err, action.kind), steps };
    }
  }

  /** One pool group with these pools in this order, replacing every group (named as the first group was). */
  async setPools(pools: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    const steps: ControlStep[] = [];
    try {
      if (pools.length === 0) throw this.fail('bad_request', 'at least one pool is needed', 'PoolService/SetPoolGroups');
      const current = await this.pools.configuredGroups(ctx, steps);
      await this.pools.write([singleGroup(pools, current[0]?.name || undefined)], ctx, steps);
      return { ok: true, action: 'setpools', message: `pools set: ${pools.map((p) => p.url).join(', ')} (bosminer restarts to apply)`, steps };
    } catch (err) {
      return { ok: false, action: 'setpools', error: this.asDriverError(err, 'setpools'), steps };
    }
  }

  /** Replaces every pool group with `groups` (several groups share the work by quota), verified by reading back. */
  async setPoolGroups(groups: readonly PoolGroupSpec[], ctx: CollectContext): Promise<void> {
    if (groups.length === 0 || groups.some((g) => g.pools.length === 0 || !g.name)) {
      throw this.fail('bad_request', 'each pool group needs a name and at least one pool', 'PoolService/SetPoolGroups');
    }
    await this.pools.write(groupsFromSpecs(groups), ctx, []);
  }

  async restartMiner(ctx: CollectContext): Promise<void> {
    await this.restart(ctx, this.options.restartWaitMs, []);
  }

  async stopMining(ctx: CollectContext): Promise<void> {
    await this.client.call('ActionsService', 'PauseMining', {}, ctx);
    await this.waitForStatus(ctx, 'ActionsService/PauseMining', 'paused', (s) => s === MinerStatus.PAUSED);
  }

  async resumeMining(ctx: CollectContext): Promise<void> {
    await this.client.call('ActionsService', 'ResumeMining', {}, ctx);
    await this.waitForStatus(ctx, 'ActionsService/ResumeMining', 'mining', (s) => s !== MinerStatus.PAUSED);
  }

  /** The tuner's power target in watts, saved and applied; checked against the miner's limits first and read back after. */
  async setPowerTargetW(watts: number, ctx: CollectContext): Promise<void> {
    const command = 'PerformanceService/SetPowerTarget';
    if (!Number.isInteger(watts) || watts <= 0) throw this.fail('bad_request', `the power target must be a whole number of watts above 0, not ${watts}`, command);
    const constraints = await this.optional<GetConstraintsResponse>('ConfigurationService', 'GetConstraints', ctx);
    const limits = constraints?.tuner_constraints?.power_target;
    const min = limits?.min?.watt;
    const max = limits?.max?.watt;
    if ((min !== undefined && watts < min) || (max !== undefined && max > 0 && watts > max)) {
      throw this.fail('bad_request', `${watts} W is outside this miner's power target range ${min ?? '?'}-${max ?? '?'} W`, command);
    }
    const reply = await this.client.call<SetPowerTargetResponse>('PerformanceService', 'SetPowerTarget', { save_action: SaveAction.SAVE_AND_APPLY, power_target: { watt: watts } }, ctx);
    if (reply.power_target?.watt !== undefined && reply.power_target.watt !== watts) {
      throw this.fail('miner_error', `asked for ${watts} W, the miner answered ${reply.power_target.watt} W`, command);
    }
    await this.waitFor(ctx, command, `a configured power target of ${watts} W`, async () => {
      const config = await this.client.call<GetMinerConfigurationResponse>('ConfigurationService', 'GetMinerConfiguration', {}, ctx);
      const seen = config.tuner?.power_target?.watt;
      return { done: seen === watts, seen: `${seen ?? 'no'} W` };
    });
  }

  /** Reboots the control board. A connection that drops as it goes down counts as accepted. */
  async rebootMiner(ctx: CollectContext): Promise<void> {
    try {
      await this.client.call('ActionsService', 'Reboot', {}, ctx);
    } catch (err) {
      if (!(err instanceof BraiinsGrpcError) || (err.grpcCode !== GrpcStatus.UNAVAILABLE && err.grpcCode !== GrpcStatus.INTERNAL)) throw err;
    }
    this.client.forgetToken();
  }

  async setFaultLight(on: boolean, ctx: CollectContext): Promise<void> {
    const command = 'ActionsService/SetLocateDeviceStatus';
    const reply = await this.client.call<LocateDeviceStatusResponse>('ActionsService', 'SetLocateDeviceStatus', { enable: on }, ctx);
    if ((reply.enabled === true) !== on) throw this.fail('miner_error', `asked to turn the locate light ${on ? 'on' : 'off'}, the miner answered ${reply.enabled ? 'on' : 'off'}`, command);
    const back = await this.client.call<LocateDeviceStatusResponse>('ActionsService', 'GetLocateDeviceStatus', {}, ctx);
    if ((back.enabled === true) !== on) throw this.fail('miner_error', `the miner accepted the locate light ${on ? 'on' : 'off'} but reads back ${back.enabled ? 'on' : 'off'}`, command);
  }

  /** Whether the locate light is on. */
  async faultLight(ctx: CollectContext): Promise<boolean> {
    const back = await this.client.call<LocateDeviceStatusResponse>('ActionsService', 'GetLocateDeviceStatus', {}, ctx);
    return back.enabled === true;
  }

  settleTimeMs(command: SettlingCommand): number {
    return SETTLE_MS[command];
  }

  /** Closes the gRPC channel. */
  close(): void {
    this.client.close();
  }

  /**
   * Restarts bosminer and watches it come back: the restart is proven by its uptime starting again (or a status
   * other than normal); within `waitMs` it should be mining again, which the message says either way.
   */
  private async restart(ctx: CollectContext, waitMs: number, steps: ControlStep[]): Promise<string> {
    const before = await this.client.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails', {}, ctx);
    const uptimeBefore = before.bosminer_uptime_s ?? 0;
    await this.client.call('ActionsService', 'Restart', {}, ctx);
    steps.push({ command: 'ActionsService/Restart', ok: true, message: 'accepted' });
    const started = Date.now();
    const until = started + Math.min(waitMs, Math.max(0, ctx.deadlineMs - 500));
    let restarted = false;
    for (;;) {
      let d: GetMinerDetailsResponse | undefined;
      try {
        d = await this.client.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails', {}, ctx);
      } catch (err) {
        // A miner that does not answer while bosminer restarts has restarted it.
        if (!(err instanceof DriverError) || err.kind === 'access_denied' || err.kind === 'aborted') throw err;
        restarted = true;
      }
      const uptime = d?.bosminer_uptime_s ?? 0;
      if (d && (d.status !== MinerStatus.NORMAL || uptime < uptimeBefore)) restarted = true;
      if (restarted && d?.status === MinerStatus.NORMAL) {
        const message = `bosminer restarted and mining again after ${Date.now() - started} ms`;
        steps.push({ command: 'MinerService/GetMinerDetails', ok: true, message });
        return message;
      }
      if (Date.now() >= until || ctx.signal.aborted) {
        if (restarted) {
          const message = `bosminer restarted; not mining yet after ${Date.now() - started} ms`;
          steps.push({ command: 'MinerService/GetMinerDetails', ok: true, message });
          return message;
        }
        const message = `the miner accepted the restart but bosminer kept running (uptime ${uptimeBefore} s -> ${uptime} s)`;
        steps.push({ command: 'MinerService/GetMinerDetails', ok: false, message });
        throw this.fail('miner_error', message, 'ActionsService/Restart');
      }
      await this.pause(ctx);
    }
  }

  private async waitForStatus(ctx: CollectContext, command: string, what: string, ok: (status: number) => boolean): Promise<void> {
    await this.waitFor(ctx, command, `the miner ${what}`, async () => {
      const d = await this.client.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails', {}, ctx);
      return { done: ok(d.status ?? MinerStatus.UNSPECIFIED), seen: `status ${mapState({ details: d }).minerStatus}` };
    });
  }

  /** Reads back until `check` is done, for at most verifyWaitMs (and the collect's deadline); then says what it saw. */
  private async waitFor(ctx: CollectContext, command: string, what: string, check: () => Promise<{ done: boolean; seen: string }>): Promise<void> {
    const until = Date.now() + Math.min(this.options.verifyWaitMs, Math.max(0, ctx.deadlineMs - 500));
    for (;;) {
      let seen: string;
      try {
        const result = await check();
        if (result.done) return;
        seen = result.seen;
      } catch (err) {
        if (!(err instanceof DriverError) || err.kind === 'access_denied' || err.kind === 'aborted') throw err;
        seen = `no answer: ${err.message}`;
      }
      if (Date.now() >= until || ctx.signal.aborted) {
        throw this.fail('miner_error', `the miner accepted the command but does not show ${what} (reads ${seen})`, command);
      }
      await this.pause(ctx);
    }
  }

  private pause(ctx: CollectContext): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      function done(): void {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', done);
        resolve();
      }
      ctx.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async optional<T>(service: BosService, method: string, ctx: CollectContext): Promise<T | undefined> {
    try {
      return await this.client.call<T>(service, method, {}, ctx);
    } catch (err) {
      if (err instanceof BraiinsGrpcError && err.grpcCode === GrpcStatus.UNIMPLEMENTED) return undefined;
      throw err;
    }
  }

  private fail(kind: DriverError['kind'], message: string, command: string): BraiinsGrpcError {
    return new BraiinsGrpcError(kind, message, { ...this.where, command });
  }

  private asDriverError(err: unknown, command: string): DriverError {
    if (err instanceof DriverError) return err;
    return this.fail('miner_error', err instanceof Error ? err.message : String(err), command);
  }
}

driverRegistry.register({
  name: BRAIINS_GRPC_DRIVER,
  description: 'Braiins OS+ 23.03+ gRPC API (bos-plus-api, TCP 50051): reads, pool groups, power target, pause/resume, restart, reboot, locate',
  defaultPort: BRAIINS_GRPC_PORT,
  create: (endpoint) => new BraiinsGrpcDriver(endpoint),
  identify: identifyBraiinsGrpc,
});

/**
 * For scans: GetApiVersion, which needs no token, tells a Braiins OS+ gRPC API; only when the scan was given a user
 * or a password does it log in and name the model (GetMinerDetails). The channel is closed before it returns.
 */
export async function identifyBraiinsGrpc(endpoint: MinerEndpoint, ctx: CollectContext): Promise<ApiIdentity> {
  const options = endpoint.options ?? {};
  const configured = options['user'] !== undefined || options['username'] !== undefined || options['password'] !== undefined;
  const driver = new BraiinsGrpcDriver(endpoint);
  try {
    if (!configured) {
      const v = await driver.client.callAnonymous<ApiVersion>('ApiVersionService', 'GetApiVersion', {}, ctx);
      const api = `${v.major ?? 0}.${v.minor ?? 0}.${v.patch ?? 0}${v.pre ? `-${v.pre}` : ''}`;
      return { vendor: 'braiins', model: '', firmware: 'Braiins OS+', access: 'control', note: `bos-plus-api ${api}; not logged in (no user/password given)` };
    }
    const id = await driver.identify(ctx);
    return {
      vendor: 'braiins', model: id.model, firmware: id.firmware || 'Braiins OS+', access: 'control',
      note: id.loggedIn ? `bos-plus-api ${id.apiVersion}` : `bos-plus-api ${id.apiVersion}; the login was refused (check user/password)`,
    };
  } finally {
    driver.close();
  }
}
