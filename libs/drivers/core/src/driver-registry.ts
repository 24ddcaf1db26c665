import type { CollectContext, MinerDriver, MinerEndpoint } from './driver';

export type DriverFactory = (endpoint: MinerEndpoint) => MinerDriver;

/** What a miner's own API says it is, asked by a scan before any driver is chosen. */
export interface ApiIdentity {
  vendor: string;
  /** '' when the API names no model without a login the scan was not given. */
  model: string;
  firmware: string;
  /** control: this driver can write to the miner with what the scan was given; read: it can only read it. */
  access: 'control' | 'read';
  /** Why, in words (the API version, a refused login, a missing password). */
  note: string;
}

/**
 * Tells whether `endpoint` answers this driver's protocol, within ctx's deadline, and names the miner. It sends
 * credentials only when endpoint.options holds them (a scan sends none it was not given). Rejects when the port
 * does not speak the protocol.
 */
export type ApiIdentifier = (endpoint: MinerEndpoint, ctx: CollectContext) => Promise<ApiIdentity>;

export interface DriverRegistration {
  name: string;
  description: string;
  /** Default API port, e.g. 4028 for the cgminer API. */
  defaultPort: number;
  create: DriverFactory;
  /** For scans: identifies a miner through this driver's protocol without reading it (drivers of their own API). */
  identify?: ApiIdentifier;
}

/**
 * Drivers register themselves here when their module is loaded; the agent looks
 * them up by the name in its config. One registration list, in one place.
 */
export class DriverRegistry {
  private readonly drivers = new Map<string, DriverRegistration>();

  register(registration: DriverRegistration): void {
    if (this.drivers.has(registration.name)) {
      throw new Error(`driver "${registration.name}" is registered twice`);
    }
    this.drivers.set(registration.name, registration);
  }

  get(name: string): DriverRegistration | undefined {
    return this.drivers.get(name);
  }

  names(): string[] {
    return [...this.drivers.keys()].sort();
  }

  create(name: string, endpoint: MinerEndpoint): MinerDriver {
    const registration = this.drivers.get(name);
    if (!registration) {
      throw new Error(`unknown driver "${name}"; known drivers: ${this.names().join(', ') || '(none)'}`);
    }
    return registration.create(endpoint);
  }
}

/** The process-wide registry that driver modules add themselves to. */
export const driverRegistry = new DriverRegistry();
