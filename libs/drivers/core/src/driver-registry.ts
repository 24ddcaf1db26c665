import type { MinerDriver, MinerEndpoint } from './driver';

export type DriverFactory = (endpoint: MinerEndpoint) => MinerDriver;

export interface DriverRegistration {
  name: string;
  description: string;
  /** Default API port, e.g. 4028 for the cgminer API. */
  defaultPort: number;
  create: DriverFactory;
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
