import { connect } from 'node:net';
import { DriverError } from '@rigwarden/drivers-core';
import { CgminerClient } from '../cgminer.client';
import { DIALECTS, identifyDialect, type Identification } from '../dialects/dialect-identification';
import { first } from '../dialects/dialect-common';
import { softwareOf } from '../dialects/generic.dialect';
import { labelMiner, type ApiFinding, type MinerLabel } from './miner-identification';
import { expandTargets, type ScanTarget } from './scan-targets.parser';
import { fetchWebPage, classifyWebPage, type WebFirmwareGuess } from './web-firmware.fingerprint';

export interface ScanOptions {
  /** CIDR ranges, addresses, address:port, dash ranges. */
  targets: readonly string[];
  port?: number;
  /** Stage 1: parallel TCP connects and how long each may take. */
  probeConcurrency?: number;
  probeTimeoutMs?: number;
  /** Stage 2: parallel identifications (version+summary) and how long each may take. */
  identifyConcurrency?: number;
  identifyTimeoutMs?: number;
  /** Hard cap per host over every stage: a host that accepts and never answers cannot stall the scan. */
  hostDeadlineMs?: number;
  /**
   * The web UI's port for the HTTP fingerprint (one GET / without credentials, same-host redirects followed);
   * default 80, 0: no web fingerprint. Its wait is webTimeoutMs (default 1500), inside the host's deadline.
   */
  webPort?: number;
  webTimeoutMs?: number;
  /** Ports of the vendors' own APIs by driver name (braiins-grpc, whatsminer-v3); default: each driver's own. */
  apiPorts?: Readonly<Record<string, number>>;
  /** Given to the vendors' own APIs when they are asked (never to the web UI); none: no credentials sent. */
  credentials?: { user?: string; password?: string };
  signal?: AbortSignal;
  /** Clock for durations; defaults to performance.now. */
  now?: () => number;
}

export type ScanClass = 'identified' | 'responsive' | 'unresponsive';

export interface ScanResult {
  class: ScanClass;
  host: string;
  port: number;
  /** identified: the dialect and how well it is supported. */
  identification?: Identification;
  /** identified: as the dialect decodes the version and summary replies. */
  model?: string;
  firmware?: string;
  hashrateHs?: number;
  /**
   * identified: vendor, model, firmware and the control paths that answered (cgminer API, web UI, the vendor's own
   * API), with the driver an agent config should name.
   */
  label?: MinerLabel;
  /** responsive/unresponsive: why identification or the probe failed (an error kind). */
  reason?: string;
  message?: string;
  durationMs: number;
}

const DEFAULTS = {
  port: 4028, probeConcurrency: 512, probeTimeoutMs: 500, identifyConcurrency: 128, identifyTimeoutMs: 2000, hostDeadlineMs: 4000,
  webPort: 80, webTimeoutMs: 1500,
};

interface Job { target: ScanTarget; started: number; api: boolean; web: boolean }
interface ApiOutcome { finding?: ApiFinding; hashrateHs?: number; reason?: string; message?: string }

/** Commands that identify a dialect cheaply; all cgminer-derived firmware join them. */
const SCAN_COMMANDS = ['version', 'summary'] as const;

/** TCP connect within the deadline; resolves to undefined on success, else the error kind. */
function probe(target: ScanTarget, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (result: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? 'error').toLowerCase()));
  });
}

/**
 * Scans address ranges for miners in stages with their own concurrency and deadlines: a fast TCP probe of the
 * cgminer API port and the web port, then identification of the hosts that accepted (the cgminer API's version and
 * summary, and the web UI's HTTP fingerprint, at once), then the vendor's own API where either points at one
 * (Braiins OS+ gRPC, Whatsminer API v3). Results stream as they are found, in three classes; each identified miner
 * carries its label (vendor, model, firmware, control paths, the driver to configure).
 */
export async function* scanCgminer(options: ScanOptions): AsyncGenerator<ScanResult> {
  const o = { ...DEFAULTS, ...options };
  const now = options.now ?? (() => performance.now());
  const targets = expandTargets(o.targets, o.port);
  const results: ScanResult[] = [];
  let wake: (() => void) | undefined;
  const emit = (r: ScanResult): void => {
    results.push(r);
    wake?.();
  };

  const identifyQueue: Job[] = [];
  let probing = 0;
  let identifying = 0;
  let nextProbe = 0;
  let finished = 0;
  const total = targets.length;

  const identifyApi = async (target: ScanTarget, budget: number, signal: AbortSignal): Promise<ApiOutcome> => {
    const client = new CgminerClient({ connectTimeoutMs: budget, totalTimeoutMs: budget, maxReplyBytes: 1024 * 1024 });
    try {
      const multi = await client.commands(target, SCAN_COMMANDS, { signal });
      if (Object.keys(multi.replies).length === 0) {
        const err = Object.values(multi.errors)[0];
        return { reason: err?.kind ?? 'no_reply', message: err?.message };
      }
      const identification = identifyDialect(multi.replies);
      const { software, version } = softwareOf(first(multi.replies['version'], 'VERSION'));
      const reading = DIALECTS[identification.dialect].decode(multi.replies);
      return {
        finding: {
          port: target.port, identification, model: reading.model || identification.model,
          firmware: reading.firmware || (version ? `${software} ${version}` : identification.software),
        },
        hashrateHs: reading.hashrate5sHs,
      };
    } catch (err) {
      const kind = err instanceof DriverError ? (err.kind === 'aborted' ? 'timeout' : err.kind) : 'internal';
      return { reason: kind, message: (err as Error).message };
    }
  };

  const identify = async ({ target, started, api, web }: Job): Promise<void> => {
    const remaining = (): number => Math.max(1, o.hostDeadlineMs - (now() - started));
    const budget = Math.max(1, Math.round(Math.min(o.identifyTimeoutMs, remaining())));
    const signal = AbortSignal.any([AbortSignal.timeout(budget), ...(o.signal ? [o.signal] : [])]);
    // The cgminer API and the web UI at once: a web UI that hangs costs its own wait, never the API's.
    const [outcome, page] = await Promise.all([
      api ? identifyApi(target, budget, signal) : Promise.resolve<ApiOutcome>({ reason: 'refused', message: `nothing on the cgminer API port ${target.port}` }),
      web ? fetchWebPage({ host: target.host, port: o.webPort }, '/', { timeoutMs: Math.min(o.webTimeoutMs, budget), signal }) : Promise.resolve(undefined),
    ]);
    const guess: (WebFirmwareGuess & { port: number }) | undefined = page ? { ...classifyWebPage(page), port: o.webPort } : undefined;
    if (!outcome.finding && !guess) {
      emit({ class: 'responsive', host: target.host, port: target.port, reason: outcome.reason, message: outcome.message, durationMs: now() - started });
      return;
    }
    // The vendors' own APIs the answers point at, in what is left of the host's deadline.
    const rest = Math.max(1, Math.round(remaining()));
    const label = await labelMiner({
      host: target.host, api: outcome.finding, web: guess, ports: o.apiPorts, credentials: o.credentials,
      ctx: { signal: AbortSignal.any([AbortSignal.timeout(rest), ...(o.signal ? [o.signal] : [])]), deadlineMs: rest },
    });
    if (!outcome.finding && label.controlPaths.length === 0 && guess?.firmware === 'unknown') {
      emit({
        class: 'responsive', host: target.host, port: target.port, reason: outcome.reason,
        message: `${outcome.message ?? 'no cgminer API'}; web UI on ${o.webPort}: ${guess.evidence}`, label, durationMs: now() - started,
      });
      return;
    }
    emit({
      class: 'identified', host: target.host, port: target.port,
      ...(outcome.finding ? { identification: outcome.finding.identification } : {}),
      model: label.model, firmware: label.firmware, hashrateHs: outcome.hashrateHs, label,
      durationMs: now() - started,
    });
  };

  const pump = (): void => {
    while (identifying < o.identifyConcurrency && identifyQueue.length > 0) {
      const job = identifyQueue.shift()!;
      identifying++;
      void identify(job).finally(() => {
        identifying--;
        finished++;
        pump();
      });
    }
    while (probing < o.probeConcurrency && nextProbe < targets.length && !o.signal?.aborted) {
      const target = targets[nextProbe++]!;
      const started = now();
      probing++;
      const timeout = Math.max(1, Math.round(Math.min(o.probeTimeoutMs, o.hostDeadlineMs)));
      const webProbe = o.webPort > 0 && o.webPort !== target.port ? probe({ host: target.host, port: o.webPort }, timeout) : Promise.resolve('off');
      void Promise.all([probe(target, timeout), webProbe]).then(([apiFailure, webFailure]) => {
        probing--;
        if (apiFailure === undefined || webFailure === undefined) {
          identifyQueue.push({ target, started, api: apiFailure === undefined, web: webFailure === undefined });
        } else {
          finished++;
          emit({ class: 'unresponsive', host: target.host, port: target.port, reason: apiFailure, durationMs: now() - started });
        }
        pump();
      });
    }
  };

  const onAbort = (): void => wake?.();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  pump();
  try {
    while (finished < total || results.length > 0) {
      if (results.length > 0) {
        yield results.shift()!;
        continue;
      }
      // Aborted: what was not probed is given up; what is in flight ends by its own deadline or the abort.
      if (o.signal?.aborted && probing === 0 && identifying === 0 && identifyQueue.length === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Collects a whole scan, for callers that do not stream. */
export async function scanAll(options: ScanOptions): Promise<ScanResult[]> {
  const out: ScanResult[] = [];
  for await (const r of scanCgminer(options)) out.push(r);
  return out;
}
