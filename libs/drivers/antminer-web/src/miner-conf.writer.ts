import type { PowerMode } from '@rigwarden/drivers-core';
import { POOL_SLOTS, type ConfGeneration, type ConfPool, type MinerConf } from './antminer-web.decoder';

/**
 * Builds set_miner_conf.cgi bodies from the config just read. The CGI replaces the whole config, so every writable
 * setting is sent with its current value and only the change differs: a body that left a key out would reset it
 * (a pool change that forgot miner-mode would wake a sleeping miner).
 */
export interface ConfChange {
  /** Up to three pools, in priority order; the slots after them are emptied. */
  pools?: ConfPool[];
  mode?: PowerMode;
}

/** Keys each generation's config is known to have; a config with others (aftermarket firmware) is not written. */
const COMMON_KEYS = ['pools', 'api-listen', 'api-network', 'api-groups', 'api-allow', 'bitmain-use-vil', 'bitmain-freq', 'bitmain-voltage',
  'bitmain-work-mode', 'bitmain-fan-ctrl', 'bitmain-fan-pwm'];
export const KNOWN_CONF_KEYS: Record<ConfGeneration, ReadonlySet<string>> = {
  json: new Set([...COMMON_KEYS, 'bitmain-ccdelay', 'bitmain-pwth', 'bitmain-freq-level', 'bitmain-hashrate-percent']),
  form: new Set([...COMMON_KEYS, 'multi-version', 'bitmain-nobeeper', 'bitmain-notempoverctrl']),
};

/** Mode values written: miner-mode (an integer) on JSON firmware, _ant_work_mode on the form generation. */
export const WRITE_MODES: Record<ConfGeneration, Partial<Record<PowerMode, number>>> = {
  json: { normal: 0, sleep: 1, low: 3 },
  form: { normal: 0, sleep: 254 },
};

/** The power modes this config can be put in: none where the firmware has no bitmain-work-mode at all (L3+, S9). */
export function powerModesOf(conf: MinerConf): PowerMode[] {
  if (conf.workModeRaw === undefined) return [];
  return (Object.keys(WRITE_MODES[conf.generation]) as PowerMode[]);
}

export function unknownConfKeys(conf: MinerConf): string[] {
  return Object.keys(conf.raw).filter((k) => !KNOWN_CONF_KEYS[conf.generation].has(k));
}

/** Why this config must not be written back with this change, or undefined when it may. */
export function writeRefusal(conf: MinerConf, change: ConfChange): string | undefined {
  const unknown = unknownConfKeys(conf);
  if (unknown.length) {
    return `the config has settings the stock ${conf.generation === 'json' ? 'JSON' : 'form'} write does not carry and would lose (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}): aftermarket firmware?`;
  }
  if (conf.uninitialised && !change.pools) {
    return 'the config reads back uninitialised (every pool and setting empty): writing it back would store that; set the pools first';
  }
  if (change.mode !== undefined && WRITE_MODES[conf.generation][change.mode] === undefined) {
    return `this firmware has no ${change.mode} mode (it offers ${powerModesOf(conf).join(', ') || 'no power modes'})`;
  }
  if (change.mode !== undefined && conf.workModeRaw === undefined) return 'this firmware has no work mode setting (bitmain-work-mode)';
  if (change.pools) {
    if (change.pools.length === 0 || change.pools.length > POOL_SLOTS) return `the firmware takes 1 to ${POOL_SLOTS} pools, got ${change.pools.length}`;
    const bad = change.pools.find((p) => p.url.trim() === '' || /[\u0000-\u001f]/.test(`${p.url}${p.user}${p.pass}`));
    if (bad) return `pool ${JSON.stringify(bad.url)} has an empty URL or a control character`;
  }
  return undefined;
}

function poolSlots(conf: MinerConf, change: ConfChange): ConfPool[] {
  if (!change.pools) return conf.pools.map((p) => ({ ...p }));
  return Array.from({ length: POOL_SLOTS }, (_, i) => change.pools![i] ?? { url: '', user: '', pass: '' });
}

/** The mode value to send: the change, else the current mode as read (kept as its number), else none. */
function modeValue(conf: MinerConf, change: ConfChange): number | undefined {
  if (change.mode !== undefined) return WRITE_MODES[conf.generation][change.mode];
  const raw = conf.workModeRaw?.trim();
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * The JSON body, with the stock web UI's keys in its order (recorded from an S19j Pro's browser): bitmain-fan-ctrl,
 * bitmain-fan-pwm, miner-mode (integer), freq-level (string as read), pools. An empty bitmain-fan-ctrl is sent as
 * false (automatic fans), as the foreman client does.
 */
export function buildJsonWrite(conf: MinerConf, change: ConfChange): string {
  const body: Record<string, unknown> = {};
  const raw = conf.raw;
  body['bitmain-fan-ctrl'] = raw['bitmain-fan-ctrl'] === true;
  if ('bitmain-fan-pwm' in raw) body['bitmain-fan-pwm'] = String(raw['bitmain-fan-pwm'] ?? '');
  const mode = modeValue(conf, change);
  if (mode !== undefined) body['miner-mode'] = mode;
  if ('bitmain-freq-level' in raw) body['freq-level'] = String(raw['bitmain-freq-level'] ?? '');
  body['pools'] = poolSlots(conf, change);
  return JSON.stringify(body);
}

/**
 * The form body of the 2017-2020 generation, fields in the stock UI's order: three pools, beeper and temperature
 * control, fan override, then _ant_freq (echoed verbatim, "O" included: leaving it out changes the frequency),
 * _ant_voltage and _ant_work_mode where the config has them.
 */
export function buildFormWrite(conf: MinerConf, change: ConfChange): string {
  const raw = conf.raw;
  const fields: [string, string][] = [];
  poolSlots(conf, change).forEach((p, i) => {
    fields.push([`_ant_pool${i + 1}url`, p.url], [`_ant_pool${i + 1}user`, p.user], [`_ant_pool${i + 1}pw`, p.pass]);
  });
  fields.push(['_ant_nobeeper', String(raw['bitmain-nobeeper'] === true)]);
  fields.push(['_ant_notempoverctrl', String(raw['bitmain-notempoverctrl'] === true)]);
  const customFan = raw['bitmain-fan-ctrl'] === true;
  fields.push(['_ant_fan_customize_switch', String(customFan)]);
  fields.push(['_ant_fan_customize_value', String(raw['bitmain-fan-pwm'] ?? '')]);
  fields.push(['_ant_freq', String(raw['bitmain-freq'] ?? '')]);
  if ('bitmain-voltage' in raw) fields.push(['_ant_voltage', String(raw['bitmain-voltage'] ?? '')]);
  const mode = modeValue(conf, change);
  if ('bitmain-work-mode' in raw && mode !== undefined) fields.push(['_ant_work_mode', String(mode)]);
  return fields.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

/** What set_miner_conf.cgi answered: M000 (JSON firmware), "ok" (form firmware; Hiveon says it twice), or a refusal. */
export type WriteReply = { ok: true; code: string } | { ok: false; code: string; msg: string };

export function decodeWriteReply(text: string, generation: ConfGeneration): WriteReply {
  const trimmed = text.trim();
  if (/^ok\b/i.test(trimmed)) return { ok: true, code: 'ok' };
  if (trimmed === '' && generation === 'form') return { ok: true, code: 'empty reply' };
  let reply: unknown;
  try {
    reply = JSON.parse(trimmed);
  } catch {
    return { ok: false, code: '', msg: `neither M000 nor ok: ${JSON.stringify(trimmed.slice(0, 80))}` };
  }
  const r = (typeof reply === 'object' && reply !== null ? reply : {}) as Record<string, unknown>;
  const code = typeof r['code'] === 'string' ? r['code'] : '';
  if (code === 'M000' || (code === '' && r['stats'] === 'success')) return { ok: true, code: code || 'success' };
  return { ok: false, code, msg: typeof r['msg'] === 'string' ? r['msg'] : JSON.stringify(reply) };
}

/** blink.cgi's request: JSON {"blink":true} on 2019+ firmware; the older web UI's form action. */
export function buildBlinkRequest(generation: ConfGeneration, on: boolean): { body: string; contentType: string } {
  return generation === 'json'
    ? { body: JSON.stringify({ blink: on }), contentType: 'text/plain;charset=UTF-8' }
    : { body: `action=${on ? 'startBlink' : 'stopBlink'}`, contentType: 'application/x-www-form-urlencoded; charset=UTF-8' };
}
