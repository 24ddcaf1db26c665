import type { CollectError } from '@rigwarden/protocol';
import {
  DriverError, NO_CONTROL, driverRegistry, sanitizeReading,
  type ApiIdentity, type CollectContext, type CommandSettleTimes, type ControlAction, type ControlCapabilities, type ControlResult, type ControlStep, type FaultLight,
  type MinerControl, type MinerDriver, type MinerEndpoint, type MinerReading, type MiningSwitch, type PoolSpec,
  type PowerMode, type PowerModeControl, type PowerTarget, type Rebootable, type Restartable, type SettlingCommand,
} from '@rigwarden/drivers-core';
import { WhatsminerV3Client, type V3Credentials } from './whatsminer-v3.client';
import {
  decodeV3Identity, decodeV3Pools, decodeV3Reading, decodeV3Settings, type V3Replies, type V3Settings, type WhatsminerV3Identity,
} from './whatsminer-v3.decoder';
import { WhatsminerV3Error } from './whatsminer-v3.error';
import { parseWhatsminerV3Options, type WhatsminerV3Options } from './whatsminer-v3.options';

export const WHATSMINER_V3_DRIVER = 'whatsminer-v3';
export const WHATSMINER_V3_PORT = 4433;

/** What the v3 API lets this driver do once a password is configured. */
export const WHATSMINER_V3_CONTROL: ControlCapabilities = Object.freeze({
  ...NO_CONTROL, setPools: true, restart: true, workMode: true,
});

/** ControlAction workmode numbers, as the v2 path and the agent's profiles use them: 0 low, 1 normal, 2 high. */
const MODES = ['low', 'normal', 'high'] as const;
const MAX_POOLS = 3;
const POLL_MS = 250;

/** The operations this driver offers on a miner, by name: what telemetry and rigctl can list as its capabilities. */
export type WhatsminerV3Operation = 'read' | 'set-pools' | 'power-mode' | 'power-limit' | 'restart' | 'stop-resume' | 'reboot' | 'fault-light';
const WRITE_OPERATIONS: readonly WhatsminerV3Operation[] = ['set-pools', 'power-mode', 'power-limit', 'restart', 'stop-resume', 'reboot', 'fault-light'];

export interface WhatsminerV3DriverOptions {
  client?: WhatsminerV3Client;
}

/**
 * A Whatsminer on firmware with API v3 (TCP 4433, 2024+): reads get.device.info and get.miner.status
 * summary/pools/edevs; writes pools (encrypted), power mode, power limit, btminer restart/stop/start, reboot and the
 * LED with the token derived from the password, each verified by reading back where the API reports the value.
 */
export class WhatsminerV3Driver
implements MinerDriver, MinerControl, Restartable, MiningSwitch, FaultLight, PowerTarget, Rebootable, PowerModeControl, CommandSettleTimes {
  readonly name = WHATSMINER_V3_DRIVER;
  readonly options: WhatsminerV3Options;
  private readonly client: WhatsminerV3Client;

  constructor(readonly endpoint: MinerEndpoint, options: WhatsminerV3DriverOptions = {}) {
    this.options = parseWhatsminerV3Options(endpoint);
    this.client = options.client ?? new WhatsminerV3Client();
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const opts = { signal: ctx.signal };
    const deviceInfo = (await this.client.read(this.endpoint, 'get.device.info', undefined, opts)).msg;
    const summary = this.part((await this.client.read(this.endpoint, 'get.miner.status', 'summary', opts)).msg, 'summary');
    const replies: V3Replies = { deviceInfo, summary };
    const errors: CollectError[] = [];
    for (const param of ['pools', 'edevs'] as const) {
      try {
        replies[param] = this.part((await this.client.read(this.endpoint, 'get.miner.status', param, opts)).msg, param);
      } catch (err) {
        if (!(err instanceof DriverError) || err.kind === 'aborted' || ctx.signal.aborted) throw err;
        errors.push({
          kind: err.kind, message: err.message, statusLetter: err.context.statusLetter ?? '', statusCode: err.context.statusCode,
          command: `get.miner.status ${param}`,
        });
      }
    }
    const reading = decodeV3Reading(replies, this.name);
    return sanitizeReading({ ...reading, host: this.endpoint.host, port: this.endpoint.port, errors: [...reading.errors, ...errors] });
  }

  /** One unauthenticated get.device.info: enough to tell an API v3 Whatsminer and name it. */
  async identify(ctx: CollectContext): Promise<WhatsminerV3Identity> {
    return decodeV3Identity((await this.client.read(this.endpoint, 'get.device.info', undefined, { signal: ctx.signal })).msg);
  }

  /** Every operation offered on this miner: reads always; writes once a password is configured. */
  operations(): WhatsminerV3Operation[] {
    return this.options.password === undefined ? ['read'] : ['read', ...WRITE_OPERATIONS];
  }

  /** What the miner says it is set to (power mode, power limit, LED, working). */
  async readSettings(ctx: CollectContext): Promise<V3Settings> {
    const deviceInfo = (await this.client.read(this.endpoint, 'get.device.info', undefined, { signal: ctx.signal })).msg;
    const summary = (await this.client.read(this.endpoint, 'get.miner.status', 'summary', { signal: ctx.signal })).msg;
    return decodeV3Settings(deviceInfo, this.part(summary, 'summary'));
  }

  controlCapabilities(): ControlCapabilities {
    return this.options.password === undefined ? NO_CONTROL : WHATSMINER_V3_CONTROL;
  }

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    try {
      if (action.kind === 'restart') return { ok: true, action: action.kind, message: await this.restart(ctx, action.waitForApiMs) };
      if (action.kind === 'workmode') return { ok: true, action: action.kind, message: await this.setMode(action.mode, ctx) };
      throw new WhatsminerV3Error('unsupported', `${action.kind} is not available through the Whatsminer API v3 (this driver does pools, power mode, power limit, restart, reboot and the LED)`,
        this.context(action.kind));
    } catch (err) {
      return { ok: false, action: action.kind, error: this.asError(err, action.kind) };
    }
  }

  async setPools(pools: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    const steps: ControlStep[] = [];
    const cmd = 'set.miner.pools';
    try {
      if (pools.length === 0 || pools.length > MAX_POOLS) {
        throw new WhatsminerV3Error('bad_request', `Whatsminer has ${MAX_POOLS} pool slots; got ${pools.length} pools`, this.context(cmd));
      }
      for (const [i, p] of pools.entries()) {
        if (!p.url || !p.user) throw new WhatsminerV3Error('bad_request', `pool ${i + 1} needs a url and a user`, this.context(cmd));
      }
      const param = pools.map((p) => ({ pool: p.url, worker: p.user, passwd: p.password ?? 'x' }));
      try {
        await this.client.write(this.endpoint, cmd, param, this.credentials(cmd), { signal: ctx.signal });
      } catch (err) {
        const e = this.asError(err, cmd);
        steps.push({ command: cmd, parameter: pools.map((p) => p.url).join(','), ok: false, message: e.message, refused: e.context.statusCode !== undefined });
        throw e;
      }
      steps.push({ command: cmd, parameter: pools.map((p) => p.url).join(','), ok: true, message: 'accepted' });
      const listed = decodeV3Pools(this.part((await this.client.read(this.endpoint, 'get.miner.status', 'pools', { signal: ctx.signal })).msg, 'pools'));
      const same = listed.length >= pools.length && pools.every((p, i) => listed[i]?.url === p.url && listed[i]?.user === p.user);
      steps.push({ command: 'get.miner.status', parameter: 'pools', ok: same, message: listed.map((p) => `${p.url} (${p.user})`).join(', ') || 'no pools' });
      if (!same) {
        throw new WhatsminerV3Error('miner_error',
          `the miner accepted set.miner.pools but reports ${listed.map((p) => `${p.url} (${p.user})`).join(', ') || 'no pools'} on reading back`, this.context(cmd));
      }
      return { ok: true, action: 'setpools', message: `pools set to ${pools.map((p) => p.url).join(', ')} (verified)`, steps };
    } catch (err) {
      return { ok: false, action: 'setpools', error: this.asError(err, cmd), steps };
    }
  }

  /** normal and low are btminer's modes (set.miner.mode); sleep stops btminer with the API up (set.miner.service). */
  powerModes(): readonly PowerMode[] {
    return this.options.password === undefined ? [] : ['normal', 'low', 'sleep'];
  }

  /** Out of sleep, btminer is started again before its mode is set; each step is verified by reading back. */
  async setPowerMode(mode: PowerMode, ctx: CollectContext): Promise<void> {
    if (mode === 'sleep') {
      await this.stopMining(ctx);
      return;
    }
    if ((await this.readSettings(ctx)).working === false) await this.resumeMining(ctx);
    await this.setMode(MODES.indexOf(mode), ctx);
  }

  settleTimeMs(command: SettlingCommand): number {
    return this.options.settleMs[command];
  }

  async restartMiner(ctx: CollectContext): Promise<void> {
    await this.restart(ctx, undefined);
  }

  async stopMining(ctx: CollectContext): Promise<void> {
    await this.write('set.miner.service', 'stop', ctx);
    await this.verify('set.miner.service', 'btminer stopped (miner.working "false")', ctx, (s) => s.working === undefined || s.working === false);
  }

  async resumeMining(ctx: CollectContext): Promise<void> {
    await this.write('set.miner.service', 'start', ctx);
    await this.verify('set.miner.service', 'btminer running (miner.working "true")', ctx, (s) => s.working === undefined || s.working === true);
  }

  async rebootMiner(ctx: CollectContext): Promise<void> {
    await this.write('set.system.reboot', undefined, ctx);
    // A new boot may come with a new salt.
    this.client.forgetSalt(this.endpoint);
  }

  async setFaultLight(on: boolean, ctx: CollectContext): Promise<void> {
    const param = on ? [{ color: 'red', period: 200, duration: 100, start: 0 }] : 'auto';
    await this.write('set.system.led', param, ctx);
    await this.verify('set.system.led', on ? 'the LED under manual control (system.ledstatus not "auto")' : 'system.ledstatus "auto"', ctx,
      (s) => s.ledStatus === undefined || (s.ledStatus === 'auto') !== on);
  }

  async setPowerTargetW(watts: number, ctx: CollectContext): Promise<void> {
    const cmd = 'set.miner.power_limit';
    if (!Number.isInteger(watts) || watts <= 0 || watts > 20_000) {
      throw new WhatsminerV3Error('bad_request', `a power limit must be a whole number of watts from 1 to 20000, got ${watts}`, this.context(cmd));
    }
    // A plain number, not {"watts": x} (asic-rs PR #146).
    await this.write(cmd, watts, ctx);
    await this.verify(cmd, `power-limit ${watts} W`, ctx, (s) => s.powerLimitW === undefined || s.powerLimitW === watts);
  }

  private async restart(ctx: CollectContext, waitForApiMs: number | undefined): Promise<string> {
    await this.write('set.miner.service', 'restart', ctx);
    if (!waitForApiMs) return 'btminer restart accepted';
    const started = Date.now();
    await this.poll('set.miner.service', 'the API to answer again', ctx, waitForApiMs, async () => {
      await this.client.read(this.endpoint, 'get.device.info', 'miner', { signal: ctx.signal });
      return true;
    });
    return `btminer restart accepted; the API answered again after ${Date.now() - started} ms (hashing resumes on its own time)`;
  }

  private async setMode(mode: number, ctx: CollectContext): Promise<string> {
    const cmd = 'set.miner.mode';
    const wanted = MODES[mode];
    if (!wanted) throw new WhatsminerV3Error('bad_request', `work mode ${mode}: Whatsminer knows 0 (low), 1 (normal), 2 (high)`, this.context(cmd));
    let unanswered = false;
    const replyTimeout = AbortSignal.timeout(this.options.modeReplyTimeoutMs);
    try {
      await this.client.write(this.endpoint, cmd, wanted, this.credentials(cmd), { signal: AbortSignal.any([ctx.signal, replyTimeout]) });
    } catch (err) {
      // The firmware may apply set.miner.mode without answering (PROTOCOLS.md): read back before calling it failed.
      if (!(err instanceof DriverError) || err.kind !== 'timeout' || ctx.signal.aborted) throw err;
      unanswered = true;
    }
    const settings = await this.readSettings(ctx);
    if (settings.powerMode === undefined) {
      if (unanswered) throw new WhatsminerV3Error('timeout', `no reply to set.miner.mode "${wanted}" within ${this.options.modeReplyTimeoutMs} ms and the miner does not report its mode`, this.context(cmd));
      return `power mode ${wanted} accepted (the miner does not report its mode to verify)`;
    }
    if (settings.powerMode !== wanted) {
      throw new WhatsminerV3Error('miner_error', `${unanswered ? 'no reply to' : 'the miner accepted'} set.miner.mode "${wanted}" but reports mode "${settings.powerMode}" on reading back`, this.context(cmd));
    }
    return `power mode ${wanted}${unanswered ? ' (applied without a reply; verified by reading back)' : ' (verified)'}`;
  }

  private async write(cmd: string, param: unknown, ctx: CollectContext): Promise<void> {
    try {
      await this.client.write(this.endpoint, cmd, param, this.credentials(cmd), { signal: ctx.signal });
    } catch (err) {
      throw this.asError(err, cmd);
    }
  }

  /** Rereads the settings until `check` holds or `verifyWithinMs` passes: a write acknowledged but not applied fails. */
  private async verify(cmd: string, what: string, ctx: CollectContext, check: (s: V3Settings) => boolean): Promise<void> {
    let last: V3Settings | undefined;
    try {
      await this.poll(cmd, what, ctx, this.options.verifyWithinMs, async () => {
        last = await this.readSettings(ctx);
        return check(last);
      });
    } catch (err) {
      if (err instanceof WhatsminerV3Error && err.kind === 'timeout' && last) {
        throw new WhatsminerV3Error('miner_error', `the miner accepted ${cmd} but does not show ${what} on reading back (it reports ${JSON.stringify(last)})`, this.context(cmd));
      }
      throw err;
    }
  }

  private async poll(cmd: string, what: string, ctx: CollectContext, withinMs: number, probe: () => Promise<boolean>): Promise<void> {
    const until = Date.now() + withinMs;
    let lastError: unknown;
    for (;;) {
      try {
        if (await probe()) return;
        lastError = undefined;
      } catch (err) {
        if (ctx.signal.aborted) throw this.asError(err, cmd);
        lastError = err;
      }
      if (Date.now() + POLL_MS > until) {
        const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        throw new WhatsminerV3Error('timeout', `waited ${withinMs} ms for ${what}${detail}`, this.context(cmd), { cause: lastError });
      }
      await delay(POLL_MS, ctx.signal);
    }
  }

  private part(msg: unknown, key: 'summary' | 'pools' | 'edevs'): unknown {
    if (typeof msg !== 'object' || msg === null || !(key in msg)) {
      throw new WhatsminerV3Error('parse', `get.miner.status "${key}" reply has no msg.${key}`, this.context('get.miner.status'));
    }
    return (msg as Record<string, unknown>)[key];
  }

  private credentials(cmd: string): V3Credentials {
    if (this.options.password === undefined) {
      throw new WhatsminerV3Error('unsupported',
        `${cmd} needs the write password: set options.password for this miner (the "${this.options.account}" account; factory default "super")`, this.context(cmd));
    }
    return { account: this.options.account, password: this.options.password };
  }

  private context(command: string): { host: string; port: number; command: string } {
    return { host: this.endpoint.host, port: this.endpoint.port, command };
  }

  private asError(err: unknown, command: string): DriverError {
    if (err instanceof DriverError) return err;
    return new WhatsminerV3Error('miner_error', err instanceof Error ? err.message : String(err), this.context(command), { cause: err });
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

driverRegistry.register({
  name: WHATSMINER_V3_DRIVER,
  description: 'Whatsminer API v3 (TCP 4433, 2024+ firmware): reads; pools, power mode/limit, restart, reboot, LED with options.password',
  defaultPort: WHATSMINER_V3_PORT,
  create: (endpoint) => new WhatsminerV3Driver(endpoint),
  identify: identifyWhatsminerV3,
});

/** For scans: one unauthenticated get.device.info names an API v3 Whatsminer; writes need the admin password. */
export async function identifyWhatsminerV3(endpoint: MinerEndpoint, ctx: CollectContext): Promise<ApiIdentity> {
  const driver = new WhatsminerV3Driver(endpoint);
  const id = await driver.identify(ctx);
  const writes = driver.operations().length > 1 ? '' : '; writes need options.password (the admin password)';
  return { vendor: 'whatsminer', model: id.model, firmware: id.firmware, access: 'control', note: `API v3${id.apiVersion ? ` ${id.apiVersion}` : ''}${writes}` };
}
