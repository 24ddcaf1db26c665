import type { SettlingCommand } from '@rigwarden/drivers-core';

/** A miner's `options` for the antminer-web driver (agent config `miners[].options`; probe `--user/--password/--api-port`). */
export interface AntminerWebOptions {
  /** Web UI user and password (digest auth); the firmware's default is root / root. */
  user: string;
  password: string;
  /** When set, the cgminer API on this port is read too and merged, each value from the better source. */
  apiPort?: number;
  /** Deadline of one read request (also bounded by the collect's own deadline). */
  timeoutMs: number;
  /** Deadline of set_miner_conf.cgi: an S19j Pro (Dec 2022) takes about 21 s to answer it. */
  writeTimeoutMs: number;
  /** How long a write may take to show in get_miner_conf.cgi before it is reported as not applied. */
  verifyWithinMs: number;
  /** Pause between read-backs while verifying. */
  verifyEveryMs: number;
  /** After-effects per command, for the policies (CommandSettleTimes). */
  settleMs: Record<SettlingCommand, number>;
}

/**
 * After-effects, from the recorded behaviour: a pool change restarts mining (miningos README: the device reboots,
 * 2-3 min); a power-mode change takes 10-20 s (miningos), and the write alone up to 21 s (asic-rs #245); a reboot
 * 2-3 min.
 */
export const DEFAULT_SETTLE_MS: Readonly<Record<SettlingCommand, number>> = Object.freeze({
  setpools: 180_000, switchpool: 180_000, powermode: 60_000, workmode: 60_000, restart: 0, reboot: 180_000, faultlight: 0,
});

export const ANTMINER_WEB_OPTION_KEYS = ['user', 'password', 'apiPort', 'timeoutMs', 'writeTimeoutMs', 'verifyWithinMs', 'verifyEveryMs', 'settleMs'] as const;

export class AntminerWebOptionsError extends Error {
  override readonly name = 'AntminerWebOptionsError';
}

/** Checks the options once, when the driver is created; the error names the field. */
export function parseAntminerWebOptions(raw: Readonly<Record<string, unknown>> | undefined): AntminerWebOptions {
  const options = raw ?? {};
  const fail = (key: string, what: string): never => {
    throw new AntminerWebOptionsError(`antminer-web options.${key}: ${what}`);
  };
  for (const key of Object.keys(options)) {
    if (!(ANTMINER_WEB_OPTION_KEYS as readonly string[]).includes(key)) fail(key, `unknown option; known: ${ANTMINER_WEB_OPTION_KEYS.join(', ')}`);
  }
  const string = (key: 'user' | 'password', fallback: string): string => {
    const v = options[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '' || /[\u0000-\u001f]/.test(v)) return fail(key, 'must be a non-empty string without control characters');
    return v;
  };
  const ms = (key: string, value: unknown, fallback: number, min = 0): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 600_000) {
      return fail(key, `must be a whole number of milliseconds from ${min} to 600000`);
    }
    return value;
  };
  const apiPort = options['apiPort'];
  if (apiPort !== undefined && (typeof apiPort !== 'number' || !Number.isInteger(apiPort) || apiPort < 1 || apiPort > 65_535)) {
    fail('apiPort', 'must be a TCP port from 1 to 65535');
  }
  const settleRaw = options['settleMs'];
  if (settleRaw !== undefined && (typeof settleRaw !== 'object' || settleRaw === null || Array.isArray(settleRaw))) fail('settleMs', 'must be a map of command to milliseconds');
  const settleMs = { ...DEFAULT_SETTLE_MS };
  for (const [cmd, v] of Object.entries((settleRaw ?? {}) as Record<string, unknown>)) {
    if (!(cmd in DEFAULT_SETTLE_MS)) fail(`settleMs.${cmd}`, `unknown command; known: ${Object.keys(DEFAULT_SETTLE_MS).join(', ')}`);
    settleMs[cmd as SettlingCommand] = ms(`settleMs.${cmd}`, v, 0);
  }
  return {
    user: string('user', 'root'),
    password: string('password', 'root'),
    ...(apiPort !== undefined ? { apiPort: apiPort as number } : {}),
    timeoutMs: ms('timeoutMs', options['timeoutMs'], 10_000, 1),
    writeTimeoutMs: ms('writeTimeoutMs', options['writeTimeoutMs'], 35_000, 1),
    verifyWithinMs: ms('verifyWithinMs', options['verifyWithinMs'], 30_000),
    verifyEveryMs: ms('verifyEveryMs', options['verifyEveryMs'], 2_000, 1),
    settleMs,
  };
}
