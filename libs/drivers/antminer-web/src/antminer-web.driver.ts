import type { CollectError, FieldWarning } from '@rigwarden/protocol';
import {
  DriverError, NO_CONTROL, driverRegistry, sanitizeReading,
  type CollectContext, type CommandSettleTimes, type ControlAction, type ControlCapabilities, type ControlResult, type ControlStep,
  type FaultLight, type MinerControl, type MinerDriver, type MinerEndpoint, type MinerReading, type MiningSwitch, type PoolSpec,
  type PowerMode, type PowerModeControl, type Rebootable, type SettlingCommand,
} from '@rigwarden/drivers-core';
import { CgminerFamilyDriver, DIALECTS, decodeAntminer, emptyReading, type CgminerReply } from '@rigwarden/drivers-cgminer';
import { AntminerWebClient, type WebRequest, type WebResponse } from './antminer-web.client';
import {
  algorithmOf, configuredPools, decodeBlinkReply, decodeBlinkStatus, decodeMinerConf, decodeSystemInfo, decodeWebInfo, decodeWebPools, decodeWebStats, decodeWebSummary,
  firmwareLabel, isUnauthorizedPage, isWebStats, sleepingBoards, webStatus, type ConfPool, type MinerConf, type SystemInfo,
} from './antminer-web.decoder';
import { AntminerWebError } from './antminer-web.error';
import { parseAntminerWebOptions, type AntminerWebOptions } from './antminer-web.options';
import { FirmwareJsonError, parseFirmwareJson } from './firmware-json';
import { buildBlinkRequest, buildFormWrite, buildJsonWrite, decodeWriteReply, powerModesOf, writeRefusal, type ConfChange } from './miner-conf.writer';
import { mergeWithApi } from './reading.merge';

export const ANTMINER_WEB_DRIVER = 'antminer-web';
export const ANTMINER_WEB_PORT = 80;

/** The live-data endpoints: the 2019+ web UI's, or the older UI's miner_*.cgi (cgminer-shaped replies). */
const READ_FAMILIES = {
  web: { stats: 'stats.cgi', summary: 'summary.cgi', pools: 'pools.cgi' },
  old: { stats: 'miner_stats.cgi', summary: 'miner_summary.cgi', pools: 'miner_pools.cgi' },
} as const;
type ReadFamily = keyof typeof READ_FAMILIES;

/**
 * ControlAction workmode numbers as the agent's profiles and its local safety watchdog use them for every driver
 * (0 low, 1 normal, 2 high: the cgminer work modes, as whatsminer-v3 reads them too), as this firmware's named modes.
 * Not the web's own numbers (miner-mode 0 normal, 1 sleep, 3 low): read that way, the watchdog's "lowest" (0) changed
 * nothing and its "normal" (1) put the miner to sleep. Stock firmware has no high mode; sleep is setPowerMode('sleep').
 */
const MODE_NUMBERS: Record<number, PowerMode> = { 0: 'low', 1: 'normal' };

export interface AntminerWebDriverDeps {
  /** Waits between read-backs; injectable so tests need not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * A stock Antminer through its web UI's CGI scripts (HTTP 80, digest auth): reads system info, the config and
 * stats/summary/pools where the firmware has them, merged with the cgminer API when options.apiPort is set; writes
 * pools, power mode, fault light and reboot, each write verified by reading back.
 */
export class AntminerWebDriver implements MinerDriver, MinerControl, MiningSwitch, PowerModeControl, FaultLight, Rebootable, CommandSettleTimes {
  readonly name = ANTMINER_WEB_DRIVER;
  readonly options: AntminerWebOptions;
  private readonly web: AntminerWebClient;
  private readonly api: CgminerFamilyDriver | undefined;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private family: ReadFamily | undefined;
  /** Endpoints the firmware answered 404: not asked again. */
  private readonly missing = new Set<string>();
  private conf: MinerConf | undefined;
  private info: SystemInfo | undefined;

  constructor(readonly endpoint: MinerEndpoint, deps: AntminerWebDriverDeps = {}) {
    try {
      this.options = parseAntminerWebOptions(endpoint.options);
    } catch (err) {
      throw new DriverError('bad_request', (err as Error).message, { host: endpoint.host, port: endpoint.port });
    }
    this.web = new AntminerWebClient({ host: endpoint.host, port: endpoint.port, user: this.options.user, password: this.options.password });
    this.api = this.options.apiPort === undefined ? undefined
      : new CgminerFamilyDriver('antminer', { host: endpoint.host, port: this.options.apiPort }, DIALECTS.antminer);
    this.sleep = deps.sleep ?? abortableSleep;
  }

  /** The config as last read (work mode, configured pools, generation); undefined before the first read. */
  get lastConf(): MinerConf | undefined {
    return this.conf;
  }

  /** get_system_info as last read (model, build, serial, MAC). */
  get systemInfo(): SystemInfo | undefined {
    return this.info;
  }

  /** The power mode the config said on the last read. */
  powerMode(): PowerMode | undefined {
    return this.conf?.workMode;
  }

  // ------------------------------------------------------------------ reading

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const started = Date.now();
    const budget = (): number => Math.max(1, Math.min(this.options.timeoutMs, ctx.deadlineMs - (Date.now() - started)));
    const apiRead = this.api?.collect(ctx).then((r) => ({ r, e: undefined }), (e: unknown) => ({ r: undefined, e: asDriverError(e, this.endpoint) }));
    try {
      const errors: CollectError[] = [];
      const warnings: FieldWarning[] = [];
      const infoReply = await this.get('get_system_info.cgi', ctx, budget());
      const info = decodeOrThrow('get_system_info.cgi', this.endpoint, () => decodeSystemInfo(this.json(infoReply, 'get_system_info.cgi')));
      this.info = info;
      const conf = await this.optional('get_miner_conf.cgi', errors, async () => this.decodeConf(await this.get('get_miner_conf.cgi', ctx, budget())));
      if (conf) warnings.push(...conf.emptyKeys.map((k) => ({ field: `get_miner_conf.${k}`, value: '', reason: 'missing value' })));
      const live = await this.readLive(ctx, budget, errors);
      const reading: MinerReading = {
        ...emptyReading(ANTMINER_WEB_DRIVER),
        ...live,
        host: this.endpoint.host,
        port: this.endpoint.port,
        vendor: 'antminer',
        model: info.model || live.model,
        firmware: firmwareLabel(info),
        software: live.software || info.software,
        softwareVersion: live.softwareVersion || info.softwareVersion,
        algorithm: algorithmOf(info.model || live.model),
        pools: live.pools.length ? live.pools : conf ? configuredPools(conf) : [],
        errors: [...live.errors, ...errors],
        fieldWarnings: [...live.fieldWarnings, ...warnings],
        driver: ANTMINER_WEB_DRIVER,
      };
      const api = await apiRead;
      const merged = mergeWithApi(reading, api?.r, api?.e);
      // A miner put to sleep hashes nothing on purpose: its boards are disabled, not dead.
      return sanitizeReading(conf?.workMode === 'sleep' ? { ...merged, boards: sleepingBoards(merged.boards) } : merged);
    } finally {
      await apiRead;
    }
  }

  /** stats/summary/pools from whichever family the firmware has; found on first contact, then remembered. */
  private async readLive(ctx: CollectContext, budget: () => number, errors: CollectError[]): Promise<MinerReading> {
    const out = emptyReading(ANTMINER_WEB_DRIVER);
    for (const family of this.family ? [this.family] : (['web', 'old'] as const)) {
      const names = READ_FAMILIES[family];
      const stats = await this.optional(names.stats, errors, async () => this.json(await this.get(names.stats, ctx, budget()), names.stats));
      if (stats === undefined && this.missing.has(names.stats)) continue;
      this.family = family;
      const summary = await this.optional(names.summary, errors, async () => this.json(await this.get(names.summary, ctx, budget()), names.summary));
      const pools = await this.optional(names.pools, errors, async () => this.json(await this.get(names.pools, ctx, budget()), names.pools));
      if (family === 'old' || (stats !== undefined && !isWebStats(stats))) {
        // The old UI relays the cgminer API's own replies: the cgminer antminer dialect reads them.
        const replies: Record<string, CgminerReply> = {};
        if (stats !== undefined) replies['stats'] = stats as CgminerReply;
        if (summary !== undefined) replies['summary'] = summary as CgminerReply;
        if (pools !== undefined) replies['pools'] = pools as CgminerReply;
        return { ...out, ...this.decodeWith(names.stats, () => decodeAntminer(replies, ANTMINER_WEB_DRIVER)), errors: [] };
      }
      const decoded = this.decodeWith(names.stats, () => {
        const s = stats === undefined ? undefined : decodeWebStats(stats);
        const sum = summary === undefined ? undefined : decodeWebSummary(summary);
        const info = decodeWebInfo(stats) ?? decodeWebInfo(summary);
        return {
          model: info?.type ?? '',
          software: info?.minerVersion ? 'bmminer' : '',
          softwareVersion: info?.minerVersion ?? '',
          uptimeS: s?.uptimeS ?? sum?.uptimeS,
          hashrate5sHs: s?.hashrate5sHs ?? sum?.hashrate5sHs,
          hashrateAvgHs: s?.hashrateAvgHs ?? sum?.hashrateAvgHs,
          hashrateWindows: s?.hashrateWindows.length ? s.hashrateWindows : sum?.hashrateWindows ?? [],
          hwErrors: sum?.hwErrors,
          boards: s?.boards ?? [],
          fans: s?.fans ?? [],
          pools: pools === undefined ? [] : decodeWebPools(pools),
          errors: [
            ...(sum?.alarms ?? []),
            ...(s?.psuStatus && s.psuStatus.toLowerCase() !== 'ok'
              ? [{ kind: 'miner_alarm', message: `the firmware reports the PSU as "${s.psuStatus}"`, statusLetter: '', statusCode: undefined, command: names.stats }] : []),
          ],
        };
      });
      return { ...out, ...decoded };
    }
    return out;
  }

  private decodeWith<T>(endpoint: string, fn: () => T): T {
    return decodeOrThrow(endpoint, this.endpoint, fn);
  }

  /** A read whose failure is recorded in the reading; a 404 marks the endpoint missing (no error). */
  private async optional<T>(endpoint: string, errors: CollectError[], fn: () => Promise<T>): Promise<T | undefined> {
    if (this.missing.has(endpoint)) return undefined;
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof DriverError)) throw err;
      if (err.kind === 'aborted' || err.kind === 'access_denied') throw err;
      if (err.kind === 'unsupported') {
        this.missing.add(endpoint);
        return undefined;
      }
      errors.push({ kind: err.kind, message: err.message, statusLetter: err.context.statusLetter ?? '', statusCode: err.context.statusCode, command: endpoint });
      return undefined;
    }
  }

  private async get(endpoint: string, ctx: CollectContext, timeoutMs: number): Promise<WebResponse> {
    return this.send({ method: 'GET', endpoint, timeoutMs, signal: ctx.signal });
  }

  /** A request whose HTTP status is checked: 404 is `unsupported`, another non-2xx `miner_error`. */
  private async send(req: WebRequest): Promise<WebResponse> {
    const res = await this.web.request(req);
    if (res.status === 404) throw this.error('unsupported', `this firmware has no ${req.endpoint}`, req.endpoint, res.status);
    if (res.status < 200 || res.status >= 300) throw this.error('miner_error', `the web server answered ${req.method} with an error`, req.endpoint, res.status);
    // Some firmware (and foreman's fake) answer a failed login with the 401 page and status 200.
    if (isUnauthorizedPage(res.body)) {
      throw this.error('access_denied', `the web server sent its "401 - Unauthorized" page: wrong web password for user "${this.options.user}"?`, req.endpoint, res.status);
    }
    return res;
  }

  private json(res: WebResponse, endpoint = ''): unknown {
    try {
      const { value } = parseFirmwareJson(res.body);
      const status = webStatus(value);
      if (status && (status.letter === 'E' || status.letter === 'F')) {
        throw new AntminerWebError('miner_error', `the firmware answered STATUS ${status.letter}: ${status.msg}`, { host: this.endpoint.host, port: this.endpoint.port, endpoint, httpStatus: res.status });
      }
      return value;
    } catch (err) {
      if (err instanceof FirmwareJsonError) {
        throw new AntminerWebError('parse', `the reply is not JSON: ${err.message}`, { host: this.endpoint.host, port: this.endpoint.port, endpoint, httpStatus: res.status }, { cause: err });
      }
      throw err;
    }
  }

  private decodeConf(res: WebResponse): MinerConf {
    let parsed;
    try {
      parsed = parseFirmwareJson(res.body);
    } catch (err) {
      throw this.error('parse', `the config is not JSON: ${(err as Error).message}`, 'get_miner_conf.cgi', res.status, err);
    }
    const conf = this.decodeWith('get_miner_conf.cgi', () => decodeMinerConf(parsed.value, parsed.emptyKeys));
    this.conf = conf;
    return conf;
  }

  private async readConf(ctx: CollectContext, timeoutMs = this.options.timeoutMs): Promise<MinerConf> {
    return this.decodeConf(await this.get('get_miner_conf.cgi', ctx, timeoutMs));
  }

  // ------------------------------------------------------------------ control

  controlCapabilities(): ControlCapabilities {
    const conf = this.conf;
    // Before the first read the firmware is unknown: say what the stock web API can do; the write checks the config.
    if (!conf) return { ...NO_CONTROL, setPools: true, switchPool: true, workMode: true };
    const pools = writeRefusal(conf, { pools: [{ url: 'stratum+tcp://check:3333', user: 'check', pass: '' }] }) === undefined;
    return { ...NO_CONTROL, setPools: pools, switchPool: pools, workMode: pools && powerModesOf(conf).length > 0 };
  }

  powerModes(): readonly PowerMode[] {
    return this.conf ? powerModesOf(this.conf) : [];
  }

  /**
   * What this miner accepts through this driver, in the names telemetry and rigctl use (issue 17 items 4 and 7):
   * "read", "switch-pool", "set-pools", "reboot", "power-mode", "fault-light". The modes themselves are
   * powerModes(). Known in full once the config has been read.
   */
  capabilityNames(): string[] {
    const caps = this.controlCapabilities();
    const names = ['read'];
    if (caps.switchPool) names.push('switch-pool');
    if (caps.setPools) names.push('set-pools');
    names.push('reboot');
    if (this.powerModes().length) names.push('power-mode');
    names.push('fault-light');
    return names;
  }

  settleTimeMs(command: SettlingCommand): number {
    return this.options.settleMs[command];
  }

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    const steps: ControlStep[] = [];
    try {
      switch (action.kind) {
        case 'switchpool':
          return { ok: true, action: action.kind, message: await this.switchTo(action.pool, ctx, steps), steps };
        case 'workmode': {
          const mode = MODE_NUMBERS[action.mode];
          if (!mode) throw this.error('bad_request', `work mode ${action.mode} is not one of 0 (low), 1 (normal): stock firmware has no high mode (sleep: the power mode "sleep")`, 'set_miner_conf.cgi');
          return { ok: true, action: action.kind, message: await this.changeMode(mode, ctx, steps), steps };
        }
        default:
          throw this.error('unsupported',
            `${action.kind} is not offered by the stock Antminer web API${action.kind === 'restart' ? ' (it has no mining restart: use reboot)' : ''}`, '');
      }
    } catch (err) {
      return { ok: false, action: action.kind, error: asDriverError(err, this.endpoint), steps };
    }
  }

  async setPools(pools: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    const steps: ControlStep[] = [];
    try {
      const wanted = pools.map((p) => ({ url: p.url, user: p.user, pass: p.password ?? '' }));
      const message = await this.writeConf({ pools: wanted }, ctx, steps);
      return { ok: true, action: 'setpools', message, steps };
    } catch (err) {
      return { ok: false, action: 'setpools', error: asDriverError(err, this.endpoint), steps };
    }
  }

  async setPowerMode(mode: PowerMode, ctx: CollectContext): Promise<void> {
    await this.changeMode(mode, ctx, []);
  }

  async stopMining(ctx: CollectContext): Promise<void> {
    await this.changeMode('sleep', ctx, []);
  }

  async resumeMining(ctx: CollectContext): Promise<void> {
    await this.changeMode('normal', ctx, []);
  }

  private changeMode(mode: PowerMode, ctx: CollectContext, steps: ControlStep[]): Promise<string> {
    return this.writeConf({ mode }, ctx, steps);
  }

  /** The miner's pool `index` first, the other configured pools after it in their order. */
  private async switchTo(index: number, ctx: CollectContext, steps: ControlStep[]): Promise<string> {
    const conf = await this.readConf(ctx);
    const chosen = conf.pools[index];
    if (!chosen || chosen.url === '') throw this.error('bad_request', `pool ${index} is not configured (slots 0-2: ${conf.pools.map((p) => p.url || '-').join(', ')})`, 'get_miner_conf.cgi');
    const order = [chosen, ...conf.pools.filter((p, i) => i !== index && p.url !== '')];
    return this.writeConf({ pools: order }, ctx, steps, conf);
  }

  /**
   * Read, modify, write, verify: the config is read, the change applied to it, the whole config written, and the
   * config read back until it shows the change and every other writable setting unchanged, or verifyWithinMs passes.
   */
  private async writeConf(change: ConfChange, ctx: CollectContext, steps: ControlStep[], known?: MinerConf): Promise<string> {
    // Everything, read-backs included, ends before the caller's deadline, so a failure is reported, not cut off.
    const deadlineAt = Date.now() + ctx.deadlineMs;
    const before = known ?? await this.readConf(ctx);
    if (!known) steps.push({ command: 'get_miner_conf.cgi', ok: true, message: `read the config (${before.generation} generation)` });
    const refusal = writeRefusal(before, change);
    if (refusal) throw this.error(change.mode !== undefined && /no .* mode|no work mode/.test(refusal) ? 'unsupported' : 'bad_request', refusal, 'set_miner_conf.cgi');
    const json = before.generation === 'json';
    const body = json ? buildJsonWrite(before, change) : buildFormWrite(before, change);
    const res = await this.send({
      method: 'POST', endpoint: 'set_miner_conf.cgi', body, timeoutMs: Math.max(1, Math.min(this.options.writeTimeoutMs, deadlineAt - Date.now())), signal: ctx.signal,
      contentType: json ? 'text/plain;charset=UTF-8' : 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    const ack = this.acknowledgement(res, json);
    steps.push({ command: 'set_miner_conf.cgi', parameter: describe(change), ok: true, message: `acknowledged (${ack})` });
    const wantedPools = change.pools ? Array.from({ length: 3 }, (_, i) => change.pools![i] ?? { url: '', user: '', pass: '' }) : before.pools;
    const wantedMode = change.mode ?? before.workMode;
    // Room for the last read-back before the caller's deadline.
    const until = Math.min(Date.now() + this.options.verifyWithinMs, deadlineAt - Math.min(this.options.timeoutMs, ctx.deadlineMs / 4));
    let reason = 'not read back';
    for (;;) {
      try {
        const after = await this.readConf(ctx);
        const problem = notApplied(after, wantedPools, wantedMode, before, change.pools !== undefined);
        if (!problem) {
          steps.push({ command: 'get_miner_conf.cgi', ok: true, message: 'read back: applied' });
          return `${describe(change)}: applied and read back`;
        }
        reason = problem;
      } catch (err) {
        if (err instanceof DriverError && (err.kind === 'aborted' || err.kind === 'access_denied')) throw err;
        // While mining restarts the web server can be away for a moment: keep reading back until the deadline.
        reason = `the config could not be read back (${(err as Error).message})`;
      }
      if (Date.now() + this.options.verifyEveryMs > until) break;
      await this.sleep(this.options.verifyEveryMs, ctx.signal);
    }
    steps.push({ command: 'get_miner_conf.cgi', ok: false, message: `read back: ${reason}` });
    throw new AntminerWebError('miner_error', `${describe(change)}: acknowledged (${ack}) but not applied: ${reason}`,
      { host: this.endpoint.host, port: this.endpoint.port, endpoint: 'set_miner_conf.cgi', httpStatus: res.status, firmwareCode: ack });
  }

  /** The firmware's acknowledgement code, or its refusal as an error. */
  private acknowledgement(res: WebResponse, json: boolean): string {
    const reply = decodeWriteReply(res.body, json ? 'json' : 'form');
    if (reply.ok) return reply.code;
    throw new AntminerWebError(reply.code ? 'miner_error' : 'parse', `the firmware refused the config: ${reply.msg}`, {
      host: this.endpoint.host, port: this.endpoint.port, endpoint: 'set_miner_conf.cgi', httpStatus: res.status,
      firmwareCode: reply.code || undefined, firmwareMsg: reply.msg,
    });
  }

  async rebootMiner(ctx: CollectContext): Promise<void> {
    try {
      await this.send({ method: 'GET', endpoint: 'reboot.cgi', timeoutMs: Math.min(this.options.timeoutMs, ctx.deadlineMs), signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof DriverError)) throw err;
      // The miner goes down as it takes the command: a cut connection, a timeout or a 500 (foreman's fake) is the
      // reboot under way. Not reaching it at all, a wrong password or a missing reboot.cgi is a failure.
      const cut = err.kind === 'timeout' || (err.kind === 'unreachable' && (err.cause as { closedEarly?: boolean } | undefined)?.closedEarly === true)
        || (err instanceof AntminerWebError && err.httpStatus !== undefined && err.httpStatus >= 500);
      if (!cut) throw err;
    }
  }

  async setFaultLight(on: boolean, ctx: CollectContext): Promise<void> {
    const conf = this.conf ?? await this.readConf(ctx);
    const timeoutMs = Math.min(this.options.timeoutMs, ctx.deadlineMs);
    const request = buildBlinkRequest(conf.generation, on);
    const res = await this.send({ method: 'POST', endpoint: 'blink.cgi', ...request, timeoutMs, signal: ctx.signal });
    // The older web UI answers without a body and has no recorded state to read back.
    if (conf.generation === 'form') return;
    let code = '';
    try {
      code = decodeBlinkReply(parseFirmwareJson(res.body).value);
    } catch {
      code = '';
    }
    const expected = on ? 'B000' : 'B100';
    if (code !== expected) {
      throw new AntminerWebError('miner_error', `fault light ${on ? 'on' : 'off'}: the firmware answered ${code || JSON.stringify(res.body.trim().slice(0, 60))}, not ${expected}`,
        { host: this.endpoint.host, port: this.endpoint.port, endpoint: 'blink.cgi', httpStatus: res.status, firmwareCode: code || undefined });
    }
    if (this.missing.has('get_blink_status.cgi')) return;
    let blink: boolean | undefined;
    try {
      blink = decodeBlinkStatus(this.json(await this.get('get_blink_status.cgi', ctx, timeoutMs), 'get_blink_status.cgi'));
    } catch (err) {
      if (err instanceof DriverError && err.kind === 'unsupported') {
        this.missing.add('get_blink_status.cgi');
        return;
      }
      throw err;
    }
    if (blink !== undefined && blink !== on) {
      throw new AntminerWebError('miner_error', `fault light ${on ? 'on' : 'off'}: acknowledged (${code}) but not applied: get_blink_status says blink ${String(blink)}`,
        { host: this.endpoint.host, port: this.endpoint.port, endpoint: 'get_blink_status.cgi', firmwareCode: code });
    }
  }

  private error(kind: DriverError['kind'], message: string, endpoint: string, httpStatus?: number, cause?: unknown): AntminerWebError {
    return new AntminerWebError(kind, message, { host: this.endpoint.host, port: this.endpoint.port, endpoint, httpStatus }, { cause });
  }
}

/** Why the config read back does not show the write, or undefined when it does. */
function notApplied(after: MinerConf, pools: ConfPool[], mode: PowerMode | undefined, before: MinerConf, poolChange: boolean): string | undefined {
  const poolText = (ps: ConfPool[]): string => ps.filter((p) => p.url !== '').map((p) => `${p.url} (${p.user})`).join(', ') || 'none';
  const same = pools.every((p, i) => after.pools[i]?.url === p.url && after.pools[i]?.user === p.user && after.pools[i]?.pass === p.pass);
  if (!same) return `pools are ${poolText(after.pools)}, not ${poolText(pools)}`;
  if (mode !== undefined && after.workMode !== mode) return `work mode still ${after.workMode ?? (JSON.stringify(after.workModeRaw) || 'unknown')}`;
  // A power mode may move the frequency and voltage on its own (low power does); a pool change must not.
  const kept = poolChange ? ['bitmain-fan-ctrl', 'bitmain-fan-pwm', 'bitmain-freq-level', 'bitmain-freq', 'bitmain-voltage'] : ['bitmain-fan-ctrl', 'bitmain-fan-pwm'];
  for (const key of kept) {
    const was = before.raw[key];
    // An empty value (bitmain-fan-ctrl : ,) is written as its default: only a set value must survive.
    if (was === null || was === undefined || was === '') continue;
    if (after.raw[key] !== was) return `${key} changed from ${JSON.stringify(was)} to ${JSON.stringify(after.raw[key])}`;
  }
  return undefined;
}

function describe(change: ConfChange): string {
  const parts: string[] = [];
  if (change.pools) parts.push(`pools ${change.pools.map((p) => p.url).join(', ')}`);
  if (change.mode) parts.push(`power mode ${change.mode}`);
  return parts.join('; ');
}

function decodeOrThrow<T>(endpoint: string, where: MinerEndpoint, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DriverError) throw err;
    throw new AntminerWebError('parse', `could not read the reply: ${(err as Error).message}`, { host: where.host, port: where.port, endpoint }, { cause: err });
  }
}

function asDriverError(err: unknown, where: MinerEndpoint): DriverError {
  if (err instanceof DriverError) return err;
  return new DriverError('miner_error', err instanceof Error ? err.message : String(err), { host: where.host, port: where.port }, { cause: err });
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

driverRegistry.register({
  name: ANTMINER_WEB_DRIVER,
  description: 'stock Antminer web API (HTTP 80, digest auth, user/password default root/root): reads, pools, power mode, reboot, fault light; options.apiPort merges the cgminer API',
  defaultPort: ANTMINER_WEB_PORT,
  create: (endpoint) => new AntminerWebDriver(endpoint),
});
