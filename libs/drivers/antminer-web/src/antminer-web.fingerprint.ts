import { request as httpRequest } from 'node:http';
import { parseDigestChallenge } from './digest-auth';

/** Digest realms of the Antminer web UI and of the clones that copied it (foreman's Blackminer and Pickaxe code). */
export const ANTMINER_REALMS: Readonly<Record<string, 'antminer' | 'clone'>> = Object.freeze({
  'antMiner Configuration': 'antminer',
  'blackMiner Configuration': 'clone',
  'stuMiner Configuration': 'clone',
});

export type WebFingerprintKind =
  | 'antminer-web'   // digest realm "antMiner Configuration": stock (or stock-compatible) Antminer web UI
  | 'antminer-clone' // the same UI under a clone's realm
  | 'other-digest'   // digest auth with another realm
  | 'other-http'     // an HTTP server without digest auth (another firmware's UI)
  | 'not-http'       // something answered, but not HTTP
  | 'no-answer';     // refused, unreachable or silent until the deadline

export interface WebFingerprint {
  kind: WebFingerprintKind;
  status?: number;
  realm?: string;
  /** Server and Location headers, for the other firmwares' markers. */
  server?: string;
  location?: string;
  reason: string;
}

/**
 * Tells a stock Antminer's web UI apart without credentials: one unauthenticated GET of get_system_info.cgi, whose
 * 401 names the digest realm (asic-rs #191: an S21-era board answers 401 with realm "antMiner Configuration").
 */
export function fingerprintWeb(target: { host: string; port: number }, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<WebFingerprint> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  return new Promise((resolve) => {
    let done = false;
    const finish = (f: WebFingerprint): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(f);
    };
    const req = httpRequest({ host: target.host, port: target.port, method: 'GET', path: '/cgi-bin/get_system_info.cgi', agent: false, headers: { Connection: 'close' }, signal: opts.signal });
    const timer = setTimeout(() => finish({ kind: 'no-answer', reason: `no HTTP answer within ${timeoutMs} ms` }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const http = err.code === 'HPE_INVALID_CONSTANT' || err.code?.startsWith('HPE_');
      finish(http ? { kind: 'not-http', reason: `not HTTP: ${err.message}` } : { kind: 'no-answer', reason: err.message });
    });
    req.on('response', (res) => {
      res.resume();
      const header = res.headers['www-authenticate'];
      const challenge = parseDigestChallenge(Array.isArray(header) ? header[0] : header);
      const server = firstOf(res.headers['server']);
      const location = firstOf(res.headers['location']);
      const base = { status: res.statusCode, ...(server ? { server } : {}), ...(location ? { location } : {}) };
      if (challenge) {
        const family = ANTMINER_REALMS[challenge.realm];
        finish({
          ...base, realm: challenge.realm,
          kind: family === 'antminer' ? 'antminer-web' : family === 'clone' ? 'antminer-clone' : 'other-digest',
          reason: `digest realm "${challenge.realm}"`,
        });
        return;
      }
      finish({ ...base, kind: 'other-http', reason: `HTTP ${res.statusCode} without a digest challenge` });
    });
    req.end();
  });
}

const firstOf = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
