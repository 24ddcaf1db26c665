import { connect } from 'node:net';
import { DriverError } from '@rigwarden/drivers-core';
import { CgminerClient } from '../cgminer.client';
import { DIALECTS, identifyDialect, type Identification } from '../dialects/dialect-identification';
import { first } from '../dialects/dialect-common';
import { softwareOf } from '../dialects/generic.dialect';
import { expandTargets, type ScanTarget } from './scan-targets.parser';

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
  /** Hard cap per host over both stages: a host that accepts and never answers cannot stall the scan. */
  hostDeadlineMs?: number;
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
  /** responsive/unresponsive: why identification or the probe failed (an error kind). */
  reason?: string;
  message?: string;
  durationMs: number;
}

const DEFAULTS = {
  port: 4028, probeConcurrency: 512, probeTimeoutMs: 500, identifyConcurrency: 128, identifyTimeoutMs: 2000, hostDeadlineMs: 3000,
};

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
 * Scans address ranges for cgminer-API miners in two stages with their own
 * concurrency and deadlines: a fast TCP probe, then identification of the hosts
 * that accepted. Results stream as they are found, in three classes.
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

  const identifyQueue: { target: ScanTarget; started: number }[] = [];
  let probing = 0;
  let identifying = 0;
  let nextProbe = 0;
  let finished = 0;
  const total = targets.length;

  const identify = async (target: ScanTarget, started: number): Promise<void> => {
    const remaining = Math.max(1, o.hostDeadlineMs - (now() - started));
    const budget = Math.max(1, Math.round(Math.min(o.identifyTimeoutMs, remaining)));
    const client = new CgminerClient({ connectTimeoutMs: budget, totalTimeoutMs: budget, maxReplyBytes: 1024 * 1024 });
    try {
      const multi = await client.commands(target, SCAN_COMMANDS, { signal: AbortSignal.any([AbortSignal.timeout(budget), ...(o.signal ? [o.signal] : [])]) });
      if (Object.keys(multi.replies).length === 0) {
        const err = Object.values(multi.errors)[0];
        emit({ class: 'responsive', host: target.host, port: target.port, reason: err?.kind ?? 'no_reply', message: err?.message, durationMs: now() - started });
        return;
      }
      const identification = identifyDialect(multi.replies);
      const { software, version } = softwareOf(first(multi.replies['version'], 'VERSION'));
      const reading = DIALECTS[identification.dialect].decode(multi.replies);
      emit({
        class: 'identified', host: target.host, port: target.port, identification,
        model: reading.model || identification.model,
        firmware: reading.firmware || (version ? `${software} ${version}` : identification.software),
        hashrateHs: reading.hashrate5sHs,
        durationMs: now() - started,
      });
    } catch (err) {
      const kind = err instanceof DriverError ? (err.kind === 'aborted' ? 'timeout' : err.kind) : 'internal';
      emit({ class: 'responsive', host: target.host, port: target.port, reason: kind, message: (err as Error).message, durationMs: now() - started });
    }
  };

  const pump = (): void => {
    while (identifying < o.identifyConcurrency && identifyQueue.length > 0) {
      const job = identifyQueue.shift()!;
      identifying++;
      void identify(job.target, job.started).finally(() => {
        identifying--;
        finished++;
        pump();
      });
    }
    while (probing < o.probeConcurrency && nextProbe < targets.length && !o.signal?.aborted) {
      const target = targets[nextProbe++]!;
      const started = now();
      probing++;
      void probe(target, Math.max(1, Math.round(Math.min(o.probeTimeoutMs, o.hostDeadlineMs)))).then((failure) => {
        probing--;
        if (failure === undefined) {
          identifyQueue.push({ target, started });
        } else {
          finished++;
          emit({ class: 'unresponsive', host: target.host, port: target.port, reason: failure, durationMs: now() - started });
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
