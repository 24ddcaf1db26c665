/** Digest challenges of `WWW-Authenticate` (the scanner's web fingerprint reads the realm; antminer-web answers them). */

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
