import type { CollectError } from '@rigwarden/protocol';
import {
  DriverError, NO_CONTROL, driverRegistry, type CollectContext, type ControlAction, type ControlCapabilities, type ControlResult,
  type MinerControl, type MinerDriver, type MinerEndpoint, type MinerReading, type PoolControl, type PoolSpec, type Restartable,
  sanitizeReading,
} from '@rigwarden/drivers-core';
import { CgminerClient, type CgminerReply } from './cgminer.client';
import { CgminerPoolControl, PlainChannel } from './cgminer-pool.control';
import type { CgminerDialect, CollectedReplies, DialectName } from './dialects/dialect';
import { DIALECTS, IDENTIFY_COMMANDS, identifyDialect, type Identification } from './dialects/dialect-identification';
import { decodeGeneric, genericDialect } from './dialects/generic.dialect';
import { labelMiner, type MinerLabel } from './discovery/miner-identification';
import { classifyWebPage, fetchWebPage, type WebPage } from './discovery/web-firmware.fingerprint';
import { LuxosSessionChannel } from './luxos-session.channel';
import { WHATSMINER_WRITE_CONTROL, WhatsminerControl } from './whatsminer.control';

export type { CollectedReplies } from './dialects/dialect';

export interface CgminerDriverOptions {
  client?: CgminerClient;
  /** Clock for token lifetimes (Whatsminer). */
  now?: () => number;
}

const ACTION_FLAG: Record<ControlAction['kind'], keyof ControlCapabilities> = {
  switchpool: 'switchPool', addpool: 'addPool', enablepool: 'enablePool', disablepool: 'disablePool', removepool: 'removePool',
  poolpriority: 'poolPriority', restart: 'restart', quit: 'quit', frequency: 'frequency', workmode: 'workMode',
};

/**
 * A miner behind the cgminer RPC API, read and controlled through one firmware
 * dialect, or through the dialect identified on first contact ('auto'). Reads
 * are joined into one multi-command when the firmware joins them.
 */
export class CgminerFamilyDriver implements MinerDriver, PoolControl, Restartable, MinerControl {
  private dialect: CgminerDialect | undefined;
  /** Set once the dialect is known: what identification found (or the fixed dialect). */
  identification: Identification | undefined;
  /**
   * 'auto' only, from the first contact: the miner as a scan labels it (the cgminer API's dialect, the web UI's HTTP
   * fingerprint on options.webPort, default 80, 0: none, and the vendor's own API where they point), with the driver
   * that controls it. The auto driver reads through the cgminer API all the same; this says what would do more.
   */
  label: MinerLabel | undefined;
  private webLooked = false;
  private joinSupported: boolean | undefined;
  /** Commands this firmware refused inside a joined request: asked alone from then on. */
  private readonly unjoinable = new Set<string>();
  /** Commands replaced by their fallback once the firmware said it does not know them (edevs -> devs). */
  private readonly substituted = new Map<string, string>();
  /** Optional commands the firmware does not know (Code 14 when asked alone): not asked again. */
  private readonly unknownCommands = new Set<string>();
  private poolControl: CgminerPoolControl | undefined;
  private whatsminer: WhatsminerControl | undefined;
  protected readonly client: CgminerClient;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    readonly endpoint: MinerEndpoint,
    dialect: CgminerDialect | 'auto',
    options: CgminerDriverOptions = {},
  ) {
    this.client = options.client ?? new CgminerClient();
    this.now = options.now ?? (() => Date.now());
    if (dialect !== 'auto') {
      this.dialect = dialect;
      this.identification = { dialect: dialect.name, support: 'full', reason: `configured as ${name}`, model: '', software: '' };
    }
  }

  get dialectName(): DialectName | undefined {
    return this.dialect?.name;
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const opts = { signal: ctx.signal, join: this.joinSupported };
    let replies: CollectedReplies = {};
    let errors: Record<string, DriverError> = {};
    if (!this.dialect) {
      const web = this.name === 'auto' && !this.webLooked ? this.lookAtWeb(ctx) : Promise.resolve(undefined);
      const first = await this.client.commands(this.endpoint, IDENTIFY_COMMANDS, opts);
      this.noteJoin(first.joined, IDENTIFY_COMMANDS.length);
      if (first.joined) for (const c of first.askedAlone) this.unjoinable.add(c);
      replies = first.replies;
      errors = first.errors;
      this.adopt(identifyDialect(replies));
      await this.labelOnce(await web, replies, ctx);
    }
    const dialect = this.dialect!;
    this.forgetIfUnsure();
    const commands = dialect.collectCommands.map((c) => this.substituted.get(c) ?? c).filter((c) => !this.unknownCommands.has(c));
    const missing = commands.filter((c) => !(c in replies));
    const joinable = missing.filter((c) => !this.unjoinable.has(c));
    const alone = missing.filter((c) => this.unjoinable.has(c));
    for (const batch of [joinable, ...alone.map((c) => [c])]) {
      if (batch.length === 0) continue;
      const more = await this.client.commands(this.endpoint, batch, { signal: ctx.signal, join: this.joinSupported });
      this.noteJoin(more.joined, batch.length);
      if (more.joined) for (const c of more.askedAlone) this.unjoinable.add(c);
      replies = { ...replies, ...more.replies };
      errors = { ...errors, ...more.errors };
    }
    for (const [cmd, alternative] of Object.entries(dialect.fallbacks ?? {})) {
      if (replies[cmd] || errors[cmd]?.kind !== 'unsupported') continue;
      try {
        replies = { ...replies, [alternative]: await this.client.command(this.endpoint, alternative, undefined, { signal: ctx.signal }) };
        delete errors[cmd];
        this.substituted.set(cmd, alternative);
      } catch (err) {
        if (!(err instanceof DriverError)) throw err;
        errors = { ...errors, [alternative]: err };
      }
    }
    for (const cmd of ['devs', 'edevs']) {
      // cgminer 4.x without devices answers devs with STATUS E, Code 10 "No ASCs": no boards, not a failure.
      if (errors[cmd]?.context.statusCode === 10) {
        replies = { ...replies, [cmd]: { STATUS: [{ STATUS: 'E', Code: 10, Msg: errors[cmd]!.context.statusMsg ?? '' }], DEVS: [] } };
        delete errors[cmd];
      }
    }
    for (const [cmd, err] of Object.entries(errors)) {
      const optional = !dialect.requiredCommands.includes(cmd) && !(cmd in (dialect.fallbacks ?? {}));
      if (optional && err.kind === 'unsupported' && dialect.collectCommands.includes(cmd)) this.unknownCommands.add(cmd);
    }
    for (const required of dialect.requiredCommands) {
      if (!replies[required]) {
        throw errors[required] ?? new DriverError('miner_error', `no reply to ${required}`, { host: this.endpoint.host, port: this.endpoint.port, command: required });
      }
    }
    let reading: MinerReading;
    try {
      reading = dialect.decode(pick(replies, [...dialect.collectCommands, ...Object.values(dialect.fallbacks ?? {})]));
    } catch (err) {
      // A reply shaped like nothing the dialect knows must not escape as a TypeError: it is a parse failure.
      throw new DriverError('parse', `the ${dialect.name} dialect could not read the replies: ${(err as Error).message}`,
        { host: this.endpoint.host, port: this.endpoint.port }, { cause: err });
    }
    const collectErrors: CollectError[] = Object.entries(errors)
      .filter(([cmd, err]) => dialect.collectCommands.includes(cmd) && err.kind !== 'unsupported')
      .map(([cmd, err]) => ({
        kind: err.kind, message: err.message, statusLetter: err.context.statusLetter ?? '', statusCode: err.context.statusCode, command: cmd,
      }));
    const id = this.identification;
    return sanitizeReading({
      ...reading,
      vendor: reading.vendor || this.label?.vendor || '',
      host: this.endpoint.host,
      port: this.endpoint.port,
      errors: [...reading.errors, ...collectErrors],
      driver: this.name === 'auto' ? `auto:${dialect.name}${id?.support === 'partial' ? ' (partially supported)' : ''}` : reading.driver,
    });
  }

  /** Identifies the firmware without a full collect (used by discovery and `probe`). */
  async identify(ctx: CollectContext): Promise<Identification> {
    if (this.identification && this.name !== 'auto') return this.identification;
    const first = await this.client.commands(this.endpoint, IDENTIFY_COMMANDS, { signal: ctx.signal, join: this.joinSupported });
    this.noteJoin(first.joined, IDENTIFY_COMMANDS.length);
    const id = identifyDialect(first.replies);
    if (!this.dialect) this.adopt(id);
    return id;
  }

  controlCapabilities(): ControlCapabilities {
    if (!this.dialect) return NO_CONTROL;
    if (this.dialect.name === 'whatsminer') return this.password() === undefined ? NO_CONTROL : WHATSMINER_WRITE_CONTROL;
    return this.dialect.capabilities;
  }

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    try {
      if (!this.dialect) await this.identify(ctx);
    } catch (err) {
      return { ok: false, action: action.kind, error: err as DriverError };
    }
    if (!this.controlCapabilities()[ACTION_FLAG[action.kind]]) {
      return { ok: false, action: action.kind, error: this.unsupported(action.kind) };
    }
    if (this.dialect!.name === 'whatsminer') return this.whatsminerControl().control(action, ctx);
    return this.cgminerControl().control(action, ctx);
  }

  async setPools(pools: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    try {
      if (!this.dialect) await this.identify(ctx);
    } catch (err) {
      return { ok: false, action: 'setpools', error: err as DriverError };
    }
    if (!this.controlCapabilities().setPools) return { ok: false, action: 'setpools', error: this.unsupported('setpools') };
    if (this.dialect!.name === 'whatsminer') return this.whatsminerControl().setPools(pools, ctx);
    return this.cgminerControl().setPools(pools, ctx);
  }

  async switchPool(poolIndex: number, ctx: CollectContext): Promise<void> {
    const result = await this.control({ kind: 'switchpool', pool: poolIndex }, ctx);
    if (!result.ok) throw result.error;
  }

  async restartMiner(ctx: CollectContext): Promise<void> {
    const result = await this.control({ kind: 'restart' }, ctx);
    if (!result.ok) throw result.error;
  }

  /** The web UI's GET / (no credentials), once, in at most a third of the collect's time and 1.5 s. */
  private lookAtWeb(ctx: CollectContext): Promise<WebPage | undefined> {
    this.webLooked = true;
    const port = this.endpoint.options?.['webPort'] ?? 80;
    if (typeof port !== 'number' || port <= 0) return Promise.resolve(undefined);
    return fetchWebPage({ host: this.endpoint.host, port }, '/', { timeoutMs: Math.max(1, Math.min(1500, Math.floor(ctx.deadlineMs / 3))), signal: ctx.signal });
  }

  private async labelOnce(page: WebPage | undefined, replies: CollectedReplies, ctx: CollectContext): Promise<void> {
    if (this.name !== 'auto' || this.label || !this.identification) return;
    const id = this.identification;
    const port = this.endpoint.options?.['webPort'];
    const reading = safeDecode(this.dialect!, replies);
    const budget = Math.max(1, Math.min(1500, Math.floor(ctx.deadlineMs / 3)));
    this.label = await labelMiner({
      host: this.endpoint.host,
      api: { port: this.endpoint.port, identification: id, model: reading?.model || id.model, firmware: reading?.firmware || id.software },
      web: page ? { ...classifyWebPage(page), port: typeof port === 'number' ? port : 80 } : undefined,
      ctx: { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(budget)]), deadlineMs: budget },
    });
  }

  private adopt(id: Identification): void {
    this.identification = id;
    this.dialect = DIALECTS[id.dialect];
  }

  /**
   * Keeps an identification only when it is sure: a partial one (an unknown fork,
   * or a miner that answered badly while restarting) is redone on the next collect,
   * which costs nothing since the generic dialect reads the identification commands.
   */
  private forgetIfUnsure(): void {
    if (this.name === 'auto' && this.identification?.support === 'partial') {
      this.dialect = undefined;
    }
  }

  private noteJoin(joined: boolean, asked: number): void {
    if (asked > 1 && this.joinSupported === undefined) this.joinSupported = joined;
  }

  private password(): string | undefined {
    const value = this.endpoint.options?.['password'];
    return typeof value === 'string' ? value : undefined;
  }

  private cgminerControl(): CgminerPoolControl {
    if (!this.poolControl) {
      const channel = this.dialect?.name === 'luxos' ? new LuxosSessionChannel(this.client, this.endpoint) : new PlainChannel(this.client, this.endpoint);
      this.poolControl = new CgminerPoolControl(this.client, this.endpoint, channel);
    }
    return this.poolControl;
  }

  private whatsminerControl(): WhatsminerControl {
    this.whatsminer ??= new WhatsminerControl(this.client, this.endpoint, this.password() ?? '', this.now);
    return this.whatsminer;
  }

  private unsupported(command: string): DriverError {
    const dialect = this.dialect?.name ?? 'unknown';
    const hint = dialect === 'whatsminer' ? ' (set the admin password in the miner options to enable API v2 writes)'
      : dialect === 'antminer' ? ' (stock Antminer firmware answers writes with Code 45)' : '';
    return new DriverError('unsupported', `${command} is not supported by the ${dialect} dialect${hint}`, { host: this.endpoint.host, port: this.endpoint.port, command });
  }
}

function safeDecode(dialect: CgminerDialect, replies: CollectedReplies): MinerReading | undefined {
  try {
    return dialect.decode(replies);
  } catch {
    return undefined;
  }
}

function pick(replies: CollectedReplies, commands: readonly string[]): CollectedReplies {
  const out: CollectedReplies = {};
  for (const c of commands) if (replies[c]) out[c] = replies[c];
  return out;
}

/** The generic cgminer / bfgminer driver, registered as 'cgminer'. */
export class CgminerDriver extends CgminerFamilyDriver {
  constructor(endpoint: MinerEndpoint, client = new CgminerClient()) {
    super('cgminer', endpoint, genericDialect, { client });
  }
}

/** Kept for callers of the first driver: generic decoding of collected replies. */
export function mapCgminerReplies(replies: Partial<Record<string, CgminerReply>>): MinerReading {
  return decodeGeneric(replies, 'cgminer');
}

export const CGMINER_DRIVER_NAMES = ['cgminer', 'antminer', 'whatsminer', 'avalon', 'braiins', 'luxos', 'auto'] as const;

driverRegistry.register({
  name: 'cgminer',
  description: 'cgminer / bfgminer RPC API (TCP 4028), generic dialect',
  defaultPort: 4028,
  create: (endpoint) => new CgminerDriver(endpoint),
});
for (const name of ['antminer', 'whatsminer', 'avalon', 'braiins', 'luxos'] as const) {
  driverRegistry.register({
    name,
    description: `cgminer RPC API (TCP 4028), ${DIALECTS[name].description}`,
    defaultPort: 4028,
    create: (endpoint) => new CgminerFamilyDriver(name, endpoint, DIALECTS[name]),
  });
}
driverRegistry.register({
  name: 'auto',
  description: 'cgminer RPC API (TCP 4028): identifies the firmware (Antminer, Whatsminer, Avalon, Braiins OS, LuxOS, cgminer) on first contact, '
    + 'with the web UI\'s HTTP fingerprint (options.webPort, default 80) naming the driver that controls it',
  defaultPort: 4028,
  create: (endpoint) => new CgminerFamilyDriver('auto', endpoint, 'auto'),
});
