import { randomBytes } from 'node:crypto';
import type { CgminerSimState } from '../cgminer-simulator';
import { genericPersonality, poolsBody } from './generic.personality';
import { CGMINER_JOINABLE, reply, type CgminerPersonality, type SimContext, type SimReply } from './personality';

/**
 * LuxOS LUXminer: cgminer-compatible reads plus fans/temps/power; privileged
 * commands need a session: `logon` returns SESSION[0].SessionID, which must be
 * the first parameter ("SID" or "SID,1"). One session at a time: `logon` is
 * refused while one is open, `session` tells the open one, `logoff` closes it.
 */
export function createLuxosPersonality(): CgminerPersonality {
  let session: string | undefined;
  return {
    dialect: 'luxos',
    description: () => 'LUXminer',
    joinable: CGMINER_JOINABLE,
    read(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined {
      const s: CgminerSimState = ctx.state;
      switch (command) {
        case 'version':
          return reply({ STATUS: [ctx.status('S', 22, 'LUXminer versions')], VERSION: [{ API: '3.7', CompileTime: 'Mon Jan 01 00:01:01 UTC 2000', LUXminer: s.software, Miner: s.software, Type: s.model }], id: 1 });
        case 'pools':
          return reply(poolsBody(ctx));
        case 'fans':
          return reply({ STATUS: [ctx.status('S', 202, `${s.fans.length} Fan(s)`)], FANS: s.fans.map((rpm, i) => ({ FAN: i, ID: i, RPM: rpm, Speed: 60 })), id: 1 });
        case 'temps':
          return reply({
            STATUS: [ctx.status('S', 201, `${s.boards.length} Temp(s)`)],
            TEMPS: s.boards.map((b, i) => ({ TEMP: i, ID: i, Board: b.tempC, Chip: b.chipTempC ?? 0, TopLeft: b.tempC - 3, TopRight: b.tempC - 1, BottomLeft: b.tempC - 2, BottomRight: b.tempC - 4 })),
            id: 1,
          });
        case 'session':
          return reply({ STATUS: [ctx.status('S', 311, 'Session')], SESSION: [{ SessionID: session ?? '' }], id: 1 });
        case 'power':
          return reply({ STATUS: [ctx.status('S', 335, 'Power')], POWER: [{ PSU: true, Watts: s.powerW ?? 3250 }], id: 1 });
        default:
          return genericPersonality.read(ctx, command, parameter);
      }
    },
    privileged(ctx: SimContext, command: string, parameter: string | undefined): SimReply {
      if (command === 'logon') {
        if (session) return reply({ STATUS: [ctx.status('E', 310, 'Another session is active')], id: 1 });
        session = randomBytes(4).toString('hex');
        return reply({ STATUS: [ctx.status('S', 307, 'Session created')], SESSION: [{ SessionID: session }], id: 1 });
      }
      const [sid, ...rest] = (parameter ?? '').split(',');
      if (!session || sid !== session) return reply({ STATUS: [ctx.status('E', 309, 'Invalid session id')], id: 1 });
      if (command === 'logoff') {
        session = undefined;
        return reply({ STATUS: [ctx.status('S', 308, 'Session terminated')], id: 1 });
      }
      return ctx.control(command, rest.length ? rest.join(',') : undefined);
    },
  };
}
