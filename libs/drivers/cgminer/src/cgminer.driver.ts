import {
  Board, BoardStatus, PoolStatus, type Fan, type Pool,
} from '@rigwarden/protocol';
import {
  DriverError, driverRegistry, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading,
  type PoolControl, type Restartable,
} from '@rigwarden/drivers-core';
import { CgminerClient, type CgminerReply } from './cgminer-client';
import { count, hashrateHs, num, section, str } from './cgminer-values';

const COLLECT_COMMANDS = ['version', 'summary', 'pools', 'devs', 'stats'] as const;
type CollectCommand = (typeof COLLECT_COMMANDS)[number];
export type CollectedReplies = Partial<Record<CollectCommand, CgminerReply>>;

/**
 * Generic cgminer / bfgminer API driver. Reads version, summary, pools, devs and
 * stats in one multi-command when the firmware joins them, else one command per
 * connection, and maps them into a MinerReading in H/s.
 */
export class CgminerDriver implements MinerDriver, PoolControl, Restartable {
  readonly name = 'cgminer';
  private joinSupported: boolean | undefined;

  constructor(
    readonly endpoint: MinerEndpoint,
    private readonly client = new CgminerClient(),
  ) {}

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const replies = await this.fetch(ctx);
    return mapCgminerReplies(replies);
  }

  async switchPool(poolIndex: number, ctx: CollectContext): Promise<void> {
    await this.client.command(this.endpoint, 'switchpool', String(poolIndex), { signal: ctx.signal });
  }

  async restartMiner(ctx: CollectContext): Promise<void> {
    await this.client.command(this.endpoint, 'restart', undefined, { signal: ctx.signal });
  }

  private async fetch(ctx: CollectContext): Promise<CollectedReplies> {
    const opts = { signal: ctx.signal };
    if (this.joinSupported !== false) {
      try {
        const joined = await this.client.command(this.endpoint, COLLECT_COMMANDS.join('+'), undefined, opts);
        const replies: CollectedReplies = {};
        let complete = true;
        for (const cmd of COLLECT_COMMANDS) {
          const part = joined[cmd];
          const first = Array.isArray(part) ? part[0] : undefined;
          if (first && typeof first === 'object') replies[cmd] = first as CgminerReply;
          else complete = false;
        }
        if (complete) {
          this.joinSupported = true;
          return replies;
        }
      } catch (err) {
        // Code 14 (no join support) or a failed part: fall back to one command per connection.
        if (!(err instanceof DriverError) || !['unsupported', 'access_denied', 'miner_error', 'parse'].includes(err.kind)) throw err;
        if (err.kind === 'unsupported') this.joinSupported = false;
      }
    }
    const replies: CollectedReplies = {};
    for (const cmd of COLLECT_COMMANDS) {
      try {
        replies[cmd] = await this.client.command(this.endpoint, cmd, undefined, opts);
      } catch (err) {
        // version, devs and stats are optional on some firmware; summary and pools are not.
        if (cmd === 'summary' || cmd === 'pools' || !(err instanceof DriverError) || err.kind === 'timeout' || err.kind === 'unreachable') throw err;
      }
    }
    return replies;
  }
}

export function mapCgminerReplies(replies: CollectedReplies): MinerReading {
  const summary = replies.summary ? section(replies.summary, 'SUMMARY')[0] ?? {} : {};
  const version = replies.version ? section(replies.version, 'VERSION')[0] ?? {} : {};
  const software = str(version['CGMiner']) ? 'cgminer' : str(version['BFGMiner']) ? 'bfgminer' : str(version['BMMiner']) ? 'bmminer' : 'cgminer';
  const firmwareVersion = str(version['CGMiner']) ?? str(version['BFGMiner']) ?? str(version['BMMiner']) ?? '';
  const model = str(version['Type']) ?? str(version['Model']) ?? '';

  const reading: MinerReading = {
    host: '',
    port: 0,
    vendor: software,
    model: model.split('\n')[0]!.trim(),
    firmware: firmwareVersion ? `${software} ${firmwareVersion}` : '',
    uptimeS: count(summary['Elapsed']),
    hashrate5sHs: hashrateHs(summary, '5s'),
    hashrateAvgHs: hashrateHs(summary, 'av'),
    accepted: count(summary['Accepted']),
    rejected: count(summary['Rejected']),
    stale: count(summary['Stale']),
    hwErrors: count(summary['Hardware Errors']),
    powerW: num(summary['Power']),
    boards: replies.devs ? mapBoards(section(replies.devs, 'DEVS')) : [],
    fans: replies.stats ? mapFans(section(replies.stats, 'STATS')) : [],
    pools: replies.pools ? mapPools(section(replies.pools, 'POOLS')) : [],
    errors: [],
    driver: 'cgminer',
    algorithm: '',
  };
  return reading;
}

function mapBoards(devs: Record<string, unknown>[]): Board[] {
  return devs.map((dev, i) => {
    const enabled = str(dev['Enabled']);
    const status = str(dev['Status']);
    const hashrate = hashrateHs(dev, '5s') ?? hashrateHs(dev, 'av');
    return Board.fromPartial({
      index: count(dev['ASC'] ?? dev['PGA'] ?? dev['GPU'] ?? dev['ID']) ?? i,
      hashrateHs: hashrate,
      boardTempC: num(dev['Temperature']),
      chipTempC: undefined,
      chips: undefined,
      hwErrors: count(dev['Hardware Errors']),
      status: enabled === 'N' ? BoardStatus.BOARD_STATUS_DISABLED
        : status === 'Dead' || status === 'Sick' || hashrate === 0 ? BoardStatus.BOARD_STATUS_DEAD
        : BoardStatus.BOARD_STATUS_OK,
    });
  });
}

/** Fans from the stats keys that cgminer's bitmain-family drivers emit: fan1..fanN in RPM. */
function mapFans(stats: Record<string, unknown>[]): Fan[] {
  const fans: Fan[] = [];
  for (const record of stats) {
    for (const [key, value] of Object.entries(record)) {
      const match = /^fan(\d+)$/.exec(key);
      if (!match) continue;
      const rpm = count(value);
      if (rpm === undefined || rpm === 0) continue; // 0 means "no fan on this header"
      fans.push({ index: Number(match[1]), rpm, percent: undefined });
    }
  }
  return fans.sort((a, b) => a.index - b.index);
}

function mapPools(pools: Record<string, unknown>[]): Pool[] {
  const mapped: Pool[] = pools.map((pool, i) => {
    const status = str(pool['Status']);
    const lastShare = num(pool['Last Share Time']);
    return {
      index: count(pool['POOL']) ?? i,
      url: str(pool['URL']) ?? '',
      user: str(pool['User']) ?? '',
      status: status === 'Alive' ? PoolStatus.POOL_STATUS_ALIVE
        : status === 'Dead' ? PoolStatus.POOL_STATUS_DEAD
        : status === 'Disabled' ? PoolStatus.POOL_STATUS_DISABLED
        : PoolStatus.POOL_STATUS_UNKNOWN,
      priority: count(pool['Priority']),
      active: pool['Stratum Active'] === true,
      accepted: count(pool['Accepted']),
      rejected: count(pool['Rejected']),
      stale: count(pool['Stale']),
      lastShareTime: lastShare !== undefined && lastShare > 0 ? new Date(lastShare * 1000) : undefined,
    };
  });
  if (!mapped.some((p) => p.active)) {
    // No "Stratum Active" flag (getwork or old firmware): the best-priority alive pool is in use.
    const candidate = mapped
      .filter((p) => p.status === PoolStatus.POOL_STATUS_ALIVE)
      .sort((a, b) => (a.priority ?? Infinity) - (b.priority ?? Infinity))[0];
    if (candidate) candidate.active = true;
  }
  return mapped;
}

driverRegistry.register({
  name: 'cgminer',
  description: 'cgminer / bfgminer RPC API (TCP 4028), generic dialect',
  defaultPort: 4028,
  create: (endpoint) => new CgminerDriver(endpoint),
});
