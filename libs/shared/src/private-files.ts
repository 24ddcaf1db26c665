import { appendFileSync, chmodSync, closeSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/**
 * Files that hold secrets or operator data (databases, journals, queues, tokens) are 0600 in 0700 directories:
 * set when they are created and fixed when an existing one is opened, whatever the umask or an older version left.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` (and missing parents) 0700, or narrows an existing one to 0700. A directory this process does not
 * own, a sticky one such as /tmp, and an existing one fewer than three levels deep (/var/lib, /srv/x, /home/u) are
 * left as they are: a data dir there is the operator's choice to fix.
 * Returns true when a mode was changed.
 */
export function ensurePrivateDir(dir: string): boolean {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE }) !== undefined;
  const st = statSync(dir);
  const ownedByUs = typeof process.getuid !== 'function' || st.uid === process.getuid();
  // Never narrow a system directory a data file was put straight into (/var/lib, /srv, a home): only a dedicated one.
  const dedicated = created || resolve(dir).split(sep).filter((part) => part !== '').length >= 3;
  if (!ownedByUs || !dedicated || (st.mode & 0o1000) !== 0 || (st.mode & 0o777) === PRIVATE_DIR_MODE) return false;
  chmodSync(dir, PRIVATE_DIR_MODE);
  return true;
}

/** Narrows an existing file to 0600 (missing: nothing to do). Returns true when a mode was changed. */
export function ensurePrivateFile(path: string): boolean {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (mode === PRIVATE_FILE_MODE) return false;
  chmodSync(path, PRIVATE_FILE_MODE);
  return true;
}

/** Creates an empty 0600 file if there is none (so a program that opens it later inherits the mode), else fixes it. */
export function touchPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  ensurePrivateFile(path);
}

/** writeFileSync, 0600 even when `path` existed with a wider mode (a leftover .tmp). */
export function writePrivateFileSync(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE });
  ensurePrivateFile(path);
}

/** appendFileSync creating the file 0600. */
export function appendPrivateFileSync(path: string, data: string | Uint8Array): void {
  appendFileSync(path, data, { mode: PRIVATE_FILE_MODE });
}
