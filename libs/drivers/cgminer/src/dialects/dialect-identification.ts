import { str } from '../cgminer-values.util';
import type { CgminerReply } from '../cgminer.client';
import { statusEntries } from '../cgminer.client';
import type { CgminerDialect, CollectedReplies, DialectName } from './dialect';
import { first, records } from './dialect-common';
import { genericDialect } from './generic.dialect';
import { softwareOfReply } from './miner-software';
import { antminerDialect } from './antminer.dialect';
import { whatsminerDialect } from './whatsminer.dialect';
import { avalonDialect } from './avalon.dialect';
import { braiinsDialect } from './braiins.dialect';
import { luxosDialect } from './luxos.dialect';

export const DIALECTS: Readonly<Record<DialectName, CgminerDialect>> = Object.freeze({
  cgminer: genericDialect,
  antminer: antminerDialect,
  whatsminer: whatsminerDialect,
  avalon: avalonDialect,
  braiins: braiinsDialect,
  luxos: luxosDialect,
});

/** Commands that are enough to tell the dialects apart; all joinable on cgminer 3+. */
export const IDENTIFY_COMMANDS = ['version', 'summary', 'pools', 'devs', 'stats'] as const;

export interface Identification {
  dialect: DialectName;
  /** "full": a dialect we know; "partial": an unknown fork read with the generic dialect. */
  support: 'full' | 'partial';
  /** What gave it away, for logs and `probe --json`. */
  reason: string;
  /** Model and software as far as the identification replies tell. */
  model: string;
  software: string;
}

function descriptions(replies: CollectedReplies): string {
  return Object.values(replies)
    .flatMap((r) => (r ? statusEntries(r as CgminerReply) : []))
    .map((s) => (typeof s.Description === 'string' ? s.Description : ''))
    .join(' ');
}

/**
 * Picks the dialect from version / devdetails / stats / summary replies (any subset).
 * Never fails: an unknown fork falls back to generic with support "partial".
 */
export function identifyDialect(replies: CollectedReplies): Identification {
  const version = first(replies['version'], 'VERSION');
  const summary = first(replies['summary'], 'SUMMARY');
  const stats = records(replies['stats'], 'STATS');
  const devs = records(replies['devs'] ?? replies['edevs'], 'DEVS');
  const devdetails = records(replies['devdetails'], 'DEVDETAILS');
  const desc = descriptions(replies);
  const statsInfo = stats.find((r) => 'Type' in r) ?? {};
  const type = (str(version['Type']) ?? str(statsInfo['Type']) ?? str(version['PROD']) ?? '').split('\n')[0]!.trim();
  const named = softwareOfReply(replies['version']);
  const software = named.software || (desc.split(/\s+/)[0] ?? '');
  const result = (dialect: DialectName, reason: string, support: 'full' | 'partial' = 'full'): Identification =>
    ({ dialect, support, reason, model: type, software });

  if ('BOSminer' in version || 'BOSminer+' in version || /BOSminer/i.test(desc)) return result('braiins', 'BOSminer in version');
  if ('LUXminer' in version || /LUXminer/i.test(desc)) return result('luxos', 'LUXminer in version');
  if (/btminer|whatsminer/i.test(desc) || 'Factory GHS' in summary || 'Power Mode' in summary
    || devs.some((d) => d['Name'] === 'SM') || stats.some((s) => /^SM\d+$/.test(String(s['ID'] ?? '')))
    || devdetails.some((d) => /^M\d+/.test(String(d['Model'] ?? '')))) {
    return result('whatsminer', 'btminer fields (summary Power Mode / Factory GHS, devs "SM")');
  }
  if (/avalon/i.test(type) || 'MODEL' in version && 'DNA' in version
    || stats.some((s) => Object.keys(s).some((k) => /^MM ID\d+$/.test(k)) || /^AV\d/.test(String(s['ID'] ?? '')))) {
    return result('avalon', 'Avalon "MM ID" stats or PROD in version');
  }
  const chainStats = stats.some((s) => Object.keys(s).some((k) => /^chain_(acn|rate)\d+$/.test(k)));
  if (/antminer/i.test(type) || 'BMMiner' in version || /bmminer/i.test(desc)) return result('antminer', `Type "${type}"`);
  if (chainStats) return result('antminer', 'bitmain-style chain_* stats on a non-Antminer', 'partial');
  if ('CGMiner' in version || 'BFGMiner' in version || /^(cgminer|bfgminer)\b/i.test(desc)) {
    return result('cgminer', `${software || 'cgminer'} with no vendor fields`);
  }
  return result('cgminer', `unknown fork "${desc.trim() || 'no description'}": read as generic cgminer`, 'partial');
}
