import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SecurityError } from './security-error';

/** mosquitto_passwd's default PBKDF2 iteration count for `$7$` hashes. */
export const MOSQUITTO_DEFAULT_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;
const USERNAME = /^[A-Za-z0-9._:-]{1,128}$/;
const LINE = /^([^:\s]+):\$7\$(\d{1,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/**
 * A Mosquitto password-file hash, as `mosquitto_passwd` writes it: `$7$<iterations>$<base64 salt>$<base64
 * PBKDF2-HMAC-SHA512(password, salt, iterations, 64 bytes)>`, with a 12-byte random salt. Rig broker passwords are
 * random 256-bit secrets, so the low default iteration count (101, Mosquitto's) costs nothing in safety and keeps
 * broker connects cheap.
 */
export function mosquittoPasswordHash(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? MOSQUITTO_DEFAULT_ITERATIONS;
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 9_999_999) {
    throw new SecurityError('invalid_argument', `mosquittoPasswordHash: iterations must be 1..9999999, got ${iterations}`);
  }
  if (salt.length < SALT_BYTES) throw new SecurityError('invalid_argument', `mosquittoPasswordHash: the salt needs at least ${SALT_BYTES} bytes`);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** One password-file line, `<username>:<hash>`. Usernames are rig ids: no colon, no whitespace. */
export function mosquittoPasswordLine(username: string, password: string, options?: { iterations?: number; salt?: Buffer }): string {
  if (!USERNAME.test(username)) throw new SecurityError('invalid_argument', `mosquittoPasswordLine: username ${JSON.stringify(username)} must be 1-128 of A-Z a-z 0-9 . _ : -`);
  return `${username}:${mosquittoPasswordHash(password, options)}`;
}

/** Checks a password against one `$7$` password-file line, in constant time; false for any other format. */
export function mosquittoPasswordMatches(line: string, username: string, password: string): boolean {
  const match = LINE.exec(line.trim());
  if (!match || match[1] !== username) return false;
  const [, , iterations, salt, hash] = match as unknown as [string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  if (expected.length !== HASH_BYTES) return false;
  const actual = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'base64'), Number(iterations), HASH_BYTES, 'sha512');
  return timingSafeEqual(actual, expected);
}
