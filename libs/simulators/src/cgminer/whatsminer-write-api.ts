import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The miner's side of Whatsminer API v2's write handshake (see MicroBT's public
 * API document): get_token hands out time/salt/newsalt; the client proves it knows
 * the admin password by the sign it derives, and encrypts each command with
 * AES-256-ECB keyed by sha256(md5crypt(password, salt)). Written independently of
 * the driver's copy so the two check each other.
 */
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function simMd5crypt(password: string, salt: string): string {
  const pw = Buffer.from(password);
  const sl = Buffer.from(salt);
  const md5 = (...b: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(b)).digest();
  const alt = md5(pw, sl, pw);
  const init: Buffer[] = [pw, Buffer.from('$1$'), sl];
  for (let n = pw.length; n > 0; n -= 16) init.push(alt.subarray(0, Math.min(16, n)));
  for (let n = pw.length; n > 0; n >>= 1) init.push(n & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  let h = md5(...init);
  for (let r = 0; r < 1000; r++) {
    h = md5(r & 1 ? pw : h, r % 3 ? sl : Buffer.alloc(0), r % 7 ? pw : Buffer.alloc(0), r & 1 ? h : pw);
  }
  const groups: [number, number, number][] = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]];
  let out = '';
  const enc = (v: number, n: number): void => {
    for (let k = 0; k < n; k++, v >>= 6) out += ITOA64[v & 63];
  };
  for (const [a, b, c] of groups) enc((h[a]! << 16) | (h[b]! << 8) | h[c]!, 4);
  enc(h[11]!, 2);
  return `$1$${salt}$${out}`;
}

function saltChars(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

interface IssuedToken {
  sign: string;
  issuedAtS: number;
}

export class WhatsminerWriteApi {
  /** Fixed per password on a real miner (it is the salt of the stored crypt hash). */
  readonly salt = saltChars(8);
  private readonly tokens: IssuedToken[] = [];

  constructor(private readonly password: () => string) {}

  private key(): string {
    return simMd5crypt(this.password(), this.salt).split('$')[3]!;
  }

  private aesKey(): Buffer {
    return createHash('sha256').update(this.key()).digest();
  }

  issueToken(nowS: number): { time: string; salt: string; newsalt: string } {
    const time = String(nowS % 10000).padStart(4, '0');
    const newsalt = saltChars(8);
    const sign = simMd5crypt(this.key() + time.slice(-4), newsalt).split('$')[3]!;
    this.tokens.push({ sign, issuedAtS: nowS });
    if (this.tokens.length > 32) this.tokens.shift();
    return { time, salt: this.salt, newsalt };
  }

  /** Decrypts a {"enc":1,"data":...} request; undefined when it does not decrypt to JSON. */
  decrypt(data: string): Record<string, unknown> | undefined {
    try {
      const buf = Buffer.from(data, 'base64');
      const d = createDecipheriv('aes-256-ecb', this.aesKey(), null);
      d.setAutoPadding(false);
      const text = Buffer.concat([d.update(buf), d.final()]).toString('utf8').replace(/\0+$/, '');
      const parsed = JSON.parse(text) as unknown;
      return parsed && typeof parsed === 'object' ? parsed as Record<string, unknown> : undefined;
    } catch {
      return undefined;
    }
  }

  /** A token is valid for 30 minutes after get_token. */
  checkSign(sign: unknown, nowS: number): boolean {
    return this.tokens.some((t) => t.sign === sign && nowS - t.issuedAtS <= 1800);
  }

  encrypt(body: Record<string, unknown>): string {
    const plain = Buffer.from(JSON.stringify(body));
    const padded = Buffer.concat([plain, Buffer.alloc((16 - (plain.length % 16)) % 16)]);
    const c = createCipheriv('aes-256-ecb', this.aesKey(), null);
    c.setAutoPadding(false);
    return JSON.stringify({ enc: Buffer.concat([c.update(padded), c.final()]).toString('base64') });
  }
}
