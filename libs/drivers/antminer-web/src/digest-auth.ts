import { createHash, randomBytes } from 'node:crypto';

/** The parameters of one `WWW-Authenticate: Digest ...` challenge (RFC 7616 section 3.3), names lower-cased. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm?: string;
  stale?: boolean;
}

/** Parses a Digest challenge; undefined for another scheme or one without realm and nonce. */
export function parseDigestChallenge(header: string | undefined): DigestChallenge | undefined {
  if (!header) return undefined;
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const params = parseAuthParams(m[1]!);
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  return {
    realm, nonce,
    qop: params.get('qop'),
    opaque: params.get('opaque'),
    algorithm: params.get('algorithm'),
    stale: params.get('stale')?.toLowerCase() === 'true',
  };
}

/** `name=token` and `name="quoted \" string"` pairs separated by commas. */
export function parseAuthParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  return out;
}

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
