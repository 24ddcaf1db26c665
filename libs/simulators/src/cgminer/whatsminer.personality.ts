import type { CgminerSimState } from '../cgminer-simulator';
import { poolsBody } from './generic.personality';
import { reply, type CgminerPersonality, type SimContext, type SimReply } from './personality';
import { WhatsminerWriteApi } from './whatsminer-write-api';

/**
 * Whatsminer btminer: summary with power, fans and chip temperatures, edevs,
 * devdetails, pools numbered from 1, "Firmware Version" in single quotes. Plain
 * cgminer writes are refused (Code 45); writes go through API v2: get_token, then
 * {"enc":1,"data":...} with update_pools / restart_btminer.
 */
export function createWhatsminerPersonality(password: () => string, writeEnabled: () => boolean): CgminerPersonality {
  const api = new WhatsminerWriteApi(password);
  const statusTop = (ctx: SimContext, letter: string, code: number, msg: unknown): Record<string, unknown> =>
    ({ STATUS: letter, When: ctx.nowS(), Code: code, Msg: msg, Description: '' });

  const personality: CgminerPersonality = {
    dialect: 'whatsminer',
    description: () => 'btminer',
    joinable: new Set(['summary', 'pools', 'edevs', 'devs', 'devdetails', 'version']),
    read(ctx: SimContext, command: string): SimReply | undefined {
      const s = ctx.state;
      const mhs = ctx.totalHashrateHs() / 1e6;
      switch (command) {
        case 'version':
          return reply({ STATUS: [ctx.status('S', 22, 'CGMiner versions')], VERSION: [{ CGMiner: '4.9.2', API: '3.7' }], id: 1 });
        case 'summary': {
          const body = {
            STATUS: [ctx.status('S', 11, 'Summary')],
            SUMMARY: [{
              Elapsed: ctx.nowS() - s.startedAtS, 'MHS av': mhs, 'MHS 5s': mhs, 'MHS 1m': mhs, Accepted: s.accepted, Rejected: s.rejected,
              'Hardware Errors': s.boards.reduce((a, b) => a + b.hwErrors, 0), Stale: s.stale, 'Best Share': 1320888597,
              Temperature: Math.max(...s.boards.map((b) => b.tempC)), 'Fan Speed In': s.fans[0] ?? 0, 'Fan Speed Out': s.fans[1] ?? 0,
              Power: s.powerW ?? 3360, 'Power Mode': s.workMode === 2 ? 'High' : s.workMode === 0 ? 'Low' : 'Normal',
              'Factory GHS': Math.round(mhs / 1000), 'Firmware Version': "'20201202.22.REL'",
              'Chip Temp Max': Math.max(...s.boards.map((b) => b.chipTempC ?? b.tempC)),
            }],
            id: 1,
          };
          // M20S firmware 20200917 escapes its quotes as \' (not a JSON escape); later firmware does not.
          const raw = /m20s/i.test(s.model) ? JSON.stringify(body).replace(`"'20201202.22.REL'"`, `"\\'20200917.22.REL\\'"`) : undefined;
          return raw ? { body, raw } : reply(body);
        }
        case 'edevs':
        case 'devs':
          return reply({
            STATUS: [ctx.status('S', 9, `${s.boards.length} ASC(s)`)],
            DEVS: s.boards.filter((b) => command === 'devs' || b.alive).map((b) => {
              const i = s.boards.indexOf(b);
              return {
                ASC: i, Name: 'SM', ID: i, Slot: i, Enabled: 'Y', Status: b.alive ? 'Alive' : 'Dead', Temperature: b.tempC,
                'Chip Frequency': b.frequencyMhz ?? 686, 'MHS av': b.alive ? b.hashrateHs / 1e6 : 0, 'MHS 5s': b.alive ? b.hashrateHs / 1e6 : 0,
                'Hardware Errors': b.hwErrors, 'Effective Chips': b.chips ?? 105, 'Chip Temp Max': b.chipTempC ?? b.tempC,
              };
            }),
            id: 1,
          });
        case 'devdetails':
          return reply({
            STATUS: [ctx.status('S', 69, 'Device Details')],
            DEVDETAILS: s.boards.map((_, i) => ({ DEVDETAILS: i, Name: 'SM', ID: i, Driver: 'bitmicro', Kernel: '', Model: s.model.replace(/^Whatsminer\s+/i, '') })),
            id: 1,
          });
        case 'pools':
          return reply(poolsBody(ctx, 1));
        default:
          return undefined;
      }
    },
    privileged(ctx: SimContext, command: string): SimReply {
      return reply({ STATUS: [ctx.status('E', 45, `Access denied to '${command}' command`)], id: 1 });
    },
    rawRequest(ctx: SimContext, request: string): string | undefined {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(request.trim()) as Record<string, unknown>;
      } catch {
        return undefined;
      }
      if (parsed['cmd'] === 'get_token') {
        if (!writeEnabled()) return JSON.stringify(statusTop(ctx, 'E', 45, 'Permission denied'));
        return JSON.stringify(statusTop(ctx, 'S', 134, api.issueToken(ctx.nowS())));
      }
      if (parsed['enc'] !== undefined) {
        if (!writeEnabled()) return JSON.stringify(statusTop(ctx, 'E', 45, 'Permission denied'));
        const inner = typeof parsed['data'] === 'string' ? api.decrypt(parsed['data']) : undefined;
        if (!inner) return JSON.stringify(statusTop(ctx, 'E', 137, 'base64 decode error'));
        if (!api.checkSign(inner['token'], ctx.nowS())) return JSON.stringify(statusTop(ctx, 'E', 135, 'check token err'));
        return api.encrypt(runWrite(ctx, inner));
      }
      if (typeof parsed['cmd'] === 'string' && personality.joinable.has(parsed['cmd'])) {
        const r = personality.read(ctx, parsed['cmd'], undefined);
        return r ? JSON.stringify(r.body) : undefined;
      }
      return undefined;
    },
  };

  function runWrite(ctx: SimContext, cmd: Record<string, unknown>): Record<string, unknown> {
    const s: CgminerSimState = ctx.state;
    switch (cmd['cmd']) {
      case 'update_pools': {
        const pools = [1, 2, 3].map((n) => ({ url: String(cmd[`pool${n}`] ?? ''), user: String(cmd[`worker${n}`] ?? ''), password: String(cmd[`passwd${n}`] ?? '') }))
          .filter((p) => p.url !== '');
        if (pools.length === 0) return statusTop(ctx, 'E', 132, 'no pool given');
        s.pools = pools.map((p, i) => ({ ...p, status: 'Alive' as const, priority: i, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 }));
        s.activePool = 0;
        return statusTop(ctx, 'S', 131, 'Ok');
      }
      case 'set_low_power':
      case 'set_normal_power':
      case 'set_high_power':
        s.workMode = ['set_low_power', 'set_normal_power', 'set_high_power'].indexOf(String(cmd['cmd']));
        return statusTop(ctx, 'S', 131, 'Ok');
      case 'restart_btminer':
        // btminer restarts as cgminer's restart does (counted, mining down for the restart time), answering in its own words.
        ctx.control('restart', undefined);
        return statusTop(ctx, 'S', 131, 'Ok');
      default:
        return statusTop(ctx, 'E', 14, 'invalid cmd');
    }
  }

  return personality;
}
