import { antminerPersonality } from './antminer.personality';
import { avalonPersonality } from './avalon.personality';
import { braiinsPersonality } from './braiins.personality';
import { genericPersonality } from './generic.personality';
import { createLuxosPersonality } from './luxos.personality';
import type { CgminerPersonality, SimDialect } from './personality';
import { createWhatsminerPersonality } from './whatsminer.personality';

export interface PersonalityHooks {
  adminPassword: () => string;
  writeEnabled: () => boolean;
}

/** One personality per simulator instance (some hold sessions and tokens). */
export function personalityFor(dialect: SimDialect, hooks: PersonalityHooks): CgminerPersonality {
  switch (dialect) {
    case 'cgminer': return genericPersonality;
    case 'antminer': return antminerPersonality;
    case 'whatsminer': return createWhatsminerPersonality(hooks.adminPassword, hooks.writeEnabled);
    case 'avalon': return avalonPersonality;
    case 'braiins': return braiinsPersonality;
    case 'luxos': return createLuxosPersonality();
  }
}

/** Model, software and layout that make each personality look like the hardware it imitates. */
export const DIALECT_DEFAULTS: Readonly<Record<SimDialect, { model: string; software: string }>> = {
  cgminer: { model: 'Rigwarden SimASIC X1', software: '4.11.1' },
  antminer: { model: 'Antminer S19 Pro', software: '1.0.0' },
  whatsminer: { model: 'Whatsminer M31S', software: '20201202.22.REL' },
  avalon: { model: 'Avalon 1566', software: '4.11.1' },
  braiins: { model: 'Antminer S9', software: '0.2.0' },
  luxos: { model: 'Antminer S19j Pro', software: '2024.1.1.123456-abcdef0' },
};
