import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/**
 * The v3 write signature: sha256(cmd + password + salt + ts). Its base64 form cut to 8 characters is the
 * request's `token`; the raw 32-byte digest is the AES-256 key for parameters the firmware wants encrypted.
 */
export interface V3Signature {
  token: string;
  aesKey: Buffer;
}

export function v3Signature(cmd: string, password: string, salt: string, ts: number): V3Signature {
  const digest = createHash('sha256').update(`${cmd}${password}${salt}${ts}`, 'utf8').digest();
  return { token: digest.toString('base64').slice(0, 8), aesKey: digest };
}

/** AES-256-ECB over the UTF-8 text zero-padded to 16 bytes, as base64 (asic-rs encrypt_param). */
export function encryptV3Param(aesKey: Buffer, plaintext: string): string {
  const data = Buffer.from(plaintext, 'utf8');
  const padded = Buffer.alloc(Math.ceil(data.length / 16) * 16 || 16);
  data.copy(padded);
  const cipher = createCipheriv('aes-256-ecb', aesKey, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** The inverse of encryptV3Param, trailing NULs removed (used by tests to check what was sent). */
export function decryptV3Param(aesKey: Buffer, base64: string): string {
  const decipher = createDecipheriv('aes-256-ecb', aesKey, null);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(base64, 'base64')), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end).toString('utf8');
}

/** The commands whose `param` the firmware takes only encrypted (asic-rs; miningos adds change_passwd). */
export const ENCRYPTED_PARAM_COMMANDS: ReadonlySet<string> = new Set(['set.miner.pools', 'set.user.change_passwd']);
