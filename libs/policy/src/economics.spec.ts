import { byProfit, dayAveragePrice, EconomicsError, fleetEconomics, priceAt, rigEconomics, validateHashprice, validateTariff, type Hashprice, type Tariff } from './economics';

// Wednesday 2026-12-02 00:00 UTC; fixed clock for every time-of-use case.
const MIDNIGHT = 1_796_169_600_000;
const at = (hhmm: string, dayOffset = 0): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return MIDNIGHT + dayOffset * 86_400_000 + (h * 60 + m) * 60_000;
};

const flat: Tariff = { currency: 'USD', pricePerKwh: 0.06 };
const tou: Tariff = {
  currency: 'USD',
  pricePerKwh: 0.05,
  windows: [
    { from: '17:00', to: '21:00', pricePerKwh: 0.2, days: [1, 2, 3, 4, 5] },
    { from: '22:00', to: '06:00', pricePerKwh: 0.03 },
  ],
};
const sha: Hashprice = { currency: 'USD', perUnitPerDay: 0.05, unit: 'TH' };

describe('economics: priceAt with a fixed clock', () => {
  it.each([
    ['a flat tariff at noon', flat, at('12:00'), 0.06, undefined],
    ['time-of-use base price at noon', tou, at('12:00'), 0.05, undefined],
    ['weekday peak at 17:00 (window start is inclusive)', tou, at('17:00'), 0.2, '17:00-21:00'],
    ['peak ends at 21:00 (window end is exclusive)', tou, at('21:00'), 0.05, undefined],
    ['no weekday peak on Saturday', tou, at('18:00', 3), 0.05, undefined],
    ['night window before midnight', tou, at('23:30'), 0.03, '22:00-06:00'],
    ['night window after midnight', tou, at('05:59'), 0.03, '22:00-06:00'],
    ['night window over at 06:00', tou, at('06:00'), 0.05, undefined],
    ['local time by the site offset: 16:30 UTC is 17:30 at +60', { ...tou, utcOffsetMinutes: 60 }, at('16:30'), 0.2, '17:00-21:00'],
  ] as const)('%s', (_name, tariff, now, price, window) => {
    const p = priceAt(tariff, now);
    expect(p.pricePerKwh).toBe(price);
    expect(p.window).toBe(window);
    expect(p.currency).toBe('USD');
  });

  it('economics: the day-average price weights each window by its minutes', () => {
    // Wednesday: 4 h at 0.20, 8 h at 0.03, 12 h at 0.05.
    expect(dayAveragePrice(tou, at('12:00'))).toBeCloseTo((4 * 0.2 + 8 * 0.03 + 12 * 0.05) / 24, 10);
    expect(dayAveragePrice(flat, at('12:00'))).toBeCloseTo(0.06, 10);
  });
});

describe('economics: rigEconomics', () => {
  it.each([
    // 110 TH/s × 0.05 = 5.50/day; 3.25 kW × 24 h = 78 kWh × 0.06 = 4.68/day.
    ['an S19 Pro on a flat tariff', 110e12, 3250, flat, at('12:00'), { revenuePerDay: 5.5, costPerDay: 4.68, profitPerDay: 0.82, breakEvenPerKwh: 5.5 / 78, losesMoney: false }],
    // At the 0.20 peak: 78 × 0.20 = 15.60/day.
    ['the same rig at the weekday peak loses money', 110e12, 3250, tou, at('18:00'), { revenuePerDay: 5.5, costPerDay: 15.6, profitPerDay: -10.1, losesMoney: true }],
    // An old S9: 13.5 TH/s × 0.05 = 0.675; 1.35 kW × 24 = 32.4 kWh × 0.06 = 1.944.
    ['an S9 loses money on the flat tariff', 13.5e12, 1350, flat, at('12:00'), { revenuePerDay: 0.675, costPerDay: 1.944, profitPerDay: 0.675 - 1.944, losesMoney: true }],
    ['a rig drawing nothing has no break-even', 0, 0, flat, at('12:00'), { revenuePerDay: 0, costPerDay: 0, profitPerDay: 0, breakEvenPerKwh: undefined, losesMoney: false }],
  ] as const)('%s', (_name, hashrateHs, powerW, tariff, now, expected) => {
    const e = rigEconomics({ rigId: 'r', hashrateHs, powerW, hashprice: sha, tariff }, now);
    for (const [k, v] of Object.entries(expected)) {
      if (typeof v === 'number') expect(e[k as keyof typeof e]).toBeCloseTo(v, 9);
      else expect(e[k as keyof typeof e]).toBe(v);
    }
  });

  it('economics: scrypt hashprice per MH/day', () => {
    const e = rigEconomics({ rigId: 'l7', hashrateHs: 9500e6, powerW: 3425, hashprice: { currency: 'USD', perUnitPerDay: 0.0011, unit: 'MH' }, tariff: flat }, at('12:00'));
    expect(e.revenuePerDay).toBeCloseTo(10.45, 9);
    expect(e.costPerDay).toBeCloseTo(3.425 * 24 * 0.06, 9);
  });

  it('economics: estimated power marks the result estimated', () => {
    expect(rigEconomics({ rigId: 'r', hashrateHs: 1e12, powerW: 100, powerEstimated: true, hashprice: sha, tariff: flat }, 0).estimated).toBe(true);
  });

  it('economics: a hashprice and a tariff in different currencies is an error', () => {
    expect(() => rigEconomics({ rigId: 'r', hashrateHs: 1e12, powerW: 100, hashprice: sha, tariff: { ...flat, currency: 'EUR' } }, 0)).toThrow(EconomicsError);
  });
});

describe('economics: fleet', () => {
  const rigs = [
    rigEconomics({ rigId: 's19', hashrateHs: 110e12, powerW: 3250, hashprice: sha, tariff: flat }, at('12:00')),
    rigEconomics({ rigId: 's9', hashrateHs: 13.5e12, powerW: 1350, hashprice: sha, tariff: flat }, at('12:00')),
  ];

  it('economics: fleet totals and break-even from total revenue over total energy', () => {
    const [f] = fleetEconomics(rigs);
    expect(f).toMatchObject({ currency: 'USD', rigs: 2, losingRigs: 1, estimated: false });
    expect(f.revenuePerDay).toBeCloseTo(6.175, 9);
    expect(f.costPerDay).toBeCloseTo(4.68 + 1.944, 9);
    expect(f.breakEvenPerKwh).toBeCloseTo(6.175 / (78 + 32.4), 9);
  });

  it('economics: rigs sort by profit, highest first', () => {
    expect(byProfit([...rigs].reverse()).map((r) => r.rigId)).toEqual(['s19', 's9']);
  });
});

describe('economics: validation names the field', () => {
  it.each([
    [{ currency: '', pricePerKwh: 0.05 }, 'tariff.currency: must name a currency'],
    [{ currency: 'USD', pricePerKwh: -1 }, 'tariff.pricePerKwh: must be a number >= 0'],
    [{ currency: 'USD', pricePerKwh: 0.05, windows: [{ from: '25:00', to: '06:00', pricePerKwh: 0.03 }] }, 'tariff.windows[0].from: must be HH:MM'],
    [{ currency: 'USD', pricePerKwh: 0.05, windows: [{ from: '22:00', to: '06:00', pricePerKwh: 0.03, days: [7] }] }, 'tariff.windows[0].days: must be weekdays 0 (Sunday) to 6'],
  ] as Array<[Tariff, string]>)('%j', (tariff, message) => {
    expect(validateTariff(tariff)).toContain(message);
  });

  it('economics: a valid tariff and hashprice have no errors', () => {
    expect(validateTariff(tou)).toEqual([]);
    expect(validateHashprice(sha)).toEqual([]);
    expect(validateHashprice({ currency: 'USD', perUnitPerDay: 1, unit: 'GH' as 'TH' })).toEqual(['hashprice.unit: must be TH or MH']);
  });
});
