/**
 * A thermal profile step as a command: the agent's profile by name, or the miner's own power control when the
 * policy chose it (a miner without overclock), with the power settings a fleet profile may hold.
 */
import type { Decision } from '@rigwarden/policy';
import { FleetError } from '../fleet/fleet-error';
import { parseFleetSpec, specForRig } from '../fleet/fleet-spec';
import { commandFor } from './rig-reconciler.service';

const decision = (kind: 'apply-profile' | 'resume-mining', params: Record<string, unknown>): Decision =>
  ({ policy: 'thermal', kind, reason: 'temperature-high', severity: 'warning', rigId: 'r-1', at: 0, message: '', params } as unknown as Decision);

describe('commandFor: a profile step', () => {
  it.each<[string, 'apply-profile' | 'resume-mining', Record<string, unknown>, unknown]>([
    ['via power mode: SetPowerMode', 'apply-profile', { profile: 'eco', settings: { asic: { powerMode: 'low' } }, via: 'power-mode', fromProfile: 'normal', direction: 'down' },
      { $case: 'setPowerMode', value: { mode: 'low' } }],
    ['via power target: SetPowerTarget', 'apply-profile', { profile: 'eco', settings: { asic: { powerTargetW: 2500 } }, via: 'power-target', fromProfile: 'normal', direction: 'down' },
      { $case: 'setPowerTarget', value: { watts: 2500 } }],
    ['resume after a critical stop, via power mode', 'resume-mining', { profile: 'eco', settings: { asic: { powerMode: 'low' } }, via: 'power-mode', tempC: 60 },
      { $case: 'setPowerMode', value: { mode: 'low' } }],
    ['no via: the agent profile by name', 'apply-profile', { profile: 'eco', settings: { asic: { workMode: '0', powerMode: 'low' } }, fromProfile: 'normal', direction: 'down' },
      { $case: 'applyProfile', value: { profile: 'eco' } }],
    ['via without the setting: the agent profile', 'apply-profile', { profile: 'eco', settings: { asic: { workMode: '0' } }, via: 'power-target', fromProfile: 'normal', direction: 'down' },
      { $case: 'applyProfile', value: { profile: 'eco' } }],
  ])('%s', (_name, kind, params, expected) => {
    expect(commandFor(decision(kind, params))).toEqual(expected);
  });
});

describe('commandFor: set-pools', () => {
  it('takes each pool\'s password from the rig\'s spec (a decision carries none)', () => {
    const d = { policy: 'failover', kind: 'set-pools', reason: 'spec-pools-missing', params: { pools: [{ url: 'stratum+tcp://a:3333', user: 'w' }, { url: 'stratum+tcp://b:3333', user: 'w' }], missing: [] } } as unknown as Decision;
    const spec = { pools: [{ url: 'stratum+tcp://a:3333', user: 'w', password: 'x' }, { url: 'stratum+tcp://b:3333', user: 'other', password: 'y' }] };
    expect(commandFor(d, spec)).toEqual({ $case: 'setPools', value: { pools: [
      { url: 'stratum+tcp://a:3333', user: 'w', password: 'x' }, { url: 'stratum+tcp://b:3333', user: 'w', password: '' },
    ] } });
  });
});

describe('fleet profiles with power settings', () => {
  const pools = [{ url: 'stratum+tcp://pool.example:3333', user: 'u' }];
  it('keeps a power mode and a power target next to the work mode', () => {
    const fleet = parseFleetSpec({ groups: [{
      name: 'g', match: { rigIdPrefix: 'r-' }, pools, desiredProfile: 'normal',
      profiles: [{ name: 'eco', asic: { workMode: 0, powerMode: 'low', powerTargetW: 2500 } }, { name: 'normal', asic: { powerMode: 'normal', powerTargetW: 3250 } }],
    }] }, 'fleet.yaml');
    expect(specForRig(fleet, { rigId: 'r-1' })!.profiles).toEqual([
      { name: 'eco', asic: { workMode: '0', powerMode: 'low', powerTargetW: 2500 } },
      { name: 'normal', asic: { powerMode: 'normal', powerTargetW: 3250 } },
    ]);
  });
  it.each([
    [{ powerMode: 'turbo' }, 'groups[0].profiles[0].asic.powerMode: must be one of normal, low, sleep'],
    [{ powerTargetW: 0 }, 'groups[0].profiles[0].asic.powerTargetW: must be a whole number of watts from 1 to 100000'],
    [{ powerTargetW: 2500.5 }, 'groups[0].profiles[0].asic.powerTargetW: must be a whole number of watts from 1 to 100000'],
  ])('refuses %j, naming the key', (asic, message) => {
    let error: unknown;
    try {
      parseFleetSpec({ groups: [{ name: 'g', match: { rigIdPrefix: 'r-' }, pools, profiles: [{ name: 'eco', asic }] }] }, 'fleet.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FleetError);
    expect((error as Error).message).toContain(message);
  });
});
