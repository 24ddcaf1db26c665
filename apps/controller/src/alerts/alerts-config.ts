import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ALERT_RULES, ALERT_SEVERITIES, type AlertRuleName, type AlertSeverity } from './alert-types';

export type ChannelType = 'generic' | 'slack' | 'telegram';

export interface RateLimit {
  readonly burst: number;
  readonly perMinute: number;
}

export interface AlertChannel {
  readonly name: string;
  readonly type: ChannelType;
  /** Where to POST. Slack webhook URLs and Telegram's /bot<token>/ path are secrets: never logged. */
  readonly url: string;
  /** Telegram only. */
  readonly chatId?: string;
  readonly minSeverity: AlertSeverity;
  /** Only these rules; all when absent. */
  readonly rules?: readonly AlertRuleName[];
  readonly rateLimit: RateLimit;
  /** Strings that must never appear in logs (URLs, tokens). */
  readonly secrets: readonly string[];
}

export interface AlertsConfig {
  readonly enabled: Readonly<Record<AlertRuleName, boolean>>;
  readonly offlineAfterMs: number;
  /** alerts.rules.pool-dead.afterS: a pool not in use that the miner reports Dead this long fires (default 60 s). */
  readonly poolDeadAfterMs: number;
  readonly renotifyMs: number;
  readonly checkIntervalMs: number;
  readonly rateLimit: RateLimit;
  readonly delivery: { readonly timeoutMs: number; readonly retries: number; readonly backoffMs: number; readonly maxQueue: number };
  readonly channels: readonly AlertChannel[];
}

export class AlertsConfigError extends Error {
  override readonly name = 'AlertsConfigError';
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

const ALL_ON = Object.fromEntries(ALERT_RULES.map((r) => [r, true])) as Record<AlertRuleName, boolean>;

/** Rules on, no channels: alerts are listed (dashboard, metrics) but sent nowhere. */
export const DEFAULT_ALERTS_CONFIG: AlertsConfig = {
  enabled: ALL_ON,
  offlineAfterMs: 120_000,
  poolDeadAfterMs: 60_000,
  renotifyMs: 4 * 3600_000,
  checkIntervalMs: 5_000,
  rateLimit: { burst: 30, perMinute: 30 },
  delivery: { timeoutMs: 5_000, retries: 3, backoffMs: 1_000, maxQueue: 1_000 },
  channels: [],
};

type Obj = Record<string, unknown>;

/** Reads `--alerts <file>`: YAML with an `alerts:` section. Errors name the file and the key path, never a secret. */
export function loadAlertsConfig(file: string, env: NodeJS.ProcessEnv): AlertsConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AlertsConfigError(`${path}: cannot read the alerts file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, '(file)');
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new AlertsConfigError(`${path}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, '(file)');
  return parseAlertsConfig(doc.toJS(), path, env);
}

export function parseAlertsConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv): AlertsConfig {
  const fail = (at: string, message: string): never => {
    throw new AlertsConfigError(`${source}: ${at}: ${message}`, at);
  };
  const obj = (value: unknown, at: string): Obj => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Obj : fail(at, 'must be a mapping'));
  const keys = (o: Obj, at: string, allowed: string[]): void => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(at ? `${at}.${k}` : k, `unknown key; allowed: ${allowed.join(', ')}`);
  };
  const num = (o: Obj, key: string, at: string, fallback: number, min: number, max: number): number => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(`${at}.${key}`, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const str = (o: Obj, key: string, at: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') fail(`${at}.${key}`, 'must be a string');
    return String(v);
  };
  const rate = (v: unknown, at: string, fallback: RateLimit): RateLimit => {
    if (v === undefined) return fallback;
    const o = obj(v, at);
    keys(o, at, ['burst', 'perMinute']);
    return { burst: num(o, 'burst', at, fallback.burst, 1, 10_000), perMinute: num(o, 'perMinute', at, fallback.perMinute, 0.001, 100_000) };
  };

  const root = obj(raw ?? {}, '(top level)');
  keys(root, '', ['alerts']);
  const a = obj(root['alerts'] ?? {}, 'alerts');
  keys(a, 'alerts', ['renotifyAfterS', 'checkIntervalS', 'rateLimit', 'delivery', 'rules', 'channels']);
  const d = DEFAULT_ALERTS_CONFIG;

  const enabled: Record<AlertRuleName, boolean> = { ...ALL_ON };
  let offlineAfterMs = d.offlineAfterMs;
  let poolDeadAfterMs = d.poolDeadAfterMs;
  const rules = obj(a['rules'] ?? {}, 'alerts.rules');
  keys(rules, 'alerts.rules', [...ALERT_RULES]);
  for (const rule of ALERT_RULES) {
    const at = `alerts.rules.${rule}`;
    const r = obj(rules[rule] ?? {}, at);
    keys(r, at, rule === 'rig-offline' || rule === 'pool-dead' ? ['enabled', 'afterS'] : ['enabled']);
    if (r['enabled'] !== undefined && typeof r['enabled'] !== 'boolean') fail(`${at}.enabled`, 'must be true or false');
    enabled[rule] = r['enabled'] !== false;
    if (rule === 'rig-offline') offlineAfterMs = num(r, 'afterS', at, d.offlineAfterMs / 1000, 1, 86_400 * 7) * 1000;
    if (rule === 'pool-dead') poolDeadAfterMs = num(r, 'afterS', at, d.poolDeadAfterMs / 1000, 0, 86_400 * 7) * 1000;
  }

  const delivery = obj(a['delivery'] ?? {}, 'alerts.delivery');
  keys(delivery, 'alerts.delivery', ['timeoutMs', 'retries', 'backoffMs', 'maxQueue']);

  const channelsRaw = a['channels'] ?? [];
  if (!Array.isArray(channelsRaw)) fail('alerts.channels', 'must be a list of channels');
  const names = new Set<string>();
  const channels = (channelsRaw as unknown[]).map((c, i): AlertChannel => {
    const at = `alerts.channels[${i}]`;
    const o = obj(c, at);
    keys(o, at, ['name', 'type', 'url', 'urlEnv', 'botTokenEnv', 'chatId', 'apiUrl', 'minSeverity', 'rules', 'rateLimit']);
    const name = str(o, 'name', at);
    if (!name || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) fail(`${at}.name`, 'is required: letters, digits, _ . - (it names the channel in logs and metrics)');
    if (names.has(name!)) fail(`${at}.name`, `"${name}" is used by another channel`);
    names.add(name!);
    const type = o['type'];
    if (type !== 'generic' && type !== 'slack' && type !== 'telegram') fail(`${at}.type`, `must be generic, slack or telegram, got ${JSON.stringify(type)}`);
    const fromEnv = (key: string): string | undefined => {
      const variable = str(o, key, at);
      if (variable === undefined) return undefined;
      const value = env[variable];
      if (!value) fail(`${at}.${key}`, `environment variable ${variable} is not set`);
      return value;
    };
    const minSeverity = (str(o, 'minSeverity', at) ?? 'info') as AlertSeverity;
    if (!ALERT_SEVERITIES.includes(minSeverity)) fail(`${at}.minSeverity`, `must be one of ${ALERT_SEVERITIES.join(', ')}`);
    let channelRules: AlertRuleName[] | undefined;
    if (o['rules'] !== undefined) {
      if (!Array.isArray(o['rules'])) fail(`${at}.rules`, `must be a list of rule ids (${ALERT_RULES.join(', ')})`);
      channelRules = (o['rules'] as unknown[]).map((r, j) => (ALERT_RULES as readonly unknown[]).includes(r) ? r as AlertRuleName : fail(`${at}.rules[${j}]`, `unknown rule ${JSON.stringify(r)}; known: ${ALERT_RULES.join(', ')}`));
    }
    const base = { name: name!, type: type as ChannelType, minSeverity, rules: channelRules, rateLimit: rate(o['rateLimit'], `${at}.rateLimit`, { burst: 10, perMinute: 10 }) };
    if (type === 'telegram') {
      if (o['url'] !== undefined || o['urlEnv'] !== undefined) fail(`${at}.url`, 'not used by telegram: set botTokenEnv and chatId (apiUrl to use another Bot API server)');
      if (o['botTokenEnv'] === undefined) fail(`${at}.botTokenEnv`, 'is required for telegram: the environment variable that holds the bot token');
      const token = fromEnv('botTokenEnv')!;
      if (!/^[A-Za-z0-9:_-]+$/.test(token)) fail(`${at}.botTokenEnv`, `the token in ${String(o['botTokenEnv'])} has characters a Telegram bot token cannot have`);
      const chatId = str(o, 'chatId', at);
      if (!chatId) fail(`${at}.chatId`, 'is required for telegram (a chat id such as -1001234567890, or @channelname)');
      const apiUrl = httpUrl(str(o, 'apiUrl', at) ?? 'https://api.telegram.org', `${at}.apiUrl`, fail).replace(/\/+$/, '');
      const url = `${apiUrl}/bot${token}/sendMessage`;
      return { ...base, url, chatId, secrets: [token, url] };
    }
    for (const k of ['botTokenEnv', 'chatId', 'apiUrl']) if (o[k] !== undefined) fail(`${at}.${k}`, `only used by telegram channels`);
    if ((o['url'] === undefined) === (o['urlEnv'] === undefined)) fail(`${at}.url`, 'set exactly one of url and urlEnv (urlEnv names an environment variable; use it for secret webhook URLs)');
    const url = httpUrl(o['url'] !== undefined ? str(o, 'url', at)! : fromEnv('urlEnv')!, `${at}.${o['url'] !== undefined ? 'url' : 'urlEnv'}`, fail);
    const parsed = new URL(url);
    return { ...base, url, secrets: [url, parsed.pathname + parsed.search, ...(parsed.password ? [parsed.password] : [])].filter((s) => s.length > 1) };
  });

  return {
    enabled,
    offlineAfterMs,
    poolDeadAfterMs,
    renotifyMs: num(a, 'renotifyAfterS', 'alerts', d.renotifyMs / 1000, 1, 86_400 * 30) * 1000,
    checkIntervalMs: num(a, 'checkIntervalS', 'alerts', d.checkIntervalMs / 1000, 0.05, 3600) * 1000,
    rateLimit: rate(a['rateLimit'], 'alerts.rateLimit', d.rateLimit),
    delivery: {
      timeoutMs: num(delivery, 'timeoutMs', 'alerts.delivery', d.delivery.timeoutMs, 10, 120_000),
      retries: num(delivery, 'retries', 'alerts.delivery', d.delivery.retries, 0, 10),
      backoffMs: num(delivery, 'backoffMs', 'alerts.delivery', d.delivery.backoffMs, 0, 600_000),
      maxQueue: num(delivery, 'maxQueue', 'alerts.delivery', d.delivery.maxQueue, 1, 100_000),
    },
    channels,
  };
}

/** A URL must be http(s); the error never repeats it (it may hold a token). */
function httpUrl(value: string, at: string, fail: (at: string, message: string) => never): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(at, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(at, `must be an http:// or https:// URL, got a ${url.protocol} URL`);
  return value;
}
