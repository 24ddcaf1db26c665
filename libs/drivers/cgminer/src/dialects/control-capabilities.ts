import { NO_CONTROL, type ControlCapabilities } from '@rigwarden/drivers-core';

/** cgminer 4.x with write access (--api-allow W:...): every pool command, restart, quit. */
export const CGMINER_CONTROL: ControlCapabilities = Object.freeze({
  ...NO_CONTROL,
  switchPool: true, addPool: true, enablePool: true, disablePool: true, removePool: true, poolPriority: true,
  setPools: true, restart: true, quit: true,
});

export { NO_CONTROL };
