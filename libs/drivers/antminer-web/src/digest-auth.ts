import { createHash, randomBytes } from 'node:crypto';

// The challenge parser is shared with the scanner's web fingerprint (libs/drivers/cgminer/src/discovery).
import type { DigestChallenge } from '@rigwarden/drivers-cgminer';
export { parseAuthParams, parseDigestChallenge, type DigestChallenge } from '@rigwarden/drivers-cgminer';

export interface DigestCredentials {
  user: string;
  password: string;
}

export interface DigestInput {
  method: string;
  /** The request-target as sent: "/cgi-bin/get_miner_conf.cgi". */
  uri: string;
  /** The request count under this nonce, from 1. */
  nc: number;
  /** Fixed only by tests; random otherwise. */
  cnonce?: string;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/**
 * The `Authorization` header answering a challenge: MD5 (or MD5-sess) with qop=auth when the server offers it,
 * the RFC 2069 form when it offers no qop. auth-int (a digest of the body) is not offered by the Antminer's
 * lighttpd and is not implemented.
 */
export function digestAuthorization(challenge: DigestChallenge, credentials: DigestCredentials, input: DigestInput): string {
  const algorithm = challenge.algorithm ?? 'MD5';
  const qops = (challenge.qop ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean);
  const useQop = qops.includes('auth');
  const cnonce = input.cnonce ?? randomBytes(8).toString('hex');
  const nc = input.nc.toString(16).padStart(8, '0');
  let ha1 = md5(`${credentials.user}:${challenge.realm}:${credentials.password}`);
  if (algorithm.toLowerCase() === 'md5-sess') ha1 = md5(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = md5(`${input.method}:${input.uri}`);
  const response = useQop ? md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${challenge.nonce}:${ha2}`);
  const parts = [
    `username="${quote(credentials.user)}"`, `realm="${quote(challenge.realm)}"`, `nonce="${quote(challenge.nonce)}"`,
    `uri="${quote(input.uri)}"`, `algorithm=${algorithm}`, `response="${response}"`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque="${quote(challenge.opaque)}"`);
  if (useQop) parts.push('qop=auth', `nc=${nc}`, `cnonce="${quote(cnonce)}"`);
  return `Digest ${parts.join(', ')}`;
}

const quote = (s: string): string => s.replace(/(["\\])/g, '\\$1');
