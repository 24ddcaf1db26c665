import type { AsicProfileSettings, ProfileSettings, ProfileSpec } from './policy-types';

/** How a profile's ASIC settings reach the miner: the profile by name (the agent's own settings), a power mode, a power target. */
export type AsicSettingsPath = 'profile' | 'power-mode' | 'power-target';

/**
 * The settings of a profile that this miner can take, by what it reports it accepts. A profile may say one step in
 * several ways (`{ workMode: "0", powerMode: low, powerTargetW: 2500 }`) for a group of mixed firmware:
 * - a power target in watts when the miner has "power-target" and the profile gives one (Braiins OS+, Whatsminer v3);
 * - else the named power mode when it has "power-mode" and the profile gives one (a stock Antminer's web UI, which
 *   has no overclock, Whatsminer v3);
 * - else the profile's work mode and frequency, applied by the agent's profile of that name (cgminer-family APIs).
 * Unknown capabilities (an older agent, nothing read yet) keep every setting: the agent applies the profile.
 */
export function chooseAsicSettings(asic: AsicProfileSettings, capabilities: readonly string[] | undefined): { path: AsicSettingsPath; asic: AsicProfileSettings } {
  const known = capabilities !== undefined && capabilities.length > 0;
  if (known && asic.powerTargetW !== undefined && capabilities.includes('power-target')) return { path: 'power-target', asic: { powerTargetW: asic.powerTargetW } };
  if (known && asic.powerMode !== undefined && capabilities.includes('power-mode')) return { path: 'power-mode', asic: { powerMode: asic.powerMode } };
  if (!known) return { path: 'profile', asic };
  const { powerMode: _mode, powerTargetW: _target, ...rest } = asic;
  // Only power settings, and the miner takes neither: the agent's profile of that name is the last way.
  return { path: 'profile', asic: Object.keys(rest).length > 0 ? rest : asic };
}

/** A profile's settings for a decision, narrowed to what the miner takes (chooseAsicSettings). */
export function settingsFor(profile: ProfileSpec, capabilities: readonly string[] | undefined): ProfileSettings {
  return {
    ...(profile.asic ? { asic: chooseAsicSettings(profile.asic, capabilities).asic } : {}),
    ...(profile.gpu ? { gpu: profile.gpu } : {}),
  };
}
