/**
 * The bos-plus-api 1.11.0 messages the driver reads and writes, as @grpc/proto-loader decodes them with
 * BOS_LOADER_OPTIONS: snake_case names, numbers for 64-bit fields and enums, absent fields undefined, oneofs
 * named in their own field. Only the fields Rigwarden uses are typed; the .proto files are the reference.
 */

export interface GigaHashrate { gigahash_per_second?: number }
export interface MegaHashrate { megahash_per_second?: number }
export interface TeraHashrate { terahash_per_second?: number }
export interface Power { watt?: number }
export interface Temperature { degree_c?: number }
export interface Frequency { hertz?: number }
export interface Voltage { volt?: number }
export interface UInt32Value { value?: number }
export interface Timestamp { seconds?: number; nanos?: number }

/** braiins.bos.v1.SaveAction */
export const SaveAction = { UNSPECIFIED: 0, SAVE: 1, SAVE_AND_APPLY: 2, SAVE_AND_FORCE_APPLY: 3 } as const;

/** braiins.bos.v1.MinerStatus */
export const MinerStatus = { UNSPECIFIED: 0, NOT_STARTED: 1, NORMAL: 2, PAUSED: 3, SUSPENDED: 4, RESTRICTED: 5 } as const;
export const MINER_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'unspecified', 1: 'not-started', 2: 'normal', 3: 'paused', 4: 'suspended', 5: 'restricted',
};

/** braiins.bos.v1.TunerMode */
export const TunerMode = { UNSPECIFIED: 0, POWER_TARGET: 1, HASHRATE_TARGET: 2 } as const;

/** braiins.bos.v1.TunerState */
export const TUNER_STATE_NAMES: Readonly<Record<number, string>> = {
  0: 'unspecified', 1: 'disabled', 2: 'stable', 3: 'tuning', 4: 'error', 5: 'continuous', 6: 'preheat',
};

export interface LoginRequest { username: string; password: string }
export interface LoginResponse { token?: string; timeout_s?: number }

export interface BosVersion { current?: string; major?: string; bos_plus?: boolean }
export interface MinerIdentity { brand?: number; name?: string; miner_model?: string }
export interface GetMinerDetailsResponse {
  uid?: string;
  miner_identity?: MinerIdentity;
  platform?: number;
  bos_mode?: number;
  bos_version?: BosVersion;
  hostname?: string;
  mac_address?: string;
  system_uptime?: number;
  sticker_hashrate?: GigaHashrate;
  bosminer_uptime_s?: number;
  system_uptime_s?: number;
  status?: number;
  kernel_version?: string;
  serial_number?: string;
}

export interface RealHashrate {
  last_5s?: GigaHashrate; last_15s?: GigaHashrate; last_30s?: GigaHashrate; last_1m?: GigaHashrate;
  last_5m?: GigaHashrate; last_15m?: GigaHashrate; last_30m?: GigaHashrate; last_1h?: GigaHashrate;
  last_24h?: GigaHashrate; since_restart?: GigaHashrate;
}
export interface WorkSolverStats {
  real_hashrate?: RealHashrate;
  nominal_hashrate?: GigaHashrate;
  error_hashrate?: MegaHashrate;
  found_blocks?: number;
  best_share_str?: string;
}
export interface PoolStats {
  accepted_shares?: number;
  rejected_shares?: number;
  stale_shares?: number;
  last_difficulty?: number;
  generated_work?: number;
  last_share_time?: Timestamp;
  best_share_str?: string;
}
export interface GetMinerStatsResponse {
  pool_stats?: PoolStats;
  miner_stats?: WorkSolverStats;
  power_stats?: { approximated_consumption?: Power; efficiency?: { joule_per_terahash?: number } };
}

export interface TemperatureSensor { id?: number; location?: number; temperature?: Temperature }
export interface Hashboard {
  id?: string;
  enabled?: boolean;
  chips_count?: UInt32Value;
  current_voltage?: Voltage;
  current_frequency?: Frequency;
  highest_chip_temp?: TemperatureSensor;
  board_temp?: Temperature;
  stats?: WorkSolverStats;
  model?: string;
  lowest_inlet_temp?: Temperature;
  highest_outlet_temp?: Temperature;
  serial_number?: string;
  board_name?: string;
  chip_type?: string;
}
export interface GetHashboardsResponse { hashboards: Hashboard[] }

export interface FanState { position?: number; rpm?: number; target_speed_ratio?: number }
export interface GetCoolingStateResponse { fans: FanState[]; highest_temperature?: TemperatureSensor }

export interface Quota { value?: number }
export interface FixedShareRatio { value?: number }
export interface Pool {
  uid?: string;
  url?: string;
  user?: string;
  enabled?: boolean;
  alive?: boolean;
  active?: boolean;
  stats?: PoolStats;
}
export interface PoolGroup {
  name?: string;
  strategy?: 'quota' | 'fixed_share_ratio';
  quota?: Quota;
  fixed_share_ratio?: FixedShareRatio;
  pools: Pool[];
  uid?: string;
}
export interface GetPoolGroupsResponse { pool_groups: PoolGroup[] }

export interface PoolConfiguration { uid?: string; url: string; user: string; password?: string; enabled?: boolean }
export interface PoolGroupConfiguration {
  uid?: string;
  name: string;
  load_balance_strategy?: 'quota' | 'fixed_share_ratio';
  quota?: Quota;
  fixed_share_ratio?: FixedShareRatio;
  pools: PoolConfiguration[];
}
export interface SetPoolGroupsRequest { save_action: number; pool_groups: PoolGroupConfiguration[] }
export interface SetPoolGroupsResponse { pool_groups: PoolGroupConfiguration[] }

export interface TunerConfiguration { enabled?: boolean; tuner_mode?: number; power_target?: Power; hashrate_target?: TeraHashrate }
export interface CoolingConfiguration {
  mode?: 'auto' | 'manual' | 'disabled' | 'immersion' | 'hydro';
  auto?: { target_temperature?: Temperature };
  manual?: { fan_speed_ratio?: number };
}
export interface GetMinerConfigurationResponse {
  pool_groups: PoolGroupConfiguration[];
  temperature?: CoolingConfiguration;
  tuner?: TunerConfiguration;
}

export interface GetTunerStateResponse {
  overall_tuner_state?: number;
  mode_state?: 'power_target_mode_state' | 'hashrate_target_mode_state';
  power_target_mode_state?: { current_target?: Power; profile?: { target?: Power; estimated_power_consumption?: Power } };
  hashrate_target_mode_state?: { current_target?: TeraHashrate };
}

export interface SetPowerTargetRequest { save_action: number; power_target: Power }
export interface SetPowerTargetResponse { power_target?: Power }

export interface PowerConstraints { default?: Power; min?: Power; max?: Power }
export interface GetConstraintsResponse { tuner_constraints?: { power_target?: PowerConstraints } }

export interface LocateDeviceStatusResponse { enabled?: boolean }
export interface SetLocateDeviceStatusRequest { enable: boolean }

/** braiins.bos.ApiVersion: the API's version (1.11.0 = Braiins OS 26.05), not the OS version. */
export interface ApiVersion { major?: number; minor?: number; patch?: number; pre?: string; build?: string }
