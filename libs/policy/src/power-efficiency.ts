/**
 * Power and efficiency of rigs, groups and sites: pure arithmetic over readings the caller hands in.
 *
 * Power comes from the best source there is: the miner's own reading (its total, else the sum of its boards/GPUs),
 * else a PDU outlet's reading, else the nominal power of the rig's profile, which is marked as estimated.
 * Efficiency is joules per unit of work: J/TH for SHA-256 ASICs, J/MH for scrypt and GPU algorithms.
 */
import type { ProfileSpec } from './policy-types';

export type PowerSource = 'miner' | 'pdu' | 'nominal';

export interface PowerReading {
  readonly watts: number;
  readonly source: PowerSource;
  /** True when the watts are the profile's nominal power, not a measurement. */
  readonly estimated: boolean;
}

export interface PowerInputs {
  /** The miner's total power reading (MinerSnapshot.power_w), in W. */
  readonly minerPowerW?: number;
  /** The miner's per-board / per-GPU readings, summed when there is no total. */
  readonly boardPowerW?: readonly (number | undefined)[];
  /** The reading of the PDU outlet that feeds the rig, in W. */
  readonly pduOutletPowerW?: number;
  /** The rig's current profile (its nominalPowerW is the last resort). */
  readonly profile?: Pick<ProfileSpec, 'nominalPowerW'>;
}

const usable = (w: number | undefined): w is number => w !== undefined && Number.isFinite(w) && w >= 0;

/** The rig's power from the best source; undefined when no source has a usable value. */
export function rigPower(inputs: PowerInputs): PowerReading | undefined {
  if (usable(inputs.minerPowerW) && inputs.minerPowerW > 0) return { watts: inputs.minerPowerW, source: 'miner', estimated: false };
  const boards = (inputs.boardPowerW ?? []).filter(usable);
  if (boards.length > 0 && boards.some((w) => w > 0)) return { watts: boards.reduce((a, b) => a + b, 0), source: 'miner', estimated: false };
  if (usable(inputs.pduOutletPowerW)) return { watts: inputs.pduOutletPowerW, source: 'pdu', estimated: false };
  const nominal = inputs.profile?.nominalPowerW;
  if (usable(nominal)) return { watts: nominal, source: 'nominal', estimated: true };
  return undefined;
}

export type EfficiencyUnit = 'J/TH' | 'J/MH';

/** Algorithms whose efficiency is quoted per MH (scrypt ASICs and GPU algorithms); the rest per TH. */
const PER_MH_ALGORITHMS = new Set(['scrypt', 'ethash', 'etchash', 'kawpow', 'autolykos', 'autolykos2', 'randomx', 'equihash', 'kheavyhash', 'octopus', 'firopow', 'progpow']);

/** J/TH for SHA-256 (and unknown ASIC algorithms), J/MH for scrypt and GPU algorithms. */
export function efficiencyUnit(algorithm: string | undefined, kind?: 'asic' | 'gpu'): EfficiencyUnit {
  const a = (algorithm ?? '').toLowerCase();
  if (PER_MH_ALGORITHMS.has(a)) return 'J/MH';
  if (a === '' && kind === 'gpu') return 'J/MH';
  return 'J/TH';
}

/** Hashes per second in one unit of the efficiency's denominator. */
export function unitHs(unit: EfficiencyUnit): number {
  return unit === 'J/TH' ? 1e12 : 1e6;
}

export interface Efficiency {
  readonly value: number;
  readonly unit: EfficiencyUnit;
  /** True when the power behind it is an estimate. */
  readonly estimated: boolean;
}

/** Joules per TH (or MH): watts divided by hashrate in TH/s (MH/s). Undefined with no power or no hashrate. */
export function efficiency(power: PowerReading | undefined, hashrateHs: number | undefined, unit: EfficiencyUnit): Efficiency | undefined {
  if (power === undefined || hashrateHs === undefined || !Number.isFinite(hashrateHs) || hashrateHs <= 0) return undefined;
  return { value: power.watts / (hashrateHs / unitHs(unit)), unit, estimated: power.estimated };
}

export interface RigPowerRow {
  readonly rigId: string;
  readonly hashrateHs?: number;
  readonly power?: PowerReading;
  readonly unit: EfficiencyUnit;
}

export interface PowerRollup {
  readonly rigs: number;
  /** Rigs with a power figure (measured or estimated). */
  readonly rigsWithPower: number;
  /** Of those, how many are estimated. */
  readonly estimatedRigs: number;
  readonly powerW: number;
  /** Per efficiency unit (a site can mine SHA-256 and scrypt): the hashrate and power of rigs with both, and J/unit. */
  readonly byUnit: Readonly<Partial<Record<EfficiencyUnit, { readonly hashrateHs: number; readonly powerW: number; readonly efficiency: number; readonly estimated: boolean }>>>;
}

/**
 * Sums a group's or a site's rigs. Efficiency per unit is total power over total hashrate of the rigs that have
 * both (a weighted mean, not the mean of the rigs' ratios), and is estimated when any of them is.
 */
export function rollupPower(rows: readonly RigPowerRow[]): PowerRollup {
  const byUnit: Partial<Record<EfficiencyUnit, { hashrateHs: number; powerW: number; efficiency: number; estimated: boolean }>> = {};
  let powerW = 0;
  let rigsWithPower = 0;
  let estimatedRigs = 0;
  for (const row of rows) {
    if (row.power === undefined) continue;
    rigsWithPower += 1;
    if (row.power.estimated) estimatedRigs += 1;
    powerW += row.power.watts;
    if (row.hashrateHs === undefined || !(row.hashrateHs > 0)) continue;
    const u = (byUnit[row.unit] ??= { hashrateHs: 0, powerW: 0, efficiency: 0, estimated: false });
    u.hashrateHs += row.hashrateHs;
    u.powerW += row.power.watts;
    u.estimated ||= row.power.estimated;
  }
  for (const unit of Object.keys(byUnit) as EfficiencyUnit[]) {
    const u = byUnit[unit]!;
    u.efficiency = u.powerW / (u.hashrateHs / unitHs(unit));
  }
  return { rigs: rows.length, rigsWithPower, estimatedRigs, powerW, byUnit };
}

/** Groups rows by a key (group name, site) and rolls each up. */
export function rollupPowerBy(rows: readonly RigPowerRow[], keyOf: (row: RigPowerRow) => string): Map<string, PowerRollup> {
  const buckets = new Map<string, RigPowerRow[]>();
  for (const row of rows) {
    const k = keyOf(row);
    const list = buckets.get(k);
    if (list) list.push(row);
    else buckets.set(k, [row]);
  }
  return new Map([...buckets].map(([k, list]) => [k, rollupPower(list)]));
}
