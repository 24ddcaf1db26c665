import type { CgminerSimState } from '../cgminer-simulator';
import { CGMINER_JOINABLE, reply, type CgminerPersonality, type SimContext, type SimReply } from './personality';

/** Pools the cgminer way: numbered from `base`, "Stratum Active" on the pool in use. */
export function poolsBody(ctx: SimContext, base = 0, extra: (i: number) => Record<string, unknown> = () => ({})): Record<string, unknown> {
  const s = ctx.state;
  return {
    STATUS: [ctx.status('S', 7, `${s.pools.length} Pool(s)`)],
    POOLS: s.pools.map((p, i) => ({
      POOL: i + base, URL: p.url, User: p.user, Status: p.status, Priority: p.priority, Accepted: p.accepted,
      Rejected: p.rejected, Stale: p.stale, 'Last Share Time': p.lastShareTime, 'Stratum Active': p.stratumActive ?? (i === s.activePool && (p.status === 'Alive' || s.flagsDeadActivePool === true)),
      ...extra(i),
    })),
    id: 1,
  };
}

export function summaryBody(ctx: SimContext, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const s = ctx.state;
  const mhs = ctx.totalHashrateHs() / 1e6;
  return {
    STATUS: [ctx.status('S', 11, 'Summary')],
    SUMMARY: [{
      Elapsed: ctx.nowS() - s.startedAtS, 'MHS av': mhs, 'MHS 5s': mhs, Accepted: s.accepted, Rejected: s.rejected,
      Stale: s.stale, 'Hardware Errors': s.boards.reduce((a, b) => a + b.hwErrors, 0),
      'Best Share': 18446744073709551615, ...(s.powerW !== undefined ? { Power: s.powerW } : {}), ...fields,
    }],
    id: 1,
  };
}

/** cgminer 4.11.1 as the first simulator spoke it: devs per board, bitmain-style fan1..N in stats. */
export const genericPersonality: CgminerPersonality = {
  dialect: 'cgminer',
  description: (state: CgminerSimState) => `cgminer ${state.software}`,
  joinable: CGMINER_JOINABLE,
  read(ctx: SimContext, command: string): SimReply | undefined {
    const s = ctx.state;
    switch (command) {
      case 'version':
        return reply({ STATUS: [ctx.status('S', 22, 'CGMiner versions')], VERSION: [{ CGMiner: s.software, API: '3.7', Type: s.model }], id: 1 });
      case 'summary':
        return reply(summaryBody(ctx));
      case 'pools':
        // Stock cgminer 4.x reports the share difficulties and the work found per pool (Diff1 Shares).
        return reply(poolsBody(ctx, 0, (i) => {
          const p = ctx.state.pools[i]!;
          return { 'Diff1 Shares': p.diff1Shares ?? 0, 'Difficulty Accepted': p.difficultyAccepted ?? 0, 'Last Share Difficulty': p.lastShareDifficulty ?? 0 };
        }));
      case 'devs':
        return reply({
          STATUS: [ctx.status('S', 9, `${s.boards.length} ASC(s)`)],
          DEVS: s.boards.map((b, i) => ({
            ASC: i, Name: 'SIM', ID: i, Enabled: 'Y', Status: b.alive ? 'Alive' : 'Dead', Temperature: b.tempC,
            'MHS av': b.alive ? b.hashrateHs / 1e6 : 0, 'MHS 5s': b.alive ? b.hashrateHs / 1e6 : 0, 'Hardware Errors': b.hwErrors,
          })),
          id: 1,
        });
      case 'stats': {
        const stat: Record<string, unknown> = { STATS: 0, ID: 'SIM0', Elapsed: ctx.nowS() - s.startedAtS, fan_num: s.fans.length };
        s.fans.forEach((rpm, i) => { stat[`fan${i + 1}`] = rpm; });
        return reply({ STATUS: [ctx.status('S', 70, 'CGMiner stats')], STATS: [stat], id: 1 });
      }
      case 'config':
        return reply({ STATUS: [ctx.status('S', 33, 'CGMiner config')], CONFIG: [{ 'ASC Count': s.boards.length, 'Pool Count': s.pools.length }], id: 1 });
      default:
        return undefined;
    }
  },
};

/** The generic firmware's variants, for the quirks the protocol notes record from real processes. */
export type GenericFlavor = 'cgminer-4' | 'cgminer-2' | 'bfgminer';

/**
 * cgminer 2.x: no multi-commands (the simulator refuses joins with Code 14), API 1.x,
 * and the invalid restart reply {"RESTART","id":1}.
 */
export const cgminer2Personality: CgminerPersonality = {
  ...genericPersonality,
  description: (state: CgminerSimState) => `cgminer ${state.software}`,
  read(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined {
    if (command === 'version') {
      return reply({ STATUS: [ctx.status('S', 22, 'CGMiner versions')], VERSION: [{ CGMiner: ctx.state.software, API: '1.25' }], id: 1 });
    }
    return genericPersonality.read(ctx, command, parameter);
  },
  restartReply: () => ({ body: { STATUS: 'RESTART', id: 1 }, raw: '{"RESTART","id":1}' }),
};

/** bfgminer 5.x: BFGMiner in version, PGA devices with a 20 s window, restart as a normal STATUS with Msg "RESTART". */
export const bfgminerPersonality: CgminerPersonality = {
  ...genericPersonality,
  description: (state: CgminerSimState) => `bfgminer ${state.software}`,
  read(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined {
    const s = ctx.state;
    switch (command) {
      case 'version':
        return reply({ STATUS: [ctx.status('S', 22, 'BFGMiner versions')], VERSION: [{ BFGMiner: s.software, API: '3.1' }], id: 1 });
      case 'summary': {
        const body = summaryBody(ctx);
        const sum = (body['SUMMARY'] as Record<string, unknown>[])[0]!;
        sum['MHS 20s'] = sum['MHS 5s'];
        delete sum['MHS 5s'];
        return reply(body);
      }
      case 'devs':
        return reply({
          STATUS: [ctx.status('S', 9, `${s.boards.length} PGA(s)`)],
          DEVS: s.boards.map((b, i) => ({
            PGA: i, Name: 'SIM', ID: i, Enabled: 'Y', Status: b.alive ? 'Alive' : 'Dead', Temperature: b.tempC,
            'MHS av': b.alive ? b.hashrateHs / 1e6 : 0, 'MHS 20s': b.alive ? b.hashrateHs / 1e6 : 0, 'MHS rolling': b.alive ? b.hashrateHs / 1e6 : 0,
            'Hardware Errors': b.hwErrors,
          })),
          id: 1,
        });
      default:
        return genericPersonality.read(ctx, command, parameter);
    }
  },
  // The Code of bfgminer's restart status is not in our recordings; the shape (S, Msg "RESTART") is.
  restartReply: (ctx: SimContext) => reply({ STATUS: [ctx.status('S', 0, 'RESTART')], id: 1 }),
};
