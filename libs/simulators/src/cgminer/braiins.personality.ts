import { poolsBody } from './generic.personality';
import { reply, type CgminerPersonality, type SimContext, type SimReply } from './personality';

/** BOSminer sorts keys alphabetically (serde): reproduce that. */
function sorted(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const BOS_VERSION = '0.2.0-d360818';

/**
 * Braiins OS bosminer: the cgminer API with alphabetical keys, full-precision
 * floats, chains with IDs 6-8, and its own fans/temps/tunerstatus commands.
 * Read-only: writes are answered with Code 45 (Braiins OS writes go through gRPC).
 */
export const braiinsPersonality: CgminerPersonality = {
  dialect: 'braiins',
  description: () => `BOSminer ${BOS_VERSION}`,
  joinable: new Set(['version', 'summary', 'pools', 'devs', 'stats', 'config']),
  read(ctx: SimContext, command: string): SimReply | undefined {
    const s = ctx.state;
    const mhs = ctx.totalHashrateHs() / 1e6;
    switch (command) {
      case 'version':
        return reply({ STATUS: [ctx.status('S', 22, 'BOSminer versions')], VERSION: [{ API: '3.7', BOSminer: BOS_VERSION }], id: 1 });
      case 'summary':
        return reply({
          STATUS: [ctx.status('S', 11, 'Summary')],
          SUMMARY: [sorted({
            Accepted: s.accepted, 'Best Share': 65536, Elapsed: ctx.nowS() - s.startedAtS, 'Hardware Errors': s.boards.reduce((a, b) => a + b.hwErrors, 0),
            'MHS 15m': mhs, 'MHS 1m': mhs, 'MHS 24h': mhs, 'MHS 5m': mhs, 'MHS 5s': mhs, 'MHS av': mhs, Rejected: s.rejected, Stale: s.stale,
          })],
          id: 1,
        });
      case 'pools': {
        const body = poolsBody(ctx, 0, () => ({ AsicBoost: true }));
        body['POOLS'] = (body['POOLS'] as Record<string, unknown>[]).map(sorted);
        return reply(body);
      }
      case 'devs':
        return reply({
          STATUS: [ctx.status('S', 9, `${s.boards.length} ASC(s)`)],
          DEVS: s.boards.map((b, i) => sorted({
            ASC: i, Enabled: 'Y', 'Hardware Errors': b.hwErrors, ID: 6 + i, 'MHS 5s': b.alive ? b.hashrateHs / 1e6 : 0,
            'MHS av': b.alive ? b.hashrateHs / 1e6 : 0, Name: '', Status: b.alive ? 'Alive' : 'Dead', Temperature: 0.0,
          })),
          id: 1,
        });
      case 'fans':
        return reply({
          STATUS: [ctx.status('S', 202, `${s.fans.length} Fan(s)`)],
          FANS: s.fans.map((rpm, i) => ({ FAN: i, ID: i, RPM: rpm, Speed: 100 })),
          id: 1,
        });
      case 'temps':
        return reply({
          STATUS: [ctx.status('S', 201, `${s.boards.length} Temp(s)`)],
          TEMPS: s.boards.map((b, i) => ({ Board: b.tempC, Chip: b.chipTempC ?? 0.0, ID: 6 + i, TEMP: i })),
          id: 1,
        });
      case 'tunerstatus':
        return reply({
          STATUS: [ctx.status('S', 203, 'Tuner Status')],
          TUNERSTATUS: [{ ApproximateChainPowerConsumption: s.powerW ?? 1200, ApproximateMinerPowerConsumption: s.powerW ?? 1250, DynamicPowerScaling: 'Disabled', PowerLimit: 1300 }],
          id: 1,
        });
      default:
        return undefined;
    }
  },
  privileged(ctx: SimContext, command: string): SimReply {
    return reply({ STATUS: [ctx.status('E', 45, `Access denied to '${command}' command`)], id: 1 });
  },
};
