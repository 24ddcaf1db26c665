import type { MinerEndpoint, SettlingCommand } from '@rigwarden/drivers-core';
import { WhatsminerV3Error } from './whatsminer-v3.error';

/** A miner's `options` for the whatsminer-v3 driver (agent config `miners[].options`, probe `--password`). */
export interface WhatsminerV3Options {
  /** The write account's password; without it the driver only reads. Factory default "super". */
  password?: string;
  /** The write account; "super" (the default) is the one the firmware lets write. */
  account: string;
  /** How long set.miner.mode may go unanswered before the mode is read back (the firmware may apply it silently). */
  modeReplyTimeoutMs: number;
  /** How long a write may take to show on reading back (power limit, LED, service stop/start). */
  verifyWithinMs: number;
  /** How long the miner takes to be itself again after each command (CommandSettleTimes), overridable per command. */
  settleMs: Record<SettlingCommand, number>;
}

/**
 * ESTIMATES, not measured on a device (no recording shows the timing): btminer re-initialises its boards after a
 * restart, a reboot adds the controller's boot, a pool or mode change is applied by btminer itself. Set
 * options.settleMs from what a farm's own machines show.
 */
export const DEFAULT_SETTLE_MS: Readonly<Record<SettlingCommand, number>> = Object.freeze({
  setpools: 60_000, switchpool: 0, powermode: 60_000, workmode: 60_000, restart: 120_000, reboot: 240_000, faultlight: 0,
});

export const WHATSMINER_V3_OPTION_KEYS = ['password', 'account', 'modeReplyTimeoutMs', 'verifyWithinMs', 'settleMs'] as const;

/** Checks the options once, when the driver is created; the error (bad_request, so the agent reports a config error) names the field. */
export function parseWhatsminerV3Options(endpoint: MinerEndpoint): WhatsminerV3Options {
  const options = endpoint.options ?? {};
  const fail = (key: string, problem: string): never => {
    throw new WhatsminerV3Error('bad_request', `options.${key}: ${problem}`, { host: endpoint.host, port: endpoint.port, command: 'config' });
  };
  for (const key of Object.keys(options)) {
    if (!(WHATSMINER_V3_OPTION_KEYS as readonly string[]).includes(key)) {
      fail(key, `unknown option for the whatsminer-v3 driver; known: ${WHATSMINER_V3_OPTION_KEYS.join(', ')}`);
    }
  }
  const string = (key: 'password' | 'account'): string | undefined => {
    const v = options[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' && v !== '' ? v : fail(key, 'must be a non-empty string');
  };
  const ms = (key: 'modeReplyTimeoutMs' | 'verifyWithinMs', fallback: number): number => {
    const v = options[key];
    if (v === undefined) return fallback;
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 600_000 ? v : fail(key, 'must be a whole number of milliseconds from 0 to 600000');
  };
  const settleRaw = options['settleMs'];
  if (settleRaw !== undefined && (typeof settleRaw !== 'object' || settleRaw === null || Array.isArray(settleRaw))) fail('settleMs', 'must be a map of command to milliseconds');
  const settleMs: Record<SettlingCommand, number> = { ...DEFAULT_SETTLE_MS };
  for (const [cmd, v] of Object.entries((settleRaw ?? {}) as Record<string, unknown>)) {
    if (!(cmd in DEFAULT_SETTLE_MS)) fail(`settleMs.${cmd}`, `unknown command; known: ${Object.keys(DEFAULT_SETTLE_MS).join(', ')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 3_600_000) fail(`settleMs.${cmd}`, 'must be a whole number of milliseconds from 0 to 3600000');
    settleMs[cmd as SettlingCommand] = v as number;
  }
  const password = string('password');
  return {
    ...(password !== undefined ? { password } : {}),
    account: string('account') ?? 'super',
    modeReplyTimeoutMs: ms('modeReplyTimeoutMs', 5_000),
    verifyWithinMs: ms('verifyWithinMs', 10_000),
    settleMs,
  };
}
