/**
 * Economics of rigs and fleets: revenue from the hashprice, cost from the site's electricity tariff, profit, and
 * the break-even tariff. Pure: the time of day comes in as `now`, nothing here reads a clock or fetches a price.
 *
 *   revenue/day = hashrate in TH/s (or MH/s) × hashprice per TH/day (or MH/day)
 *   cost/day    = power in kW × 24 h × the tariff's price per kWh at `now`
 *   profit/day  = revenue/day − cost/day
 *   break-even  = revenue/day ÷ (kW × 24 h): the price per kWh at which profit is zero
 */
import type { EpochMs } from './policy-types';

/** A time-of-use window: [from, to) in local "HH:MM"; `to` before `from` wraps past midnight ("22:00"–"06:00"). */
export interface TariffWindow {
  readonly from: string;
  readonly to: string;
  readonly pricePerKwh: number;
  /** Local weekdays the window applies on, 0 = Sunday; absent: every day. */
  readonly days?: readonly number[];
}

/** A site's electricity tariff: a flat price, or time-of-use windows over a price for the rest of the day. */
export interface Tariff {
  /** The operator's currency code ("USD", "EUR", "kWh-credits"): never converted. */
  readonly currency: string;
  /** The price per kWh outside every window (the whole day for a flat tariff). */
  readonly pricePerKwh: number;
  readonly windows?: readonly TariffWindow[];
  /** The site's offset from UTC in minutes (+60 for CET in winter), for the windows' local times. Default 0. */
  readonly utcOffsetMinutes?: number;
}

export type HashUnit = 'TH' | 'MH';

/** Revenue per unit of hashrate per day for one algorithm (hashprice). */
export interface Hashprice {
  readonly currency: string;
  /** Revenue per TH/s (or MH/s) per day. */
  readonly perUnitPerDay: number;
  readonly unit: HashUnit;
}

export class EconomicsError extends Error {
  override readonly name = 'EconomicsError';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Minutes after local midnight of an "HH:MM"; throws EconomicsError when it is not one. */
export function minuteOfDay(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new EconomicsError(`"${hhmm}" is not a time of day as HH:MM`, 'from/to');
  return hhmm === '24:00' ? 1440 : Number(m[1]) * 60 + Number(m[2]);
}

function inWindow(w: TariffWindow, minute: number, weekday: number): boolean {
  const from = minuteOfDay(w.from);
  const to = minuteOfDay(w.to);
  if (from === to) return false;
  if (from < to) return minute >= from && minute < to && (w.days === undefined || w.days.includes(weekday));
  // Wraps past midnight: the part before midnight belongs to the window's day, the part after to the day before.
  if (minute >= from) return w.days === undefined || w.days.includes(weekday);
  return minute < to && (w.days === undefined || w.days.includes((weekday + 6) % 7));
}

export interface TariffPrice {
  readonly pricePerKwh: number;
  readonly currency: string;
  /** The window that set the price ("22:00-06:00"), absent for the base price. */
  readonly window?: string;
}

/** The tariff's price per kWh at `now`: the first window that holds the site's local time, else the base price. */
export function priceAt(tariff: Tariff, now: EpochMs): TariffPrice {
  const local = now + (tariff.utcOffsetMinutes ?? 0) * 60_000;
  const day = Math.floor(local / 86_400_000);
  const minute = Math.floor((local - day * 86_400_000) / 60_000);
  // 1970-01-01 was a Thursday (4).
  const weekday = (((day + 4) % 7) + 7) % 7;
  for (const w of tariff.windows ?? []) {
    if (inWindow(w, minute, weekday)) return { pricePerKwh: w.pricePerKwh, currency: tariff.currency, window: `${w.from}-${w.to}` };
  }
  return { pricePerKwh: tariff.pricePerKwh, currency: tariff.currency };
}

/** The time-weighted mean price over the local day that holds `now` (minute by minute): what a rig running all day pays per kWh. */
export function dayAveragePrice(tariff: Tariff, now: EpochMs): number {
  const offset = (tariff.utcOffsetMinutes ?? 0) * 60_000;
  const localMidnight = Math.floor((now + offset) / 86_400_000) * 86_400_000 - offset;
  let sum = 0;
  for (let m = 0; m < 1440; m += 1) sum += priceAt(tariff, localMidnight + m * 60_000).pricePerKwh;
  return sum / 1440;
}

/** Problems with a tariff, each naming its field (empty when valid). */
export function validateTariff(t: Tariff, at = 'tariff'): string[] {
  const errors: string[] = [];
  if (typeof t.currency !== 'string' || t.currency.trim() === '') errors.push(`${at}.currency: must name a currency`);
  if (!(Number.isFinite(t.pricePerKwh) && t.pricePerKwh >= 0)) errors.push(`${at}.pricePerKwh: must be a number >= 0`);
  if (t.utcOffsetMinutes !== undefined && !(Number.isInteger(t.utcOffsetMinutes) && Math.abs(t.utcOffsetMinutes) <= 14 * 60)) errors.push(`${at}.utcOffsetMinutes: must be a whole number of minutes within ±840`);
  (t.windows ?? []).forEach((w, i) => {
    const wat = `${at}.windows[${i}]`;
    for (const k of ['from', 'to'] as const) {
      if (typeof w[k] !== 'string' || !HHMM.test(w[k])) errors.push(`${wat}.${k}: must be HH:MM`);
    }
    if (!(Number.isFinite(w.pricePerKwh) && w.pricePerKwh >= 0)) errors.push(`${wat}.pricePerKwh: must be a number >= 0`);
    if (w.days !== undefined && !(Array.isArray(w.days) && w.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))) errors.push(`${wat}.days: must be weekdays 0 (Sunday) to 6`);
  });
  return errors;
}

/** Problems with a hashprice (empty when valid). */
export function validateHashprice(h: Hashprice, at = 'hashprice'): string[] {
  const errors: string[] = [];
  if (typeof h.currency !== 'string' || h.currency.trim() === '') errors.push(`${at}.currency: must name a currency`);
  if (!(Number.isFinite(h.perUnitPerDay) && h.perUnitPerDay >= 0)) errors.push(`${at}.perUnitPerDay: must be a number >= 0`);
  if (h.unit !== 'TH' && h.unit !== 'MH') errors.push(`${at}.unit: must be TH or MH`);
  return errors;
}

export interface RigEconomicsInput {
  readonly rigId: string;
  readonly hashrateHs: number;
  readonly powerW: number;
  /** True when the power is the profile's nominal figure: the cost and profit are then estimates too. */
  readonly powerEstimated?: boolean;
  readonly hashprice: Hashprice;
  readonly tariff: Tariff;
}

export interface RigEconomics {
  readonly rigId: string;
  readonly currency: string;
  readonly revenuePerDay: number;
  readonly costPerDay: number;
  readonly profitPerDay: number;
  /** The energy a day at the current power: kW × 24 h. */
  readonly energyKwhPerDay: number;
  /** The price per kWh now, and the window that set it. */
  readonly pricePerKwh: number;
  readonly tariffWindow?: string;
  /** The price per kWh at which profit is zero; undefined when the rig draws no power. */
  readonly breakEvenPerKwh?: number;
  readonly losesMoney: boolean;
  readonly estimated: boolean;
}

const unitHsOf = (u: HashUnit): number => (u === 'TH' ? 1e12 : 1e6);

/** Revenue, cost and profit per day of one rig at the current hashrate, power and price. */
export function rigEconomics(input: RigEconomicsInput, now: EpochMs): RigEconomics {
  if (input.hashprice.currency !== input.tariff.currency) {
    throw new EconomicsError(`rig ${input.rigId}: hashprice in ${input.hashprice.currency} but tariff in ${input.tariff.currency}`, 'currency');
  }
  const price = priceAt(input.tariff, now);
  const hashrate = Math.max(0, input.hashrateHs);
  const kwhPerDay = (Math.max(0, input.powerW) / 1000) * 24;
  const revenuePerDay = (hashrate / unitHsOf(input.hashprice.unit)) * input.hashprice.perUnitPerDay;
  const costPerDay = kwhPerDay * price.pricePerKwh;
  const profitPerDay = revenuePerDay - costPerDay;
  return {
    rigId: input.rigId,
    currency: price.currency,
    revenuePerDay,
    costPerDay,
    profitPerDay,
    energyKwhPerDay: kwhPerDay,
    pricePerKwh: price.pricePerKwh,
    ...(price.window !== undefined ? { tariffWindow: price.window } : {}),
    ...(kwhPerDay > 0 ? { breakEvenPerKwh: revenuePerDay / kwhPerDay } : {}),
    losesMoney: profitPerDay < 0,
    estimated: input.powerEstimated === true,
  };
}

export interface FleetEconomics {
  readonly currency: string;
  readonly rigs: number;
  readonly losingRigs: number;
  readonly revenuePerDay: number;
  readonly costPerDay: number;
  readonly profitPerDay: number;
  /** The flat price per kWh at which the fleet as a whole breaks even. */
  readonly breakEvenPerKwh?: number;
  readonly estimated: boolean;
}

/** Sums rigs per currency (a fleet priced in one currency has one entry), the break-even from the totals. */
export function fleetEconomics(rigs: readonly RigEconomics[]): FleetEconomics[] {
  const by = new Map<string, { rigs: number; losing: number; revenue: number; cost: number; kwhPerDay: number; estimated: boolean }>();
  for (const r of rigs) {
    const f = by.get(r.currency) ?? { rigs: 0, losing: 0, revenue: 0, cost: 0, kwhPerDay: 0, estimated: false };
    f.rigs += 1;
    if (r.losesMoney) f.losing += 1;
    f.revenue += r.revenuePerDay;
    f.cost += r.costPerDay;
    f.kwhPerDay += r.energyKwhPerDay;
    f.estimated ||= r.estimated;
    by.set(r.currency, f);
  }
  return [...by].map(([currency, f]) => ({
    currency,
    rigs: f.rigs,
    losingRigs: f.losing,
    revenuePerDay: f.revenue,
    costPerDay: f.cost,
    profitPerDay: f.revenue - f.cost,
    ...(f.kwhPerDay > 0 ? { breakEvenPerKwh: f.revenue / f.kwhPerDay } : {}),
    estimated: f.estimated,
  }));
}

/** Rigs by profit per day, highest first; ties by rig id. */
export function byProfit<T extends Pick<RigEconomics, 'rigId' | 'profitPerDay'>>(rigs: readonly T[]): T[] {
  return [...rigs].sort((a, b) => b.profitPerDay - a.profitPerDay || a.rigId.localeCompare(b.rigId));
}
