import type { CgminerSimState } from '../cgminer-simulator';
import { poolsBody } from './generic.personality';
import { CGMINER_JOINABLE, fixed, reply, type CgminerPersonality, type SimContext, type SimReply } from './personality';

/** L3+/D3 bmminer labels its hashrates GHS but sends MH/s. */
const MHS_LABELLED_GHS = /antminer\s+(l3\+*|d3)\b/i;
/** S9-era control boards wire chains to slots 6, 7, 8 and fans to fan5/fan6. */
const S9_STYLE = /antminer\s+(s9|t9|l3|d3)/i;

/** Z-series (Equihash) labels GHS but sends ksol/s. */
const KSOLS_LABELLED_GHS = /antminer\s+z\d/i;

function unit(state: CgminerSimState): number {
  return MHS_LABELLED_GHS.test(state.model) ? 1e6 : KSOLS_LABELLED_GHS.test(state.model) ? 1e3 : 1e9;
}

function versionBlock(state: CgminerSimState): Record<string, unknown> {
  return { BMMiner: state.software, Miner: '49.0.1.3', CompileTime: 'Mon Oct 26 17:55:33 CST 2020', Type: state.model };
}

/** The device record of bmminer stats, slot and sensor layout by model era. */
function deviceStats(ctx: SimContext): Record<string, unknown> {
  const s = ctx.state;
  const u = unit(s);
  const s9 = S9_STYLE.test(s.model);
  const base = s9 ? 6 : 1;
  const slots = s9 ? 16 : Math.max(4, s.boards.length);
  const total = ctx.totalHashrateHs() / u;
  const stat: Record<string, unknown> = {
    STATS: 0, ID: s9 ? 'BC50' : 'BTM_SOC0', Elapsed: ctx.nowS() - s.startedAtS, Calls: 0, Wait: 0, Max: 0, Min: 99999999,
    'GHS 5s': fixed(total), 'GHS av': Number(fixed(total)), miner_count: s.boards.length, frequency: 650,
    fan_num: s.fans.length,
  };
  if (!s9) stat['rate_unit'] = u === 1e6 ? 'MH' : 'GH';
  const fanBase = s9 ? 5 : 1;
  for (let i = 1; i < fanBase + s.fans.length || i <= (s9 ? 8 : 4); i++) stat[`fan${i}`] = s.fans[i - fanBase] ?? 0;
  for (let slot = 1; slot <= slots; slot++) {
    const b = s.boards[slot - base];
    stat[`temp${slot}`] = b ? Math.round(b.tempC) : 0;
    stat[`temp2_${slot}`] = b ? Math.round(b.chipTempC ?? b.tempC) : 0;
    if (!s9) {
      stat[`temp_pcb${slot}`] = b ? `${Math.round(b.tempC) - 12}-${Math.round(b.tempC) - 2}-${Math.round(b.tempC) - 6}-${Math.round(b.tempC)}` : '0-0-0-0';
      stat[`temp_chip${slot}`] = b ? `${Math.round(b.chipTempC ?? b.tempC) - 10}-${Math.round(b.chipTempC ?? b.tempC)}` : '0-0';
    }
  }
  for (let slot = 1; slot <= slots; slot++) {
    const b = s.boards[slot - base];
    stat[`chain_acn${slot}`] = b ? (b.alive ? b.chips ?? 63 : 0) : 0;
    stat[`chain_hw${slot}`] = b?.hwErrors ?? 0;
    stat[`chain_rate${slot}`] = b ? fixed(b.alive ? b.hashrateHs / u : 0) : '';
    if (b?.frequencyMhz !== undefined) stat[`freq_avg${slot}`] = b.frequencyMhz;
  }
  stat['miner_version'] = '49.0.1.3';
  return stat;
}

/**
 * Stock Antminer bmminer: GHS fields as strings, stats whose STATS[0] (version)
 * and STATS[1] (device) are joined by "}{" with no comma, slots 6-8 on S9-era
 * models, and Code 45 for every write (the stock API is read-only).
 */
export const antminerPersonality: CgminerPersonality = {
  dialect: 'antminer',
  description: (state: CgminerSimState) => `bmminer ${state.software}`,
  joinable: CGMINER_JOINABLE,
  read(ctx: SimContext, command: string): SimReply | undefined {
    const s = ctx.state;
    switch (command) {
      case 'version':
        return reply({ STATUS: [ctx.status('S', 22, 'BMMiner versions')], VERSION: [{ ...versionBlock(s), API: '3.1' }], id: 1 });
      case 'summary': {
        const total = ctx.totalHashrateHs() / unit(s);
        return reply({
          STATUS: [ctx.status('S', 11, 'Summary')],
          SUMMARY: [{
            Elapsed: ctx.nowS() - s.startedAtS, 'GHS 5s': fixed(total), 'GHS av': Number(fixed(total)), 'Found Blocks': 0,
            Accepted: s.accepted, Rejected: s.rejected, 'Hardware Errors': s.boards.reduce((a, b) => a + b.hwErrors, 0),
            Stale: s.stale, 'Best Share': 11482220369,
          }],
          id: 1,
        });
      }
      case 'pools':
        return reply(poolsBody(ctx, 0, (i) => ({ Diff: '8.19K', 'Last Share Time': s.pools[i]!.lastShareTime ? '0:00:27' : '0' })));
      case 'stats': {
        const status = ctx.status('S', 70, 'BMMiner stats');
        const info = versionBlock(s);
        const device = deviceStats(ctx);
        // The quirk: "}{" with no comma between the two STATS objects.
        const raw = `{"STATUS":[${JSON.stringify(status)}],"STATS":[${JSON.stringify(info)}${JSON.stringify(device)}],"id":1}`;
        return { body: { STATUS: [status], STATS: [info, device], id: 1 }, raw };
      }
      default:
        return undefined;
    }
  },
  privileged(ctx: SimContext, command: string): SimReply {
    return reply({ STATUS: [ctx.status('E', 45, `Access denied to '${command}' command`)], id: 1 });
  },
};
