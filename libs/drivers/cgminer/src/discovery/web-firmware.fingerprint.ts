import { request as httpRequest } from 'node:http';
import { parseDigestChallenge } from './digest-challenge.parser';

/**
 * Which firmware a miner's web server belongs to, told from one unauthenticated `GET /` (and its redirects): the
 * digest realm of a 401, where a redirect goes, and markers in the page. The facts are the ones pyasic's miner
 * factory and asic-rs use (realms, LuCI behind https, page titles); libs/drivers/antminer-web/testdata-synthetic/web-fingerprints
 * holds the pages the tests serve (the scanner calls this: scanCgminer's webPort), with their provenance.
 */
export type WebFirmware =
  | 'antminer-stock'  // digest realm "antMiner Configuration"
  | 'antminer-clone'  // the same UI under a clone's realm (blackMiner, stuMiner)
  | 'elphapex'        // digest realm "Daoge..."
  | 'whatsminer'      // LuCI behind an https redirect
  | 'braiins-os'      // "Braiins OS" in the page
  | 'luxos'           // "Luxor Firmware"
  | 'vnish'           // "AnthillOS" (Vnish's web UI)
  | 'epic'            // "Miner Web Dashboard" (ePIC PowerPlay)
  | 'goldshell'       // "cloud-box"
  | 'avalon'          // "Avalon"
  | 'bitaxe'          // "AxeOS"
  | 'innosilicon'     // "DragonMint"
  | 'unknown';

export interface WebFirmwareGuess {
  firmware: WebFirmware;
  vendor: string;
  /** Why, in words: the realm, the redirect or the marker that decided. */
  evidence: string;
  /** The agent drivers that control this firmware, with their default ports; empty: read through the cgminer API at most. */
  controlPaths: string[];
}

/** What one GET / answered, after following the plain-HTTP redirects. */
export interface WebPage {
  status: number;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
  /** The redirects on the way, first first: their status and Location. */
  redirects: ReadonlyArray<{ status: number; location: string }>;
}

const REALMS: ReadonlyArray<{ prefix: string; firmware: WebFirmware }> = [
  { prefix: 'antMiner', firmware: 'antminer-stock' },
  { prefix: 'blackMiner', firmware: 'antminer-clone' },
  { prefix: 'stuMiner', firmware: 'antminer-clone' },
  { prefix: 'Daoge', firmware: 'elphapex' },
];

/** Page markers, in the order they are tried (the more specific first). */
const MARKERS: ReadonlyArray<{ marker: string; firmware: WebFirmware }> = [
  { marker: 'Braiins OS', firmware: 'braiins-os' },
  { marker: 'Luxor Firmware', firmware: 'luxos' },
  { marker: 'AnthillOS', firmware: 'vnish' },
  { marker: 'Miner Web Dashboard', firmware: 'epic' },
  { marker: 'AxeOS', firmware: 'bitaxe' },
  { marker: 'cloud-box', firmware: 'goldshell' },
  { marker: 'DragonMint', firmware: 'innosilicon' },
  { marker: 'Avalon', firmware: 'avalon' },
];

const FIRMWARE: Readonly<Record<WebFirmware, { vendor: string; controlPaths: string[] }>> = {
  'antminer-stock': { vendor: 'antminer', controlPaths: ['antminer-web:80'] },
  'antminer-clone': { vendor: 'antminer-clone', controlPaths: [] },
  elphapex: { vendor: 'elphapex', controlPaths: [] },
  whatsminer: { vendor: 'whatsminer', controlPaths: ['whatsminer-v3:4433', 'whatsminer:4028'] },
  'braiins-os': { vendor: 'braiins', controlPaths: ['braiins-grpc:50051', 'braiins:4028'] },
  luxos: { vendor: 'luxos', controlPaths: ['luxos:4028'] },
  vnish: { vendor: 'vnish', controlPaths: [] },
  epic: { vendor: 'epic', controlPaths: [] },
  goldshell: { vendor: 'goldshell', controlPaths: [] },
  avalon: { vendor: 'avalon', controlPaths: ['avalon:4028'] },
  bitaxe: { vendor: 'bitaxe', controlPaths: [] },
  innosilicon: { vendor: 'innosilicon', controlPaths: [] },
  unknown: { vendor: '', controlPaths: [] },
};

const guess = (firmware: WebFirmware, evidence: string): WebFirmwareGuess => ({ firmware, evidence, ...FIRMWARE[firmware], controlPaths: [...FIRMWARE[firmware].controlPaths] });

/** The firmware a web page belongs to (pure: the page as fetched). */
export function classifyWebPage(page: WebPage): WebFirmwareGuess {
  const challenge = page.status === 401 ? parseDigestChallenge(page.headers['www-authenticate']) : undefined;
  if (challenge) {
    const known = REALMS.find((r) => challenge.realm.startsWith(r.prefix));
    if (known) return guess(known.firmware, `401 with digest realm "${challenge.realm}"`);
  }
  // Whatsminer's LuCI sits behind a redirect to https (the scan does not follow it: the Location tells).
  const toHttps = page.redirects.find((r) => r.location.startsWith('https://'));
  if (toHttps && (toHttps.location.includes('/cgi-bin/luci') || page.body.includes('/cgi-bin/luci'))) {
    return guess('whatsminer', `HTTP ${toHttps.status} to ${toHttps.location} (LuCI behind https)`);
  }
  for (const { marker, firmware } of MARKERS) {
    if (page.body.includes(marker)) return guess(firmware, `"${marker}" in the page`);
  }
  if (challenge) return guess('unknown', `401 with digest realm "${challenge.realm}" of no known firmware`);
  return guess('unknown', `HTTP ${page.status}, no known realm, redirect or page marker`);
}

export interface FetchPageOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Plain-HTTP redirects followed on the same host (default 3). */
  maxRedirects?: number;
  /** The page is read up to this many bytes (default 64 KiB). */
  maxBytes?: number;
}

/** GET `path` without credentials, following same-host plain-HTTP redirects; undefined when nothing HTTP answered. */
export async function fetchWebPage(target: { host: string; port: number }, path = '/', opts: FetchPageOptions = {}): Promise<WebPage | undefined> {
  const redirects: Array<{ status: number; location: string }> = [];
  const until = Date.now() + (opts.timeoutMs ?? 3_000);
  let current = path;
  for (let hop = 0; ; hop++) {
    const res = await getOnce(target, current, Math.max(1, until - Date.now()), opts.maxBytes ?? 65_536, opts.signal);
    if (!res) return undefined;
    const location = res.headers['location'];
    if (res.status >= 300 && res.status < 400 && location) {
      redirects.push({ status: res.status, location });
      const next = sameHostPath(target, location);
      if (next === undefined || hop >= (opts.maxRedirects ?? 3)) return { ...res, redirects };
      current = next;
      continue;
    }
    return { ...res, redirects };
  }
}

/** GET / of a miner's web server and the firmware it belongs to; `unknown` with the reason when nothing tells. */
export async function identifyWebFirmware(target: { host: string; port: number }, opts: FetchPageOptions = {}): Promise<WebFirmwareGuess & { page?: WebPage }> {
  const page = await fetchWebPage(target, '/', opts);
  if (!page) return guess('unknown', `no HTTP answer from ${target.host}:${target.port}`);
  return { ...classifyWebPage(page), page };
}

function sameHostPath(target: { host: string; port: number }, location: string): string | undefined {
  if (location.startsWith('/')) return location;
  try {
    const url = new URL(location);
    if (url.protocol !== 'http:' || url.hostname !== target.host || Number(url.port || 80) !== target.port) return undefined;
    return `${url.pathname}${url.search}`;
  } catch {
    return undefined;
  }
}

function getOnce(target: { host: string; port: number }, path: string, timeoutMs: number, maxBytes: number, signal?: AbortSignal):
  Promise<{ status: number; headers: Record<string, string | undefined>; body: string } | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: { status: number; headers: Record<string, string | undefined>; body: string } | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(v);
    };
    const req = httpRequest({ host: target.host, port: target.port, method: 'GET', path, agent: false, headers: { Connection: 'close' }, ...(signal ? { signal } : {}) });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    req.on('error', () => finish(undefined));
    req.on('response', (res) => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
      const chunks: Buffer[] = [];
      let size = 0;
      const end = (): void => finish({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (c: Buffer) => {
        if (size >= maxBytes) return;
        chunks.push(c.subarray(0, maxBytes - size));
        size += c.length;
        if (size >= maxBytes) end();
      });
      res.on('end', end);
      res.on('error', end);
    });
    req.end();
  });
}
