import type { CollectError } from '@rigwarden/protocol';
import type { DriverError, MinerReading } from '@rigwarden/drivers-core';

/**
 * One reading from the web API's and the cgminer API's, each value from the better source:
 * - identity (vendor, model, firmware build) from the web: get_system_info names the model and the build, the
 *   cgminer API only the miner program;
 * - the miner program and its version, share counters, power, the pool in use and the pools with their per-pool
 *   statistics from the cgminer API (the web's pools.cgi has fewer fields, get_miner_conf none);
 * - hashrate, boards (serial, hottest sensor of each kind), fans and uptime from the web's stats.cgi (its rate_unit
 *   says the unit; the cgminer API's GHS labels are wrong on some models), the cgminer API's where the web has none.
 * The configured pools that the cgminer API does not list (a slot it dropped as dead) are kept from the web.
 */
export function mergeWithApi(web: MinerReading, api: MinerReading | undefined, apiError: DriverError | undefined): MinerReading {
  if (!api) {
    if (!apiError) return web;
    const err: CollectError = {
      kind: apiError.kind, message: apiError.message, statusLetter: apiError.context.statusLetter ?? '',
      statusCode: apiError.context.statusCode, command: 'cgminer-api',
    };
    return { ...web, errors: [...web.errors, err] };
  }
  const pools = api.pools.length ? [...api.pools] : web.pools;
  if (api.pools.length) {
    for (const p of web.pools) {
      if (!pools.some((q) => q.url === p.url && q.user === p.user)) pools.push({ ...p, index: Math.max(...pools.map((q) => q.index)) + 1 });
    }
  }
  const webHas = <T>(v: T | undefined, fallback: T | undefined): T | undefined => v ?? fallback;
  return {
    ...web,
    software: api.software || web.software,
    softwareVersion: api.softwareVersion || web.softwareVersion,
    model: web.model || api.model,
    firmware: web.firmware || api.firmware,
    algorithm: web.algorithm || api.algorithm,
    uptimeS: webHas(web.uptimeS, api.uptimeS),
    hashrate5sHs: webHas(web.hashrate5sHs, api.hashrate5sHs),
    hashrateAvgHs: webHas(web.hashrateAvgHs, api.hashrateAvgHs),
    hashrateWindows: web.hashrateWindows.length ? web.hashrateWindows : api.hashrateWindows,
    accepted: api.accepted ?? web.accepted,
    rejected: api.rejected ?? web.rejected,
    stale: api.stale ?? web.stale,
    hwErrors: webHas(web.hwErrors, api.hwErrors),
    powerW: api.powerW ?? web.powerW,
    boards: web.boards.length ? web.boards : api.boards,
    fans: web.fans.length ? web.fans : api.fans,
    pools,
    currentPoolUrl: api.currentPoolUrl || web.currentPoolUrl,
    errors: [...web.errors, ...api.errors.map((e) => ({ ...e, command: e.command ? `cgminer-api ${e.command}` : 'cgminer-api' }))],
    fieldWarnings: [...web.fieldWarnings, ...api.fieldWarnings],
    driver: `${web.driver}+cgminer-api`,
  };
}
