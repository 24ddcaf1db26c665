import type { CgminerSimState } from '../cgminer-simulator';
import { poolsBody, summaryBody } from './generic.personality';
import { CGMINER_JOINABLE, fixed, reply, type CgminerPersonality, type SimContext, type SimReply } from './personality';

/** The "MM ID0" string of an Avalon 11xx-15xx controller: Key[value] tokens, per-board lists. */
export function avalonMmString(ctx: SimContext): string {
  const s = ctx.state;
  const ghs = s.boards.map((b) => (b.alive ? b.hashrateHs / 1e9 : 0));
  const tokens: [string, string][] = [
    ['Ver', `${s.model.replace(/^Avalon(Miner)?\s*/i, '')}-24102401_25462b2_9ddf522`],
    ['DNA', '020100008c699117'],
    ['SYSTEMSTATU', `Work: In Work, Hash Board: ${s.boards.length} `],
    ['Elapsed', String(ctx.nowS() - s.startedAtS)],
    ['HW', String(s.boards.reduce((a, b) => a + b.hwErrors, 0))],
    ['Temp', '25'],
    ['TMax', String(Math.max(...s.boards.map((b) => Math.round(b.chipTempC ?? b.tempC))))],
    ['TAvg', String(Math.round(s.boards.reduce((a, b) => a + b.tempC, 0) / Math.max(1, s.boards.length)))],
    ...s.fans.map((rpm, i): [string, string] => [`Fan${i + 1}`, String(rpm)]),
    ['FanR', `${Math.round(Math.max(0, ...s.fans) / 80)}%`],
    ['PS', `0 1209 1187 297 3526 1188 ${s.powerW ?? 3731}`],
    ['WALLPOWER', String(s.powerW ?? 3731)],
    ['GHSspd', fixed(ghs.reduce((a, b) => a + b, 0))],
    ['GHSmm', fixed(ghs.reduce((a, b) => a + b, 0))],
    ['Freq', String(s.boards[0]?.frequencyMhz ?? 345.94)],
    ['MGHS', ghs.map((g) => fixed(g)).join(' ')],
    ['MTmax', s.boards.map((b) => Math.round(b.chipTempC ?? b.tempC)).join(' ')],
    ['MTavg', s.boards.map((b) => Math.round(b.tempC)).join(' ')],
    ['WORKMODE', String(s.workMode ?? 1)],
  ];
  return tokens.map(([k, v]) => `${k}[${v}]`).join(' ');
}

/** Canaan Avalon (cgminer 4.11.1 with Canaan's driver): PROD/MODEL in version, "MM ID0" in stats, "MHS 30s". */
export const avalonPersonality: CgminerPersonality = {
  dialect: 'avalon',
  description: (state: CgminerSimState) => `cgminer ${state.software}`,
  joinable: CGMINER_JOINABLE,
  read(ctx: SimContext, command: string): SimReply | undefined {
    const s = ctx.state;
    switch (command) {
      case 'version': {
        const model = s.model.replace(/^Avalon(Miner)?\s*/i, '');
        return reply({
          STATUS: [ctx.status('S', 22, 'CGMiner versions')],
          VERSION: [{ CGMiner: s.software, API: '3.7', STM8: '20.08.01', PROD: `AvalonMiner ${model}`, MODEL: model, HWTYPE: 'MM4v2_X3', SWTYPE: 'MM319', VERSION: '24102401_25462b2_9ddf522', DNA: '020100008c699117', UPAPI: '2' }],
          id: 1,
        });
      }
      case 'summary': {
        const body = summaryBody(ctx);
        const sum = (body['SUMMARY'] as Record<string, unknown>[])[0]!;
        sum['MHS 30s'] = sum['MHS 5s'];
        delete sum['MHS 5s'];
        return reply(body);
      }
      case 'pools':
        return reply(poolsBody(ctx));
      case 'devs':
        return reply({
          STATUS: [ctx.status('S', 9, '1 ASC(s)')],
          DEVS: [{ ASC: 0, Name: 'AVA10', ID: 0, Enabled: 'Y', Status: 'Alive', Temperature: -273.0, 'MHS av': ctx.totalHashrateHs() / 1e6, 'MHS 30s': ctx.totalHashrateHs() / 1e6 }],
          id: 1,
        });
      case 'stats':
      case 'estats':
        return reply({
          STATUS: [ctx.status('S', 70, 'CGMiner stats')],
          STATS: [{ STATS: 0, ID: 'AVA100', Elapsed: ctx.nowS() - s.startedAtS, Calls: 0, Wait: 0.0, Max: 0.0, Min: 99999999.0, 'MM ID0': avalonMmString(ctx), 'MM Count': 1 }],
          id: 1,
        });
      default:
        return undefined;
    }
  },
  privileged(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined {
    // Canaan's persistent pool setting: ascset|0,setpool,<web user>,<web password>,<url>,<worker>,<worker password>.
    // The reply is the recorded one (Avalon 1047): STATUS I, Code 118, a multi-line Msg asking for a reboot.
    const fields = (parameter ?? '').split(',');
    if (command !== 'ascset' || fields[1] !== 'setpool') return undefined;
    const [, , , , url, worker, password] = fields;
    if (!url || !worker) return reply({ STATUS: [ctx.status('E', 119, 'ASC 0 set failed: setpool needs url and worker')], id: 1 });
    ctx.state.pools[0] = { ...(ctx.state.pools[0] ?? { status: 'Alive', priority: 0, accepted: 0, rejected: 0, stale: 0, lastShareTime: 0 }), url, user: worker, password: password ?? '' };
    const msg = `ASC 0 set info:\npool success set to ${url}\nworker is ${worker}\nworkerpassword is ${password ?? ''}\nPlease reboot miner to make config work.\n`;
    return reply({ STATUS: [ctx.status('I', 118, msg)], id: 1 });
  },
};
