import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** testdata/real-sessions: the exact bytes cgminer 4.11.1, cgminer 2.11.4 and bfgminer 5.5.0 exchanged (SOURCE.md). */
export const REAL_SESSIONS = join(__dirname, '..', '..', 'testdata', 'real-sessions');

export interface RecordedStep {
  /** "04-pools" */
  name: string;
  request: string;
  /** Exactly what the miner sent, trailing NUL included; empty when it sent nothing (or had died). */
  response: Buffer;
}

/** The steps of one recorded session folder, in order ("cgminer-4.11.1", "bfgminer-5.5.0/pool-ops-on-fresh-process"). */
export function loadSession(folder: string): RecordedStep[] {
  const dir = join(REAL_SESSIONS, folder);
  return readdirSync(dir).filter((f) => f.endsWith('.request')).sort().map((file) => {
    const name = file.slice(0, -'.request'.length);
    return { name, request: readFileSync(join(dir, file), 'latin1'), response: readFileSync(join(dir, `${name}.response`)) };
  });
}

/** One step by its name ("04-pools"); throws when the folder has no such step. */
export function step(folder: string, name: string): RecordedStep {
  const found = loadSession(folder).find((s) => s.name === name);
  if (!found) throw new Error(`${folder} has no step ${name}`);
  return found;
}

/** A recorded reply as text without its NUL, as the client hands it to the decoder. */
export function replyText(s: RecordedStep): string {
  const nul = s.response.indexOf(0);
  return (nul >= 0 ? s.response.subarray(0, nul) : s.response).toString('latin1');
}
