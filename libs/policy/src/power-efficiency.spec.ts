import { efficiency, efficiencyUnit, rigPower, rollupPower, rollupPowerBy, type PowerInputs, type PowerReading, type RigPowerRow } from './power-efficiency';

describe('power-efficiency: rigPower picks the best source', () => {
  const cases: Array<[string, PowerInputs, PowerReading | undefined]> = [
    ['the miner total wins over everything', { minerPowerW: 3250, boardPowerW: [1000], pduOutletPowerW: 3400, profile: { nominalPowerW: 3000 } }, { watts: 3250, source: 'miner', estimated: false }],
    ['board readings are summed without a total', { boardPowerW: [150, 150, undefined, 200], pduOutletPowerW: 600 }, { watts: 500, source: 'miner', estimated: false }],
    ['a zero miner total (firmware that does not read power) falls to the PDU', { minerPowerW: 0, pduOutletPowerW: 3310 }, { watts: 3310, source: 'pdu', estimated: false }],
    ['the PDU outlet without a miner reading', { pduOutletPowerW: 3310, profile: { nominalPowerW: 3000 } }, { watts: 3310, source: 'pdu', estimated: false }],
    ['the profile nominal power as the last resort, estimated', { profile: { nominalPowerW: 3000 } }, { watts: 3000, source: 'nominal', estimated: true }],
    ['a negative or non-finite reading is not a source', { minerPowerW: -5, pduOutletPowerW: Number.NaN, profile: { nominalPowerW: 2100 } }, { watts: 2100, source: 'nominal', estimated: true }],
    ['nothing at all', {}, undefined],
  ];
  it.each(cases)('%s', (_name, inputs, expected) => {
    expect(rigPower(inputs)).toEqual(expected);
  });
});

describe('power-efficiency: efficiencyUnit', () => {
  it.each([
    ['sha256d', 'asic', 'J/TH'],
    ['scrypt', 'asic', 'J/MH'],
    ['ethash', 'gpu', 'J/MH'],
    ['KawPow', 'gpu', 'J/MH'],
    [undefined, 'gpu', 'J/MH'],
    [undefined, 'asic', 'J/TH'],
    ['', undefined, 'J/TH'],
  ] as const)('%s on %s is %s', (algorithm, kind, unit) => {
    expect(efficiencyUnit(algorithm, kind)).toBe(unit);
  });
});

describe('power-efficiency: efficiency', () => {
  const measured: PowerReading = { watts: 3250, source: 'miner', estimated: false };
  it.each([
    ['an S19 Pro at 110 TH/s and 3250 W is 29.5 J/TH', measured, 110e12, 'J/TH', { value: 3250 / 110, unit: 'J/TH', estimated: false }],
    ['a scrypt L7 at 9500 MH/s and 3425 W is 0.36 J/MH', { watts: 3425, source: 'pdu', estimated: false }, 9500e6, 'J/MH', { value: 3425 / 9500, unit: 'J/MH', estimated: false }],
    ['estimated power makes the efficiency estimated', { watts: 3000, source: 'nominal', estimated: true }, 100e12, 'J/TH', { value: 30, unit: 'J/TH', estimated: true }],
    ['no hashrate, no efficiency', measured, 0, 'J/TH', undefined],
    ['no power, no efficiency', undefined, 110e12, 'J/TH', undefined],
  ] as const)('%s', (_name, power, hashrate, unit, expected) => {
    const got = efficiency(power, hashrate, unit);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toEqual({ ...expected, value: expect.closeTo(expected.value, 10) });
  });
});

describe('power-efficiency: rollups', () => {
  const rows: RigPowerRow[] = [
    { rigId: 'a', hashrateHs: 100e12, power: { watts: 3000, source: 'miner', estimated: false }, unit: 'J/TH' },
    { rigId: 'b', hashrateHs: 50e12, power: { watts: 2000, source: 'nominal', estimated: true }, unit: 'J/TH' },
    { rigId: 'c', hashrateHs: 0, power: { watts: 100, source: 'pdu', estimated: false }, unit: 'J/TH' },
    { rigId: 'd', hashrateHs: 500e6, power: { watts: 900, source: 'miner', estimated: false }, unit: 'J/MH' },
    { rigId: 'e', hashrateHs: 10e12, unit: 'J/TH' },
  ];

  it('power-rollup: efficiency is total power over total hashrate of rigs that have both, per unit', () => {
    const r = rollupPower(rows);
    expect(r).toMatchObject({ rigs: 5, rigsWithPower: 4, estimatedRigs: 1, powerW: 6000 });
    expect(r.byUnit['J/TH']).toEqual({ hashrateHs: 150e12, powerW: 5000, efficiency: 5000 / 150, estimated: true });
    expect(r.byUnit['J/MH']).toEqual({ hashrateHs: 500e6, powerW: 900, efficiency: 1.8, estimated: false });
  });

  it('power-rollup: no rigs is zero power and no efficiency', () => {
    expect(rollupPower([])).toEqual({ rigs: 0, rigsWithPower: 0, estimatedRigs: 0, powerW: 0, byUnit: {} });
  });

  it('power-rollup: by key rolls up each group separately', () => {
    const byGroup = rollupPowerBy(rows, (r) => (r.rigId < 'c' ? 'row1' : 'row2'));
    expect(byGroup.get('row1')?.powerW).toBe(5000);
    expect(byGroup.get('row2')?.powerW).toBe(1000);
    expect(byGroup.get('row2')?.byUnit['J/TH']).toBeUndefined();
  });
});
