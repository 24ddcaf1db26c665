import type { CgminerReply } from '../cgminer.client';
import { statusEntries } from '../cgminer.client';
import { str } from '../cgminer-values.util';
import { first } from './dialect-common';

/** The miner program and its version, as its VERSION reply names it. */
export interface MinerSoftware {
  /** Lower case: "cgminer", "bfgminer", "sgminer", "bmminer", "btminer", "bosminer", "bosminer+", "luxminer", ... */
  software: string;
  version: string;
}

/**
 * VERSION keys of the forks, checked before "CGMiner": most forks keep a "CGMiner" key for the cgminer code they
 * are built on (bfgminer 5.5.0 sends "CGMiner":"5.5.0-34-g866fd36f" next to "Miner":"bfgminer 5.5.0-34-g866fd36f";
 * stock Antminer sends "BMMiner" or a "CGMiner" it built on).
 */
const FORK_KEYS: readonly (readonly [string, string])[] = [
  ['BMMiner', 'bmminer'], ['BOSminer+', 'bosminer+'], ['BOSminer', 'bosminer'], ['LUXminer', 'luxminer'],
  ['BTMiner', 'btminer'], ['btminer', 'btminer'], ['SGMiner', 'sgminer'], ['sgminer', 'sgminer'],
  ['BFGMiner', 'bfgminer'], ['ccminer', 'ccminer'],
];

/**
 * "bfgminer 5.5.0-34-g866fd36f" -> bfgminer / 5.5.0-34-g866fd36f. Only a program name ending in "miner" counts:
 * Bitmain's "Miner":"30.0.1.3" is a build number and LuxOS's "Miner":"some id" an id, not programs.
 */
function nameAndVersion(text: string | undefined): MinerSoftware | undefined {
  const m = /^\s*([A-Za-z][A-Za-z_-]*miner\+?)\s+v?(\S.*?)\s*$/i.exec(text ?? '');
  if (!m) return undefined;
  return { software: m[1]!.toLowerCase(), version: m[2]! };
}

/**
 * Names the miner program from a VERSION record and the reply's STATUS Description ("bfgminer 5.5.0",
 * "cgminer 4.11.1", "btminer", "innominer a9-1.1.0"). Never fails: an empty software when nothing says.
 */
export function minerSoftware(version: Record<string, unknown>, description = ''): MinerSoftware {
  const named = nameAndVersion(str(version['Miner']));
  if (named) return named;
  for (const [key, software] of FORK_KEYS) {
    const v = str(version[key]);
    if (v) return { software, version: v };
  }
  const described = nameAndVersion(description) ?? (/^\s*[A-Za-z][\w-]*miner\+?\s*$/i.test(description) ? { software: description.trim().toLowerCase(), version: '' } : undefined);
  if (described && described.software !== 'cgminer') return described;
  const cg = str(version['CGMiner']) ?? str(version['Cgminer']);
  if (cg) return { software: 'cgminer', version: cg };
  return described ?? { software: '', version: '' };
}

/** The program that answered a `version` reply (its VERSION record and STATUS Description). */
export function softwareOfReply(reply: CgminerReply | undefined): MinerSoftware {
  if (!reply) return { software: '', version: '' };
  const description = statusEntries(reply).map((s) => (typeof s.Description === 'string' ? s.Description : '')).find((d) => d !== '') ?? '';
  return minerSoftware(first(reply, 'VERSION'), description);
}
