import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { systemClock, type Clock } from '@rigwarden/shared';

/** The format a recording is written in; rigwarden-simfarm --replay reads it (docs/record-replay.md). */
export const RECORDING_FORMAT = 'rigwarden-recording/1';

/** What the cgminer driver's generic dialect asks every poll (libs/drivers/cgminer generic.dialect collectCommands). */
export const DEFAULT_RECORD_COMMANDS = ['version', 'summary', 'pools', 'devs', 'stats', 'lcd'] as const;

/** Sent once in the first poll, so a replay knows whether the miner joins multi-commands (cgminer 2.x does not). */
export const JOIN_PROBE = 'summary+pools';

export interface RecorderOptions {
  host: string;
  port: number;
  outDir: string;
  /** Time between the starts of two polls (default 10 s, the agent's default poll interval). */
  intervalMs?: number;
  /** Stop after this long (default: until the signal aborts). */
  durationS?: number;
  commands?: readonly string[];
  /** Per request: give up after this long without the miner closing (default 10 s, the driver's timeout). */
  timeoutMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/** One line of index.jsonl. */
export interface RecordedExchange {
  seq: number;
  poll: number;
  cmd: string;
  /** ms from the start of the recording to the moment the request was sent. */
  t: number;
  /** ms until the miner closed the connection (or the timeout / error). */
  ms: number;
  request: string;
  response: string;
  bytes: number;
  sha256: string;
  /** How the exchange ended: the miner closed (close), nothing came in time (timeout), the connection failed (error). */
  end: 'close' | 'timeout' | 'error';
  error?: string;
}

export interface RecordingSummary {
  dir: string;
  polls: number;
  exchanges: number;
  failures: number;
  bytes: number;
}

interface Exchange { data: Buffer; ms: number; end: RecordedExchange['end']; error?: string }

/** One request on its own connection, the way the cgminer client sends it: every byte until the miner closes. */
function exchange(host: string, port: number, request: Buffer, timeoutMs: number): Promise<Exchange> {
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number((process.hrtime.bigint() - started) / 1000n) / 1000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (end: Exchange['end'], error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), ms: Math.round(elapsed() * 1000) / 1000, end, ...(error ? { error } : {}) });
    };
    const socket = connect({ host, port });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish('close'));
    socket.on('close', () => finish('close'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish('error', err.code ?? err.message));
  });
}

const fileSafe = (cmd: string): string => cmd.replace(/[^a-zA-Z0-9+_-]/g, '_');

/**
 * Records a miner's API the way the agent polls it: every `intervalMs` the driver's commands, one connection each,
 * and every request and reply written byte for byte (NNNNNN-<cmd>.request / .response) with an index.jsonl line
 * per exchange (time offset, duration, size, sha256, how it ended). Another client (the agent) can poll the same
 * miner meanwhile: cgminer serves one connection after another.
 */
export class MinerRecorder {
  private readonly clock: Clock;
  private seq = 0;

  constructor(private readonly o: RecorderOptions) {
    this.clock = o.clock ?? systemClock;
  }

  async run(): Promise<RecordingSummary> {
    const o = this.o;
    const intervalMs = o.intervalMs ?? 10_000;
    const commands = [...(o.commands ?? DEFAULT_RECORD_COMMANDS)];
    mkdirSync(o.outDir, { recursive: true });
    if (readdirSync(o.outDir).some((f) => f === 'index.jsonl')) throw new Error(`${o.outDir} already holds a recording (index.jsonl); choose an empty directory`);
    const startedAt = this.clock.now();
    const meta = { format: RECORDING_FORMAT, target: `${o.host}:${o.port}`, startedAt: new Date(startedAt).toISOString(), intervalMs, commands, joinProbe: JOIN_PROBE };
    writeFileSync(join(o.outDir, 'recording.json'), `${JSON.stringify(meta, null, 2)}\n`);
    writeFileSync(join(o.outDir, 'index.jsonl'), '');
    const summary: RecordingSummary = { dir: o.outDir, polls: 0, exchanges: 0, failures: 0, bytes: 0 };
    const endAt = o.durationS === undefined ? Number.POSITIVE_INFINITY : startedAt + o.durationS * 1000;
    for (let poll = 0; ; poll++) {
      const slot = startedAt + poll * intervalMs;
      if (slot >= endAt || o.signal?.aborted) break;
      await this.waitUntil(slot);
      if (o.signal?.aborted) break;
      const cmds = poll === 0 ? [...commands, JOIN_PROBE] : commands;
      for (const cmd of cmds) {
        const line = await this.record(poll, cmd, startedAt);
        summary.exchanges++;
        summary.bytes += line.bytes;
        if (line.end !== 'close') summary.failures++;
      }
      summary.polls++;
      // A poll that ran past the next slots skips them, like the agent's skip-if-still-running.
      const behind = Math.floor((this.clock.now() - startedAt) / intervalMs) - poll;
      if (behind > 1) poll += behind - 1;
    }
    writeFileSync(join(o.outDir, 'recording.json'), `${JSON.stringify({ ...meta, endedAt: new Date(this.clock.now()).toISOString(), polls: summary.polls, exchanges: summary.exchanges }, null, 2)}\n`);
    return summary;
  }

  private async record(poll: number, cmd: string, startedAt: number): Promise<RecordedExchange> {
    const o = this.o;
    const seq = ++this.seq;
    const base = `${String(seq).padStart(6, '0')}-${fileSafe(cmd)}`;
    const request = Buffer.from(JSON.stringify({ command: cmd }), 'latin1');
    const t = this.clock.now() - startedAt;
    const result = await exchange(o.host, o.port, request, o.timeoutMs ?? 10_000);
    writeFileSync(join(o.outDir, `${base}.request`), request);
    writeFileSync(join(o.outDir, `${base}.response`), result.data);
    const line: RecordedExchange = {
      seq, poll, cmd, t, ms: result.ms, request: `${base}.request`, response: `${base}.response`, bytes: result.data.length,
      sha256: createHash('sha256').update(result.data).digest('hex'), end: result.end, ...(result.error ? { error: result.error } : {}),
    };
    appendFileSync(join(o.outDir, 'index.jsonl'), `${JSON.stringify(line)}\n`);
    return line;
  }

  private waitUntil(at: number): Promise<void> {
    const delay = at - this.clock.now();
    if (delay <= 0) return Promise.resolve();
    const signal = this.o.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, delay);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
