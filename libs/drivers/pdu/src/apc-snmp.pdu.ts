import { APC_DIALECT_NAMES, APC_DIALECTS, APC_SYS_OBJECT_IDS, type ApcDialect, type ApcDialectName } from './apc-powernet.dialect';
import { configError, optionalEnum, optionalInteger, optionalString, requiredString, type ConfigRecord } from './pdu-config';
import { PduError, type PduErrorContext } from './pdu-error';
import { MAX_OFF_MS, MIN_OFF_MS, pduDriverRegistry, type PduDependencies } from './pdu-registry';
import {
  systemPduRuntime,
  type OutletState,
  type PduCallOptions,
  type PduRuntime,
  type PowerCycleOptions,
  type PowerCycleResult,
  type PowerCycleStep,
  type PowerDistributionUnit,
} from './power-distribution-unit';
import { DEFAULT_SNMP_PORT, SnmpClient, type SnmpTarget } from './snmp.client';
import type { SnmpVersion } from './snmp-message.codec';

export const APC_SNMP_DRIVER = 'apc-snmp';

/** A single APC switched PDU has at most 48 outlets; rPDU2 units daisy-chained behind one card (up to 4) share one table. */
export const APC_MAX_OUTLETS = 192;
/** outletCount when the config gives none: the largest single unit. */
export const APC_DEFAULT_OUTLET_COUNT = 48;

export interface ApcSnmpPduOptions {
  host: string;
  /** UDP port of the agent, 161 by default. */
  port?: number;
  /** The read-write community; used for SET, and for GET unless readCommunity is given. */
  community: string;
  /** A read-only community for GETs (APC NMCs have separate read and write communities). */
  readCommunity?: string;
  /** APC network management cards speak SNMP v1 (and v3); v2c where the firmware offers it. Default '1'. */
  version?: SnmpVersion;
  /** Which PowerNet-MIB outlet table to use; default 'spdu' (sPDUOutletCtl). */
  dialect?: ApcDialectName;
  /** Outlets on this PDU (1..192); default 48. Outlet numbers above it are refused before sending. */
  outletCount?: number;
  /** Per try, default 1000 ms. */
  timeoutMs?: number;
  /** Tries after the first, default 2. */
  retries?: number;
  /** How long a switched outlet may take to read back in its new state; default 10000 ms. */
  verifyTimeoutMs?: number;
  /** Pause between read-backs; default 500 ms. */
  verifyIntervalMs?: number;
}

/** Options after checking, defaults filled in. */
export type ResolvedApcSnmpOptions = Required<ApcSnmpPduOptions>;

/** One row of the PDU's outlet table, as listed by outlets(). */
export interface ApcOutletRow {
  outlet: number;
  /** 'unknown' when the PDU reports a value that is neither (outletUnknown). */
  state: OutletState | 'unknown';
  /** The name set on the PDU, when it has one. */
  name?: string;
}

/** What a PDU says about itself, for probes and check-config. */
export interface ApcIdentity {
  sysDescr: string;
  sysObjectId: string;
  /** Known APC family of sysObjectID, if any. */
  family?: string;
  /** The dialect the family calls for; undefined for an unknown sysObjectID (spdu is then the safe guess). */
  suggestedDialect?: ApcDialectName;
}

const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';

export const APC_SNMP_KEYS = [
  'host', 'port', 'community', 'readCommunity', 'version', 'dialect', 'outletCount', 'timeoutMs', 'retries',
  'verifyTimeoutMs', 'verifyIntervalMs',
] as const;

/** Checks raw config (from YAML) or constructor options; refusals name `${path}.${key}`. */
export function parseApcSnmpOptions(raw: ConfigRecord, path: string): ResolvedApcSnmpOptions {
  const host = requiredString(raw, 'host', path, { maxBytes: 253 });
  if (/^[a-z]+:\/\//i.test(host) || /\s|\//.test(host)) throw configError(`${path}.host`, `must be a host name or IP address, got "${host}"`);
  if (/^[^:]+:\d+$/.test(host)) throw configError(`${path}.host`, `must not carry a port ("${host}"); put the port in ${path}.port`);
  const community = requiredString(raw, 'community', path, { secret: true, maxBytes: 64 });
  const readCommunity = optionalString(raw, 'readCommunity', path, { secret: true, maxBytes: 64 }) ?? community;
  const versionRaw = raw.version;
  let version: SnmpVersion = '1';
  if (versionRaw !== undefined) {
    const text = String(versionRaw).replace(/^v/i, '');
    if ((typeof versionRaw !== 'string' && typeof versionRaw !== 'number') || (text !== '1' && text !== '2c')) {
      throw configError(`${path}.version`, `must be "1" or "2c" (SNMPv3 is not supported), got ${JSON.stringify(versionRaw)}`);
    }
    version = text;
  }
  const timeoutMs = optionalInteger(raw, 'timeoutMs', path, 10, 30_000) ?? 1000;
  const verifyIntervalMs = optionalInteger(raw, 'verifyIntervalMs', path, 10, 10_000) ?? 500;
  return {
    host,
    port: optionalInteger(raw, 'port', path, 1, 65_535) ?? DEFAULT_SNMP_PORT,
    community,
    readCommunity,
    version,
    dialect: optionalEnum(raw, 'dialect', path, APC_DIALECT_NAMES) ?? 'spdu',
    outletCount: optionalInteger(raw, 'outletCount', path, 1, APC_MAX_OUTLETS) ?? APC_DEFAULT_OUTLET_COUNT,
    timeoutMs,
    retries: optionalInteger(raw, 'retries', path, 0, 10) ?? 2,
    verifyTimeoutMs: optionalInteger(raw, 'verifyTimeoutMs', path, 0, 120_000) ?? 10_000,
    verifyIntervalMs,
  };
}

/**
 * APC PowerNet outlet control over SNMP v1/v2c.
 *
 * Power-cycle is off → wait offMs → on, each edge verified by reading the outlet
 * back, rather than the PDU's own reboot command (sPDUOutletCtl 3), because:
 * the off time is chosen per command instead of being the device-wide
 * sPDUOutletRebootDuration; both edges are observed, where a reboot gives no off
 * state we are sure to see; and on/off SETs are idempotent, so they are safely
 * retried over UDP, while a retried reboot can reboot twice. The price: if the
 * agent dies during the off time, the outlet stays off; a failure after "off"
 * says so (`context.outletLeft`).
 *
 * One command per outlet at a time: a second one while the first runs is
 * refused with `busy`.
 */
export class ApcSnmpPdu implements PowerDistributionUnit {
  readonly driver = APC_SNMP_DRIVER;
  readonly host: string;
  readonly port: number;
  readonly outletCount: number;
  readonly dialect: ApcDialect;
  private readonly options: ResolvedApcSnmpOptions;
  private readonly client: SnmpClient;
  private readonly runtime: PduRuntime;
  private readonly busy = new Set<number>();

  constructor(options: ApcSnmpPduOptions, deps: PduDependencies = {}) {
    this.options = parseApcSnmpOptions(options as unknown as ConfigRecord, APC_SNMP_DRIVER);
    this.host = this.options.host;
    this.port = this.options.port;
    this.outletCount = this.options.outletCount;
    this.dialect = APC_DIALECTS[this.options.dialect];
    this.client = deps.snmpClient ?? new SnmpClient({ timeoutMs: this.options.timeoutMs, retries: this.options.retries });
    this.runtime = deps.runtime ?? systemPduRuntime;
  }

  /** The resolved settings, communities left out (for check-config and logs). */
  settings(): Omit<ResolvedApcSnmpOptions, 'community' | 'readCommunity'> & { separateReadCommunity: boolean } {
    const { community, readCommunity, ...rest } = this.options;
    return { ...rest, separateReadCommunity: community !== readCommunity };
  }

  /** The longest a single state read or command can take, retries included. */
  get requestBudgetMs(): number {
    return this.options.timeoutMs * (this.options.retries + 1);
  }

  /** Upper bound of setOutlet: the SET, then reads until verifyTimeoutMs, the last one started just before it. */
  maxSetOutletMs(): number {
    return 2 * this.requestBudgetMs + this.options.verifyTimeoutMs;
  }

  /** Upper bound of powerCycle: the first read, two verified switches and the off time. */
  maxPowerCycleMs(offMs: number): number {
    return this.requestBudgetMs + 2 * this.maxSetOutletMs() + offMs;
  }

  /** Reads sysDescr.0 and sysObjectID.0 with the read community and names the dialect the family calls for. */
  async identify(options: PduCallOptions = {}): Promise<ApcIdentity> {
    const [descr, objectId] = await this.client.get(this.target(false), [SYS_DESCR, SYS_OBJECT_ID], {
      signal: options.signal,
      context: { operation: 'identify: get sysDescr, sysObjectID' },
    });
    const sysDescr = descr.value.type === 'octetString' ? descr.value.value.toString('utf8') : '';
    const sysObjectId = objectId.value.type === 'oid' ? objectId.value.value : '';
    const known = APC_SYS_OBJECT_IDS[sysObjectId];
    return { sysDescr, sysObjectId, ...(known ? { family: known.family, suggestedDialect: known.dialect } : {}) };
  }

  /**
   * Walks the dialect's state and name columns: every outlet the PDU has, its state
   * and its name, so an operator can find which outlet feeds which miner. One
   * GETNEXT per row, at most outletCount rows per column.
   */
  async outlets(options: PduCallOptions = {}): Promise<ApcOutletRow[]> {
    const walk = (column: string, object: string) =>
      this.client.walk(this.target(false), column, {
        signal: options.signal,
        maxRows: this.outletCount,
        context: { operation: `list outlets: walk ${object}` },
      });
    const states = await walk(this.dialect.stateColumn, this.dialect.stateObject);
    const names = new Map<number, string>();
    for (const vb of await walk(this.dialect.nameColumn, this.dialect.nameObject)) {
      if (vb.value.type === 'octetString') names.set(lastArc(vb.oid), vb.value.value.toString('utf8'));
    }
    return states.map((vb) => {
      const outlet = lastArc(vb.oid);
      const state = (vb.value.type === 'integer' && this.dialect.states.get(vb.value.value)) || 'unknown';
      const name = names.get(outlet);
      return { outlet, state, ...(name !== undefined ? { name } : {}) };
    });
  }

  async outletState(outlet: number, options: PduCallOptions = {}): Promise<OutletState> {
    this.checkOutlet(outlet, 'outlet state');
    return this.readState(outlet, 'outlet state', options.signal);
  }

  async setOutlet(outlet: number, state: OutletState, options: PduCallOptions = {}): Promise<void> {
    const operation = `set outlet ${state}`;
    this.checkOutlet(outlet, operation);
    if (state !== 'on' && state !== 'off') throw this.error('bad_input', `state must be "on" or "off", got ${JSON.stringify(state)}`, operation, outlet);
    await this.exclusive(outlet, operation, async () => {
      await this.command(outlet, state, operation, options.signal);
      await this.waitForState(outlet, state, operation, options.signal);
    });
  }

  async powerCycle(outlet: number, options: PowerCycleOptions): Promise<PowerCycleResult> {
    const operation = 'power-cycle';
    this.checkOutlet(outlet, operation);
    const offMs = options?.offMs;
    if (!Number.isInteger(offMs) || offMs < MIN_OFF_MS || offMs > MAX_OFF_MS) {
      throw this.error('bad_input', `offMs must be an integer from ${MIN_OFF_MS} to ${MAX_OFF_MS}, got ${offMs}`, operation, outlet);
    }
    const { signal } = options;
    return this.exclusive(outlet, operation, async () => {
      const start = this.runtime.now();
      const steps: PowerCycleStep[] = [];
      const initialState = await this.readState(outlet, operation, signal);
      steps.push({ action: 'read', at: this.runtime.now(), state: initialState });
      // What the outlet is known to be if we stop now. A SET answered with an error-status was not applied
      // (SNMP SETs are all or nothing); a SET that timed out may have been.
      let left = initialState as OutletState | 'unknown';
      const switchTo = async (state: OutletState): Promise<void> => {
        const before = left;
        left = 'unknown';
        try {
          await this.command(outlet, state, operation, signal);
        } catch (err) {
          if (err instanceof PduError && (err.kind === 'snmp_error' || err.kind === 'no_such_object')) left = before;
          throw err;
        }
        await this.waitForState(outlet, state, operation, signal);
        left = state;
        steps.push({ action: state, at: this.runtime.now(), state });
      };
      try {
        await switchTo('off');
        try {
          await this.runtime.sleep(offMs, signal);
        } catch (err) {
          throw this.error('aborted', `aborted during the ${offMs} ms off time`, operation, outlet, {}, err);
        }
        steps.push({ action: 'wait', at: this.runtime.now() });
        await switchTo('on');
        return { outlet, initialState, offMs, durationMs: this.runtime.now() - start, steps };
      } catch (err) {
        if (!(err instanceof PduError)) throw err;
        const note = left === 'off' ? 'the outlet is left OFF' : left === 'unknown' ? 'the outlet state is unknown' : 'the outlet is left on';
        throw new PduError(err.kind, `${err.detail}; ${note}`, { ...err.context, outlet, outletLeft: left }, { cause: err });
      }
    });
  }

  // ---------------------------------------------------------------- internals

  private target(write: boolean): SnmpTarget {
    const { host, port, version, community, readCommunity } = this.options;
    return { host, port, version, community: write ? community : readCommunity };
  }

  private async readState(outlet: number, operation: string, signal: AbortSignal | undefined): Promise<OutletState> {
    const oid = `${this.dialect.stateColumn}.${outlet}`;
    const [varbind] = await this.snmp(outlet, false, () =>
      this.client.get(this.target(false), [oid], { signal, context: { outlet, operation: `${operation}: get ${this.dialect.stateObject}` } }),
    );
    const { value } = varbind;
    if (value.type !== 'integer') {
      throw this.error('unexpected_reply', `${this.dialect.stateObject} is ${value.type}, expected an INTEGER`, operation, outlet, { oid });
    }
    const state = this.dialect.states.get(value.value);
    if (!state) {
      const name = this.dialect.stateNames[value.value] ?? 'not a state';
      throw this.error('unexpected_reply', `${this.dialect.stateObject} reads ${name}(${value.value}), neither on nor off`, operation, outlet, { oid });
    }
    return state;
  }

  private async command(outlet: number, state: OutletState, operation: string, signal: AbortSignal | undefined): Promise<void> {
    const oid = `${this.dialect.controlColumn}.${outlet}`;
    const value = this.dialect.commands[state];
    // On and off are idempotent: resending after a lost reply is safe, so the client retries.
    await this.snmp(outlet, true, () =>
      this.client.set(this.target(true), [{ oid, value: { type: 'integer', value } }], {
        signal,
        context: { outlet, operation: `${operation}: set ${this.dialect.controlObject}=${value} (${state})` },
      }),
    );
  }

  /** Reads the outlet until it shows `state` or verifyTimeoutMs passes (APC applies commands asynchronously). */
  private async waitForState(outlet: number, state: OutletState, operation: string, signal: AbortSignal | undefined): Promise<void> {
    const deadline = this.runtime.now() + this.options.verifyTimeoutMs;
    let reads = 0;
    for (;;) {
      const current = await this.readState(outlet, operation, signal);
      reads++;
      if (current === state) return;
      const left = deadline - this.runtime.now();
      if (left <= 0) {
        throw this.error(
          'verify_failed',
          `the PDU accepted "${state}" but the outlet still reads ${current} after ${this.options.verifyTimeoutMs} ms (${reads} reads)`,
          operation,
          outlet,
          { oid: `${this.dialect.stateColumn}.${outlet}` },
        );
      }
      try {
        await this.runtime.sleep(Math.min(this.options.verifyIntervalMs, left), signal);
      } catch (err) {
        throw this.error('aborted', `aborted while waiting for the outlet to read ${state}`, operation, outlet, {}, err);
      }
    }
  }

  private async snmp<T>(outlet: number, write: boolean, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof PduError && err.kind === 'no_such_object') {
        const missing = `outlet ${outlet} does not exist on this PDU, or the PDU does not implement ${this.dialect.name} (${this.dialect.controlObject})`;
        const why =
          write && this.options.version === '1'
            ? `check that "community" is the read-write community (v1 agents answer a SET with a read-only one this way); otherwise ${missing}`
            : missing;
        throw new PduError(err.kind, `${err.detail}: ${why}`, { ...err.context, outlet }, { cause: err });
      }
      throw err;
    }
  }

  private async exclusive<T>(outlet: number, operation: string, run: () => Promise<T>): Promise<T> {
    if (this.busy.has(outlet)) throw this.error('busy', 'another command for this outlet is still running', operation, outlet);
    this.busy.add(outlet);
    try {
      return await run();
    } finally {
      this.busy.delete(outlet);
    }
  }

  private checkOutlet(outlet: number, operation: string): void {
    if (!Number.isInteger(outlet) || outlet < 1 || outlet > this.outletCount) {
      throw this.error('bad_input', `outlet must be an integer from 1 to ${this.outletCount}, got ${outlet}`, operation);
    }
  }

  private error(kind: PduError['kind'], message: string, operation: string, outlet?: number, extra: Partial<PduErrorContext> = {}, cause?: unknown): PduError {
    const context: PduErrorContext = { host: this.host, port: this.port, operation, ...(outlet !== undefined ? { outlet } : {}), ...extra };
    return new PduError(kind, message, context, cause === undefined ? undefined : { cause });
  }
}

function lastArc(oid: string): number {
  return Number(oid.slice(oid.lastIndexOf('.') + 1));
}

pduDriverRegistry.register({
  name: APC_SNMP_DRIVER,
  description: 'APC PowerNet-MIB outlet control over SNMP v1/v2c (sPDUOutletCtl, rPDU, rPDU2)',
  defaultPort: DEFAULT_SNMP_PORT,
  keys: APC_SNMP_KEYS,
  create: (config, path, deps) => new ApcSnmpPdu(parseApcSnmpOptions(config, path) as ApcSnmpPduOptions, deps),
});
