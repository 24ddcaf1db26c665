import { DriverError } from '@rigwarden/drivers-core';

/** The driver's options in the agent config (miners[].options), checked once when the driver is made. */
export interface BraiinsOptions {
  /** The gRPC user; Braiins OS+ ships with root. */
  user: string;
  /** The user's password; Braiins OS+ ships with an empty one. */
  password: string;
  /** How long a restart waits for bosminer to hash again before it says so (ms). */
  restartWaitMs: number;
  /** How long a write waits for the miner to show it on reading back (ms). */
  verifyWaitMs: number;
}

export const BRAIINS_OPTION_KEYS = ['user', 'username', 'password', 'restartWaitMs', 'verifyWaitMs'] as const;

export const BRAIINS_DEFAULT_OPTIONS: BraiinsOptions = Object.freeze({ user: 'root', password: '', restartWaitMs: 60_000, verifyWaitMs: 10_000 });

/**
 * Thrown for an option the driver cannot use; the message names the field. A DriverError (bad_request), so the
 * agent reports it as a config error on miners[i].options.
 */
export class BraiinsOptionsError extends DriverError {
  constructor(message: string, where: { host: string; port: number }) {
    super('bad_request', message, { ...where, command: 'options' });
  }
}

export function parseBraiinsOptions(raw: Readonly<Record<string, unknown>> | undefined, where: { host: string; port: number } = { host: '', port: 0 }): BraiinsOptions {
  const options = raw ?? {};
  for (const key of Object.keys(options)) {
    if (!(BRAIINS_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new BraiinsOptionsError(`braiins-grpc: unknown option "${key}" (known: ${BRAIINS_OPTION_KEYS.join(', ')})`, where);
    }
  }
  const text = (key: string, fallback: string): string => {
    const v = options[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string') throw new BraiinsOptionsError(`braiins-grpc: option "${key}" must be a string`, where);
    return v;
  };
  const ms = (key: string, fallback: number): number => {
    const v = options[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 600_000) {
      throw new BraiinsOptionsError(`braiins-grpc: option "${key}" must be a whole number of milliseconds from 0 to 600000`, where);
    }
    return v;
  };
  if (options['user'] !== undefined && options['username'] !== undefined) {
    throw new BraiinsOptionsError('braiins-grpc: give "user" or "username", not both', where);
  }
  return {
    user: text('user', text('username', BRAIINS_DEFAULT_OPTIONS.user)),
    password: text('password', BRAIINS_DEFAULT_OPTIONS.password),
    restartWaitMs: ms('restartWaitMs', BRAIINS_DEFAULT_OPTIONS.restartWaitMs),
    verifyWaitMs: ms('verifyWaitMs', BRAIINS_DEFAULT_OPTIONS.verifyWaitMs),
  };
}
