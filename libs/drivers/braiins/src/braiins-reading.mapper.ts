import { BoardStatus, PoolStatus, type Board, type CollectError, type Fan, type HashrateWindow, type Pool } from '@rigwarden/protocol';
import type { MinerReading } from '@rigwarden/drivers-core';
import {
  MINER_STATUS_NAMES, MinerStatus, TUNER_STATE_NAMES, TunerMode,
  type GetCoolingStateResponse, type GetHashboardsResponse, type GetMinerConfigurationResponse, type GetMinerDetailsResponse,
  type GetMinerStatsResponse, type GetPoolGroupsResponse, type GetTunerStateResponse, type GigaHashrate, type Timestamp,
} from './bos-messages';

export const BRAIINS_GRPC_DRIVER = 'braiins-grpc';

/** What one collect read: the two replies a reading needs, and the others when the miner gave them. */
export interface BraiinsReplies {
  details: GetMinerDetailsResponse;
  stats: GetMinerStatsResponse;
  hashboards?: GetHashboardsResponse;
  cooling?: GetCoolingStateResponse;
  poolGroups?: GetPoolGroupsResponse;
  tuner?: GetTunerStateResponse;
  configuration?: GetMinerConfigurationResponse;
}

/** What the MinerSnapshot has no field for, kept on the driver (`lastState`) for callers that want it. */
export interface BraiinsState {
  macAddress: string;
  hostname: string;
  serialNumber: string;
  /** MinerStatus by name: normal, paused, not-started (bosminer down or restarting), suspended, restricted. */
  minerStatus: string;
  bosminerUptimeS: number | undefined;
  systemUptimeS: number | undefined;
  /** auto, manual, immersion, hydro, disabled; '' when the configuration was not read. */
  coolingMode: string;
  tuner: {
    enabled: boolean | undefined;
    mode: 'power-target' | 'hashrate-target' | '';
    state: string;
    /** The power target the tuner works to now (GetTunerState), else the configured one. */
    powerTargetW: number | undefined;
  };
  poolGroups: { name: string; pools: { url: string; user: string; active: boolean }[] }[];
}

const GH = 1e9;

const WINDOWS: readonly [keyof NonNullable<NonNullable<GetMinerStatsResponse['miner_stats']>['real_hashrate']>, string, number | undefined][] = [
  ['last_5s', '5s', 5], ['last_15s', '15s', 15], ['last_30s', '30s', 30], ['last_1m', '1m', 60], ['last_5m', '5m', 300],
  ['last_15m', '15m', 900], ['last_30m', '30m', 1800], ['last_1h', '1h', 3600], ['last_24h', '24h', 86_400], ['since_restart', 'av', undefined],
];

/**
 * A unit message's value. proto3 leaves a zero scalar off the wire, so a unit message that is there with no value
 * is 0 (a paused miner's 0 GH/s); a unit message that is not there is unknown.
 */
function unit<T extends object>(message: T | undefined, key: keyof T): number | undefined {
  if (message === undefined || message === null) return undefined;
  const v = (message[key] as number | undefined) ?? 0;
  return Number.isFinite(v) ? v : undefined;
}

function hs(rate: GigaHashrate | undefined): number | undefined {
  const v = unit(rate, 'gigahash_per_second');
  return v === undefined ? undefined : v * GH;
}


function toDate(t: Timestamp | undefined): Date | undefined {
  if (!t || t.seconds === undefined) return undefined;
  return new Date(t.seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

/** The firmware as operators read it: "Braiins OS+ 26.04 (2026-04-14-0-912d084c-26.04-plus)". */
export function firmwareName(details: GetMinerDetailsResponse): string {
  const current = details.bos_version?.current ?? '';
  if (!current) return '';
  const release = /-(\d{2}\.\d{2}(?:\.\d+)?)(?:-plus)?$/.exec(current)?.[1];
  const product = details.bos_version?.bos_plus ? 'Braiins OS+' : 'Braiins OS';
  return release ? `${product} ${release} (${current})` : `${product} ${current}`;
}

export function mapBoards(replies: BraiinsReplies): Board[] {
  const mining = (replies.details.status ?? MinerStatus.UNSPECIFIED) === MinerStatus.NORMAL;
  return (replies.hashboards?.hashboards ?? []).map((hb, i) => {
    const rate = hs(hb.stats?.real_hashrate?.last_5s) ?? hs(hb.stats?.real_hashrate?.last_1m);
    const chips = hb.chips_count ? hb.chips_count.value ?? 0 : undefined;
    const status = hb.enabled === false ? BoardStatus.BOARD_STATUS_DISABLED
      // A board that hashes nothing or lost every chip while the miner mines is dead; while paused or restarting, all are 0.
      : mining && (rate === 0 || chips === 0) ? BoardStatus.BOARD_STATUS_DEAD : BoardStatus.BOARD_STATUS_OK;
    const hz = unit(hb.current_frequency, 'hertz');
    const id = Number(hb.id);
    return {
      index: Number.isInteger(id) && id >= 0 ? id : i,
      hashrateHs: rate,
      boardTempC: unit(hb.board_temp, 'degree_c'),
      chipTempC: unit(hb.highest_chip_temp?.temperature, 'degree_c'),
      chips,
      hwErrors: undefined,
      status,
      pciBusId: '',
      name: [hb.board_name ?? hb.model, hb.chip_type].filter(Boolean).join(' '),
      fanPercent: undefined,
      powerW: undefined,
      accepted: undefined,
      rejected: undefined,
      coreClockMhz: undefined,
      memoryClockMhz: undefined,
      frequencyMhz: hz === undefined ? undefined : hz / 1e6,
      phantomReason: '',
    };
  });
}

export function mapFans(cooling: GetCoolingStateResponse | undefined): Fan[] {
  return (cooling?.fans ?? []).map((f, i) => ({
    index: f.position ?? i,
    rpm: f.rpm ?? 0,
    percent: f.target_speed_ratio === undefined ? undefined : Math.round(f.target_speed_ratio * 1000) / 10,
  }));
}

/** Every pool of every group, numbered in order; a group's first enabled pool is tried first. */
export function mapPools(groups: GetPoolGroupsResponse | undefined): Pool[] {
  const out: Pool[] = [];
  for (const group of groups?.pool_groups ?? []) {
    group.pools.forEach((p, priority) => {
      out.push({
        index: out.length,
        url: p.url ?? '',
        user: p.user ?? '',
        status: p.enabled === false ? PoolStatus.POOL_STATUS_DISABLED : p.alive ? PoolStatus.POOL_STATUS_ALIVE : PoolStatus.POOL_STATUS_DEAD,
        priority,
        active: p.active === true,
        accepted: p.stats?.accepted_shares ?? 0,
        rejected: p.stats?.rejected_shares ?? 0,
        stale: p.stats?.stale_shares ?? 0,
        lastShareTime: toDate(p.stats?.last_share_time),
        stratumActive: undefined,
        lastShareDifficulty: p.stats ? p.stats.last_difficulty ?? 0 : undefined,
        difficultyAccepted: undefined,
        getworks: undefined,
        activeEvidence: 'firmware',
        diff1Shares: undefined,
      });
    });
  }
  return out;
}

function hashrateWindows(stats: GetMinerStatsResponse): HashrateWindow[] {
  const real = stats.miner_stats?.real_hashrate ?? {};
  const out: HashrateWindow[] = [];
  for (const [key, label, windowS] of WINDOWS) {
    const value = hs(real[key]);
    if (value !== undefined) out.push({ label, windowS, hashrateHs: value });
  }
  return out;
}

/** The replies of one collect as a MinerReading (host and port are the endpoint's). */
export function mapReading(replies: BraiinsReplies, where: { host: string; port: number }, errors: CollectError[] = []): MinerReading {
  const { details, stats } = replies;
  const real = stats.miner_stats?.real_hashrate;
  const pools = mapPools(replies.poolGroups);
  const bosPlus = details.bos_version?.bos_plus === true;
  return {
    host: where.host,
    port: where.port,
    vendor: 'braiins',
    model: details.miner_identity?.miner_model || details.miner_identity?.name || '',
    firmware: firmwareName(details),
    uptimeS: details.bosminer_uptime_s ?? 0,
    hashrate5sHs: hs(real?.last_5s),
    hashrateAvgHs: hs(real?.since_restart),
    accepted: stats.pool_stats ? stats.pool_stats.accepted_shares ?? 0 : undefined,
    rejected: stats.pool_stats ? stats.pool_stats.rejected_shares ?? 0 : undefined,
    stale: stats.pool_stats ? stats.pool_stats.stale_shares ?? 0 : undefined,
    hwErrors: undefined,
    powerW: unit(stats.power_stats?.approximated_consumption, 'watt'),
    boards: mapBoards(replies),
    fans: mapFans(replies.cooling),
    pools,
    errors,
    driver: BRAIINS_GRPC_DRIVER,
    algorithm: 'sha256d',
    hashrateWindows: hashrateWindows(stats),
    fieldWarnings: [],
    software: bosPlus ? 'bosminer+' : 'bosminer',
    softwareVersion: details.bos_version?.current ?? '',
    currentPoolUrl: pools.find((p) => p.active)?.url ?? '',
  };
}

export function mapState(replies: Omit<BraiinsReplies, 'stats'>): BraiinsState {
  const { details, tuner, configuration } = replies;
  const tunerMode = configuration?.tuner?.tuner_mode;
  const mode = tuner?.mode_state === 'power_target_mode_state' || tunerMode === TunerMode.POWER_TARGET ? 'power-target'
    : tuner?.mode_state === 'hashrate_target_mode_state' || tunerMode === TunerMode.HASHRATE_TARGET ? 'hashrate-target' : '';
  return {
    macAddress: details.mac_address ?? '',
    hostname: details.hostname ?? '',
    serialNumber: details.serial_number ?? '',
    minerStatus: MINER_STATUS_NAMES[details.status ?? 0] ?? `status ${details.status}`,
    bosminerUptimeS: details.bosminer_uptime_s,
    systemUptimeS: details.system_uptime_s ?? details.system_uptime,
    coolingMode: configuration?.temperature?.mode ?? '',
    tuner: {
      enabled: configuration?.tuner?.enabled,
      mode,
      state: tuner ? TUNER_STATE_NAMES[tuner.overall_tuner_state ?? 0] ?? `state ${tuner.overall_tuner_state}` : '',
      powerTargetW: unit(tuner?.power_target_mode_state?.current_target, 'watt') ?? unit(configuration?.tuner?.power_target, 'watt'),
    },
    poolGroups: (replies.poolGroups?.pool_groups ?? []).map((g) => ({
      name: g.name ?? '',
      pools: g.pools.map((p) => ({ url: p.url ?? '', user: p.user ?? '', active: p.active === true })),
    })),
  };
}
