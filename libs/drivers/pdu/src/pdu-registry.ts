import { asRecord, configError, optionalInteger, type ConfigRecord } from './pdu-config';
import { PduError } from './pdu-error';
import type { OutletState, PduCallOptions, PduRuntime, PowerCycleResult, PowerDistributionUnit } from './power-distribution-unit';
import type { SnmpClient } from './snmp.client';

/** Keys every PDU outlet config has, whatever the driver. */
export const COMMON_PDU_KEYS = ['driver', 'outlet', 'offMs'] as const;

export const DEFAULT_OFF_MS = 10_000;
export const MIN_OFF_MS = 1_000;
export const MAX_OFF_MS = 600_000;

/** What a driver factory may be given besides the config; tests inject a clock and a client. */
export interface PduDependencies {
  runtime?: PduRuntime;
  snmpClient?: SnmpClient;
}

export interface PduDriverRegistration {
  name: string;
  description: string;
  defaultPort: number;
  /** The driver's own keys, for the "unknown key" message. */
  keys: readonly string[];
  /**
   * Checks the driver's keys (everything but the common ones) and builds the PDU.
   * Throws PduError bad_config naming `${path}.${key}`. Does no I/O.
   */
  create(config: ConfigRecord, path: string, deps: PduDependencies): PowerDistributionUnit;
}

/**
 * One outlet of one PDU: what a miner's config points at. The agent's
 * power-cycle command calls `powerCycle()`; `describe()` names it in results.
 */
export class PduOutlet {
  constructor(
    readonly pdu: PowerDistributionUnit,
    readonly outlet: number,
    /** From the config's offMs; a command may ask for another. */
    readonly defaultOffMs: number = DEFAULT_OFF_MS,
  ) {
    if (!Number.isInteger(outlet) || outlet < 1 || outlet > pdu.outletCount) {
      throw new PduError('bad_input', `outlet must be an integer from 1 to ${pdu.outletCount}, got ${outlet}`, {
        host: pdu.host, port: pdu.port, operation: 'select outlet',
      });
    }
  }

  describe(): string {
    return `${this.pdu.driver} ${this.pdu.host}:${this.pdu.port} outlet ${this.outlet}`;
  }

  state(options?: PduCallOptions): Promise<OutletState> {
    return this.pdu.outletState(this.outlet, options);
  }

  set(state: OutletState, options?: PduCallOptions): Promise<void> {
    return this.pdu.setOutlet(this.outlet, state, options);
  }

  powerCycle(options: PduCallOptions & { offMs?: number } = {}): Promise<PowerCycleResult> {
    return this.pdu.powerCycle(this.outlet, { ...options, offMs: options.offMs ?? this.defaultOffMs });
  }

  /** The longest powerCycle() can take, for the command's deadline. */
  maxPowerCycleMs(offMs: number = this.defaultOffMs): number {
    return this.pdu.maxPowerCycleMs(offMs);
  }
}

/**
 * PDU drivers register here when their module loads (apc-snmp.pdu.ts does); the
 * agent builds an outlet from a miner's `pdu:` config with `createOutlet`.
 */
export class PduDriverRegistry {
  private readonly drivers = new Map<string, PduDriverRegistration>();

  register(registration: PduDriverRegistration): void {
    if (this.drivers.has(registration.name)) throw new Error(`PDU driver "${registration.name}" is registered twice`);
    this.drivers.set(registration.name, registration);
  }

  get(name: string): PduDriverRegistration | undefined {
    return this.drivers.get(name);
  }

  names(): string[] {
    return [...this.drivers.keys()].sort();
  }

  /**
   * Validates `{ driver, outlet, offMs?, ...driver keys }` and returns the outlet.
   * Every refusal is a PduError bad_config naming the key under `path`.
   */
  createOutlet(config: unknown, path = 'pdu', deps: PduDependencies = {}): PduOutlet {
    const record = asRecord(config, path);
    const driverName = record.driver;
    if (typeof driverName !== 'string' || driverName.length === 0) {
      throw configError(`${path}.driver`, `is required: one of ${this.names().map((n) => `"${n}"`).join(', ') || '(none registered)'}`);
    }
    const registration = this.drivers.get(driverName);
    if (!registration) {
      throw configError(`${path}.driver`, `unknown PDU driver "${driverName}"; known: ${this.names().join(', ') || '(none registered)'}`);
    }
    const allowed = [...COMMON_PDU_KEYS, ...registration.keys];
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) throw configError(`${path}.${key}`, `unknown key for driver "${driverName}"; allowed: ${allowed.join(', ')}`);
    }
    if (record.outlet === undefined) throw configError(`${path}.outlet`, 'is required: the outlet number, from 1');
    const offMs = optionalInteger(record, 'offMs', path, MIN_OFF_MS, MAX_OFF_MS) ?? DEFAULT_OFF_MS;
    const driverConfig: Record<string, unknown> = { ...record };
    for (const key of COMMON_PDU_KEYS) delete driverConfig[key];
    const pdu = registration.create(driverConfig, path, deps);
    const outlet = optionalInteger(record, 'outlet', path, 1, pdu.outletCount) as number;
    return new PduOutlet(pdu, outlet, offMs);
  }
}

/** The process-wide registry PDU drivers add themselves to. */
export const pduDriverRegistry = new PduDriverRegistry();

/** Builds the outlet a miner's `pdu:` config names, from the process-wide registry. */
export function createPduOutlet(config: unknown, path = 'pdu', deps: PduDependencies = {}): PduOutlet {
  return pduDriverRegistry.createOutlet(config, path, deps);
}
