import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** A recording made by `rigwarden-agent record` (format rigwarden-recording/1, docs/record-replay.md). */
export interface Recording {
  target: string;
  intervalMs: number;
  /** ms from the recording's start to its last exchange. */
  spanMs: number;
  /** Exchanges by command, in time order. */
  byCommand: Map<string, RecordedReply[]>;
  /** Whether the miner joined the probe multi-command (cgminer >= 3); undefined when it was not probed. */
  joins: boolean | undefined;
  /** The miner's STATUS Description ("bfgminer 5.5.0"), from the first recorded reply that has one. */
  description: string | undefined;
}

export interface RecordedReply {
  t: number;
  ms: number;
  bytes: Buffer;
  end: 'close' | 'timeout' | 'error';
}

interface IndexLine { cmd: string; t: number; ms: number; response: string; end: RecordedReply['end'] }

export function loadRecording(dir: string): Recording {
  const meta = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as { format?: string; target?: string; intervalMs?: number; joinProbe?: string };
  if (meta.format !== 'rigwarden-recording/1') throw new Error(`${dir}/recording.json: format "${String(meta.format)}" is not rigwarden-recording/1`);
  const lines = readFileSync(join(dir, 'index.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as IndexLine;
    } catch {
      throw new Error(`${dir}/index.jsonl line ${i + 1} is not JSON`);
    }
  });
  if (lines.length === 0) throw new Error(`${dir}/index.jsonl holds no exchange`);
  const byCommand = new Map<string, RecordedReply[]>();
  for (const line of lines) {
    const list = byCommand.get(line.cmd) ?? [];
    list.push({ t: line.t, ms: line.ms, end: line.end, bytes: readFileSync(join(dir, line.response)) });
    byCommand.set(line.cmd, list);
  }
  for (const list of byCommand.values()) list.sort((a, b) => a.t - b.t);
  const probe = meta.joinProbe ? byCommand.get(meta.joinProbe)?.[0] : undefined;
  const joins = probe === undefined ? undefined : !probe.bytes.toString('latin1').startsWith('{"STATUS"');
  let description: string | undefined;
  for (const list of byCommand.values()) description ??= /"Description":"([^"]*)"/.exec(list[0]!.bytes.toString('latin1'))?.[1];
  return { target: meta.target ?? '?', intervalMs: meta.intervalMs ?? 10_000, spanMs: Math.max(...lines.map((l) => l.t)), byCommand, joins, description };
}

export interface RecordingReplayOptions {
  dir: string;
  host?: string;
  port?: number;
  /** After the recording's end, start again from its beginning (default: hold the last replies). */
  loop?: boolean;
  /** Wait the recorded reply time before answering (default true). */
  latency?: boolean;
  /** Clock in ms (default the wall clock). */
  now?: () => number;
  /**
   * The replay's time 0: the first request (default, so a client started after the replay still sees the recording
   * from its beginning) or start() ('listen').
   */
  startAt?: 'first-request' | 'listen';
  lifetimeMs?: number;
}

/**
 * Serves a recording as a miner on TCP: a request gets the reply recorded for that command at the matching moment
 * (the exchange recorded closest to the same offset from the start; time 0 is the first request by default), its exact bytes after the recorded delay, then
 * the connection closes, as the miner did. After the end it holds the last replies, or loops. A joined request
 * ("summary+pools") is assembled from the parts the way cgminer joins them, or refused with the recorded error when
 * the miner did not join. A command that was never recorded gets cgminer's Code 14; one that would change the miner
 * gets Code 45 "Access denied", as from a read-only API: a recording can be watched, not steered.
 */
export class RecordingReplaySimulator {
  readonly recording: Recording;
  /** Every request received. */
  readonly requests: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private startedAtMs: number | undefined;

  constructor(private readonly options: RecordingReplayOptions) {
    this.recording = loadRecording(options.dir);
    this.now = options.now ?? (() => Date.now());
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    if (this.options.startAt === 'listen') this.startedAtMs = this.now();
    if (this.options.lifetimeMs !== undefined) {
      const t = setTimeout(() => void this.stop(), this.options.lifetimeMs);
      t.unref();
      this.timers.add(t);
    }
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  address(): { host: string; port: number } {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('replay is not listening');
    return { host: addr.address, port: addr.port };
  }

  /** The replay's offset into the recording now (looped or held at the end). */
  offsetMs(): number {
    this.startedAtMs ??= this.now();
    const elapsed = this.now() - this.startedAtMs;
    const span = this.recording.spanMs + this.recording.intervalMs;
    return this.options.loop && elapsed > span ? elapsed % span : elapsed;
  }

  /** The reply for a request at the current offset: bytes (NUL included, as recorded), delay, and whether to close. */
  answer(request: string): { bytes: Buffer; delayMs: number; close: boolean } {
    const command = commandOf(request);
    const at = this.offsetMs();
    const exact = this.recording.byCommand.get(command);
    const joinable = command.includes('+') && this.recording.joins !== false && command.split('+').every((part) => this.recording.byCommand.has(part));
    if (exact && !joinable) {
      const r = nearest(exact, at);
      return { bytes: r.bytes, delayMs: r.ms, close: r.end !== 'timeout' };
    }
    if (PRIVILEGED.has(command)) return { bytes: accessDenied(command, this.now(), this.recording.description), delayMs: 0, close: true };
    if (!command.includes('+')) return { bytes: invalidCommand(this.now()), delayMs: 0, close: true };
    if (this.recording.joins === false) {
      const probe = [...this.recording.byCommand.entries()].find(([c]) => c.includes('+'))![1][0]!;
      return { bytes: probe.bytes, delayMs: probe.ms, close: true };
    }
    // cgminer's join: each part's own reply (without its NUL) inside "part":[...], then "id":1.
    let delayMs = 0;
    const parts = command.split('+').map((part) => {
      const list = this.recording.byCommand.get(part);
      const r = list ? nearest(list, at) : undefined;
      delayMs += r?.ms ?? 0;
      const text = r ? stripNul(r.bytes).toString('latin1') : stripNul(invalidCommand(this.now())).toString('latin1');
      return `${JSON.stringify(part)}:[${text}]`;
    });
    return { bytes: Buffer.concat([Buffer.from(`{${parts.join(',')},"id":1}`, 'latin1'), Buffer.from([0])]), delayMs, close: true };
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      const request = chunk.subarray(0, 4095).toString('latin1');
      this.requests.push(request);
      const { bytes, delayMs, close } = this.answer(request);
      const send = (): void => {
        if (socket.destroyed) return;
        if (!close) {
          if (bytes.length > 0) socket.write(bytes); // the miner sent this much and then nothing until the client gave up
          return;
        }
        socket.end(bytes);
      };
      if (this.options.latency === false || delayMs < 1) {
        send();
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        send();
      }, Math.min(delayMs, 30_000));
      this.timers.add(t);
    });
  }
}

/** Commands that change the miner: a recording cannot, so the replay answers like a read-only API (--api-allow R:). */
const PRIVILEGED = new Set(['switchpool', 'enablepool', 'disablepool', 'addpool', 'removepool', 'poolpriority', 'poolquota', 'restart', 'quit', 'zero', 'save', 'ascset', 'pgaset', 'ascenable', 'ascdisable', 'pgaenable', 'pgadisable', 'failover-only', 'setconfig']);

function accessDenied(command: string, nowMs: number, description: string | undefined): Buffer {
  const desc = description === undefined ? '' : `,"Description":${JSON.stringify(description)}`;
  return Buffer.from(`{"STATUS":[{"STATUS":"E","When":${Math.floor(nowMs / 1000)},"Code":45,"Msg":"Access denied to '${command}' command"${desc}}],"id":1}\u0000`, 'latin1');
}

function nearest(list: RecordedReply[], at: number): RecordedReply {
  let best = list[0]!;
  for (const r of list) if (Math.abs(r.t - at) < Math.abs(best.t - at)) best = r;
  return best;
}

function stripNul(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0 ? bytes.subarray(0, -1) : bytes;
}

/** cgminer 4.11.1's Code 14 (no Description key). */
function invalidCommand(nowMs: number): Buffer {
  return Buffer.from(`{"STATUS":[{"STATUS":"E","When":${Math.floor(nowMs / 1000)},"Code":14,"Msg":"Invalid command"}],"id":1}\u0000`, 'latin1');
}

function commandOf(request: string): string {
  const trimmed = request.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { command?: unknown };
      return typeof parsed.command === 'string' ? parsed.command : '';
    } catch {
      return '';
    }
  }
  return trimmed.split('|')[0] ?? '';
}
