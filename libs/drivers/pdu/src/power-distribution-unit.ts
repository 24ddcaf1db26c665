/** What an outlet reads as. Anything else the PDU reports (APC's outletUnknown) is an error. */
export type OutletState = 'on' | 'off';

export interface PduCallOptions {
  /** Aborts the operation; a power-cycle aborted after "off" says so in its error. */
  signal?: AbortSignal;
}

export interface PowerCycleOptions extends PduCallOptions {
  /** How long the outlet stays off, from the read-back that showed it off to the "on" command. */
  offMs: number;
}

export interface PowerCycleStep {
  action: 'read' | 'off' | 'wait' | 'on';
  /** When the step ended, on the injected clock (ms). */
  at: number;
  /** The state read back after the step (read, off, on). */
  state?: OutletState;
}

export interface PowerCycleResult {
  outlet: number;
  /** The state before the cycle; an outlet that was off ends on too. */
  initialState: OutletState;
  offMs: number;
  /** From the first request to the read-back that showed the outlet on again. */
  durationMs: number;
  steps: PowerCycleStep[];
}

/**
 * One power distribution unit with switched outlets, numbered from 1. Every
 * method is bounded in time and throws a PduError naming the PDU, the outlet and,
 * when the PDU sent one, its error-status. State changes are verified by reading
 * the outlet back; a method resolves only once the PDU reports the wanted state.
 */
export interface PowerDistributionUnit {
  /** The registered driver name, e.g. "apc-snmp". */
  readonly driver: string;
  readonly host: string;
  readonly port: number;
  /** Outlets accepted by this driver: 1..outletCount. */
  readonly outletCount: number;
  outletState(outlet: number, options?: PduCallOptions): Promise<OutletState>;
  /** Switches the outlet and waits until it reads back in that state. */
  setOutlet(outlet: number, state: OutletState, options?: PduCallOptions): Promise<void>;
  /** Off, verified; wait offMs; on, verified. */
  powerCycle(outlet: number, options: PowerCycleOptions): Promise<PowerCycleResult>;
  /** The longest setOutlet can take (timeouts, retries and read-backs included), for the caller's deadline. */
  maxSetOutletMs(): number;
  /** The longest powerCycle can take with this off time. */
  maxPowerCycleMs(offMs: number): number;
}

/** Clock and sleep, injected so that tests of waits run in no time. */
export interface PduRuntime {
  now(): number;
  /** Resolves after ms, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemPduRuntime: PduRuntime = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
