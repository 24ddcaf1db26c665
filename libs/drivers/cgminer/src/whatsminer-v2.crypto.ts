import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/**
 * Whatsminer API v2 write handshake, as MicroBT documents it publicly:
 *
 *   1. {"cmd":"get_token"} -> {"STATUS":"S","Code":134,"Msg":{"time":"6915","salt":"BQ5hoXV9","newsalt":"a5TtWui2"}}
 *   2. key  = md5crypt(adminPassword, "$1$" + salt + "$").split("$")[3]
 *      aes  = AES-256-ECB with sha256(key) as the 32-byte key
 *      sign = md5crypt(key + last 4 characters of time, "$1$" + newsalt + "$").split("$")[3]
 *   3. every privileged command: {"enc":1,"data": base64(aes(json({...cmd, "token": sign}) padded with NUL to 16))}
 *   4. the reply: {"enc":"base64(aes(json padded with NUL))"}
 *
 * Node has AES-256-ECB and MD5 but no crypt(3), so md5crypt is implemented below.
 */
export interface WhatsminerToken {
  time: string;
  salt: string;
  newsalt: string;
}

export interface WhatsminerSession {
  aesKey: Buffer;
  sign: string;
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** FreeBSD MD5-crypt ("$1$salt$hash"), the algorithm of crypt(3) with a "$1$" salt. */
export function md5crypt(password: string, salt: string): string {
  const magic = '$1$';
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.replace(/^\$1\$/, '').split('$')[0]!.slice(0, 8), 'utf8');
  const md5 = (...parts: Buffer[]): Buffer => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  let alt = md5(pw, s, pw);
  const parts: Buffer[] = [pw, Buffer.from(magic), s];
  for (let pl = pw.length; pl > 0; pl -= 16) parts.push(alt.subarray(0, Math.min(pl, 16)));
  for (let i = pw.length; i; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = md5(...parts);
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [];
    round.push(i & 1 ? pw : final);
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? final : pw);
    final = md5(...round);
  }
  alt = final;
  let out = '';
  const to64 = (v: number, n: number): void => {
    for (let k = 0; k < n; k++) {
      out += ITOA64[v & 0x3f];
      v >>= 6;
    }
  };
  to64((alt[0]! << 16) | (alt[6]! << 8) | alt[12]!, 4);
  to64((alt[1]! << 16) | (alt[7]! << 8) | alt[13]!, 4);
  to64((alt[2]! << 16) | (alt[8]! << 8) | alt[14]!, 4);
  to64((alt[3]! << 16) | (alt[9]! << 8) | alt[15]!, 4);
  to64((alt[4]! << 16) | (alt[10]! << 8) | alt[5]!, 4);
  to64(alt[11]!, 2);
  return `${magic}${s.toString('utf8')}$${out}`;
}

/** Derives the AES key and the sign ("token" field) from get_token's reply and the admin password. */
export function whatsminerSession(password: string, token: WhatsminerToken): WhatsminerSession {
  const key = md5crypt(password, `$1$${token.salt}$`).split('$')[3]!;
  const aesKey = createHash('sha256').update(key, 'utf8').digest();
  const sign = md5crypt(key + token.time.slice(-4), `$1$${token.newsalt}$`).split('$')[3]!;
  return { aesKey, sign };
}

function padNul16(data: Buffer): Buffer {
  const rem = data.length % 16;
  return rem === 0 ? data : Buffer.concat([data, Buffer.alloc(16 - rem)]);
}

export function whatsminerEncrypt(aesKey: Buffer, plaintext: string): string {
  const cipher = createCipheriv('aes-256-ecb', aesKey, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padNul16(Buffer.from(plaintext, 'utf8'))), cipher.final()]).toString('base64');
}

/** Throws on a base64 length that is not a whole number of AES blocks; callers map that to a parse error. */
export function whatsminerDecrypt(aesKey: Buffer, base64: string): string {
  const data = Buffer.from(base64.replace(/\s+/g, ''), 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new Error(`encrypted reply is ${data.length} bytes, not a multiple of 16`);
  const decipher = createDecipheriv('aes-256-ecb', aesKey, null);
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8').replace(/\u0000+$/, '');
}

/** The request line for one privileged command. */
export function whatsminerEnvelope(session: WhatsminerSession, command: Record<string, unknown>): string {
  return JSON.stringify({ enc: 1, data: whatsminerEncrypt(session.aesKey, JSON.stringify({ ...command, token: session.sign })) });
}
