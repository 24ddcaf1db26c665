import { antminerPersonality } from './antminer.personality';
import { avalonPersonality } from './avalon.personality';
import { braiinsPersonality } from './braiins.personality';
import { bfgminerPersonality, cgminer2Personality, genericPersonality, type GenericFlavor } from './generic.personality';
import { createLuxosPersonality } from './luxos.personality';
import type { CgminerPersonality, SimDialect } from './personality';
import { createWhatsminerPersonality } from './whatsminer.personality';

export interface PersonalityHooks {
  adminPassword: () => string;
  writeEnabled: () => boolean;
}

/** One personality per simulator instance (some hold sessions and tokens). */
export function personalityFor(dialect: SimDialect, hooks: PersonalityHooks, flavor: GenericFlavor = 'cgminer-4'): CgminerPersonality {
  switch (dialect) {
    case 'cgminer': return flavor === 'cgminer-2' ? cgminer2Personality : flavor === 'bfgminer' ? bfgminerPersonality : genericPersonality;
    case 'antminer': return antminerPersonality;
    case 'whatsminer': return createWhatsminerPersonality(hooks.adminPassword, hooks.writeEnabled);
    case 'avalon': return avalonPersonality;
    case 'braiins': return braiinsPersonality;
    case 'luxos': return createLuxosPersonality();
  }
}

/** Software versions of the generic flavors, as observed on real processes. */
export const FLAVOR_SOFTWARE: Readonly<Record<GenericFlavor, string>> = { 'cgminer-4': '4.11.1', 'cgminer-2': '2.11.4', bfgminer: '5.5.0' };

/** Model, software and layout that make each personality look like the hardware it imitates. */
export const DIALECT_DEFAULTS: Readonly<Record<SimDialect, { model: string; software: string }>> = {
  cgminer: { model: 'Rigwarden SimASIC X1', software: '4.11.1' },
  antminer: { model: 'Antminer S19 Pro', software: '1.0.0' },
  whatsminer: { model: 'Whatsminer M31S', software: '20201202.22.REL' },
  avalon: { model: 'Avalon 1566', software: '4.11.1' },
  braiins: { model: 'Antminer S9', software: '0.2.0' },
  luxos: { model: 'Antminer S19j Pro', software: '2024.1.1.123456-abcdef0' },
};
export type { GenericFlavor } from './generic.personality';
