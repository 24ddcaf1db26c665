import { chooseAsicSettings, settingsFor } from './profile-settings';
import type { AsicProfileSettings, RigObservation } from './policy-types';
import { ThermalPolicy } from './thermal.policy';
import { FANS, MIN, SEC, T0, boards, input, rigSpec, series } from './testing/policy-fixtures';

/** One step said three ways, for a group of mixed firmware. */
const MIXED: AsicProfileSettings = { workMode: '0', powerMode: 'low', powerTargetW: 2500 };

describe('chooseAsicSettings: the way a profile reaches a miner, by what the miner accepts', () => {
  const table: ReadonlyArray<{ name: string; asic: AsicProfileSettings; capabilities: readonly string[] | undefined; path: string; settings: AsicProfileSettings }> = [
    { name: 'Braiins OS+ (power target)', asic: MIXED, capabilities: ['read', 'set-pools', 'restart', 'power-target'], path: 'power-target', settings: { powerTargetW: 2500 } },
    { name: 'Whatsminer v3 (both): the power target', asic: MIXED, capabilities: ['read', 'power-mode', 'power-target'], path: 'power-target', settings: { powerTargetW: 2500 } },
    { name: 'Whatsminer v3, profile without watts: the power mode', asic: { powerMode: 'low' }, capabilities: ['read', 'power-mode', 'power-target'], path: 'power-mode', settings: { powerMode: 'low' } },
    { name: 'stock Antminer web UI (power mode, no overclock)', asic: MIXED, capabilities: ['read', 'switch-pool', 'set-pools', 'reboot', 'power-mode', 'fault-light'], path: 'power-mode', settings: { powerMode: 'low' } },
    { name: 'cgminer Avalon (work mode through the agent profile)', asic: MIXED, capabilities: ['read', 'switch-pool', 'restart'], path: 'profile', settings: { workMode: '0' } },
    { name: 'overclock only: frequency through the agent profile', asic: { frequencyMhz: 500, powerMode: 'low' }, capabilities: ['read', 'overclock'], path: 'profile', settings: { frequencyMhz: 500 } },
    { name: 'capabilities unknown: every setting, the agent decides', asic: MIXED, capabilities: undefined, path: 'profile', settings: MIXED },
    { name: 'an empty list is unknown too', asic: MIXED, capabilities: [], path: 'profile', settings: MIXED },
    { name: 'power settings only, the miner takes neither: kept for the agent profile', asic: { powerMode: 'low' }, capabilities: ['read'], path: 'profile', settings: { powerMode: 'low' } },
  ];
  it.each(table)('$name', ({ asic, capabilities, path, settings }) => {
    expect(chooseAsicSettings(asic, capabilities)).toEqual({ path, asic: settings });
  });

  it('leaves GPU settings as they are', () => {
    expect(settingsFor({ name: 'eco', gpu: { powerLimitW: 150 } }, ['read', 'overclock'])).toEqual({ gpu: { powerLimitW: 150 } });
  });
});

describe('thermal step-down on a miner without overclock: the power mode or power target it has', () => {
  const policy = new ThermalPolicy();
  const spec = rigSpec({
    profiles: [
      { name: 'eco', asic: { workMode: '0', powerMode: 'low', powerTargetW: 2500 } },
      { name: 'normal', asic: { workMode: '1', powerMode: 'normal', powerTargetW: 3250 } },
    ],
    desiredProfile: 'normal',
  });
  /** 65 °C for ten minutes, then 84 °C for the last 60 s (above the default 80 °C for its 60 s), at the fixed T0. */
  const hot = (capabilities?: readonly string[]): RigObservation[] =>
    series(T0 - 10 * MIN, T0, (at) => ({ boards: boards(3, 60, { 1: { tempC: at >= T0 - 60 * SEC ? 84 : 65 } }), fans: FANS }))
      .map((o) => (capabilities ? { ...o, capabilities } : o));

  const table: ReadonlyArray<{ name: string; capabilities?: readonly string[]; settings: AsicProfileSettings; via?: string }> = [
    { name: 'stock Antminer web UI: normal -> low power mode', capabilities: ['read', 'set-pools', 'reboot', 'power-mode', 'fault-light'], settings: { powerMode: 'low' }, via: 'power-mode' },
    { name: 'Braiins OS+: the lower power target', capabilities: ['read', 'set-pools', 'restart', 'reboot', 'power-target', 'fault-light'], settings: { powerTargetW: 2500 }, via: 'power-target' },
    { name: 'Whatsminer v3: the lower power target', capabilities: ['read', 'set-pools', 'restart', 'power-mode', 'power-target'], settings: { powerTargetW: 2500 }, via: 'power-target' },
    { name: 'cgminer with work modes: the agent profile', capabilities: ['read', 'switch-pool', 'restart'], settings: { workMode: '0' } },
    { name: 'older agent (no capabilities): every setting', settings: { workMode: '0', powerMode: 'low', powerTargetW: 2500 } },
  ];
  it.each(table)('$name', ({ capabilities, settings, via }) => {
    const decisions = policy.evaluate(input(spec, hot(capabilities)), T0);
    expect(decisions).toEqual([expect.objectContaining({
      kind: 'apply-profile', reason: 'temperature-high',
      params: { profile: 'eco', settings: { asic: settings }, ...(via ? { via } : {}), fromProfile: 'normal', direction: 'down', tempC: 84 },
    })]);
  });

  it('steps back up the same way once cool', () => {
    const cool = series(T0 - 20 * MIN, T0, () => ({ boards: boards(3, 60), fans: FANS })).map((o) => ({ ...o, capabilities: ['read', 'power-mode'] }));
    const down = { at: T0 - 20 * MIN, kind: 'apply-profile' as const, reason: 'temperature-high', by: 'thermal' as const, params: { profile: 'eco', direction: 'down' } };
    expect(policy.evaluate(input(spec, cool, [down]), T0)).toEqual([expect.objectContaining({
      kind: 'apply-profile', reason: 'temperature-recovered',
      params: expect.objectContaining({ profile: 'normal', settings: { asic: { powerMode: 'normal' } }, via: 'power-mode', direction: 'up' }),
    })]);
  });
});
