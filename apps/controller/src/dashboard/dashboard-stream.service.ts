import type { ServerResponse } from 'node:http';
import { createLogger } from '@rigwarden/shared';
import type { DashboardReadStore } from '../persistence/ports/dashboard-read.port';
import type { FleetChange, FleetViewService } from './fleet-view.service';

/** What the stream needs from the fleet view. */
export type FleetChanges = Pick<FleetViewService, 'subscribe' | 'overview'>;

/** A client that stopped reading is dropped once this much is queued for it. */
const MAX_BUFFERED_BYTES = 1 << 20;
const HEARTBEAT_MS = 15_000;
/**
 * A stream ends after this long; the page reconnects with a fresh ticket, which re-checks its API key. (A revoked
 * key's streams end at once, closeKey; an expired key's at the next key check.)
 */
export const MAX_STREAM_AGE_MS = 10 * 60_000;

interface StreamClient {
  res: ServerResponse;
  principal: string;
  /** The API key the stream's ticket was issued to ('' in tests of the stream alone). */
  keyId: string;
}

/** Streams one API key may hold open at once, unless configured otherwise (--max-streams-per-key). */
export const DEFAULT_MAX_STREAMS_PER_KEY = 8;

/**
 * The Server-Sent Events hub behind /api/stream. Event types:
 *   `hello`          once: the overview and the stream's starting point
 *   `rigs`           every change window: the changed rigs' table rows (or `reload: true`) and the new overview
 *   `event`          each stored event (policy decisions, agent events, operator actions), in storage order
 *   `command-result` each result an agent reported
 *   `command`        a command the dispatcher finished, with its final state and cause
 * New events and results are found by polling their tables by row id (every `pollMs`), so whatever writes them
 * (ingest, reconciler, dispatcher) needs no hook.
 */
export class DashboardStream {
  private readonly logger = createLogger('controller.dashboard');
  private readonly clients = new Set<StreamClient>();
  private unsubscribe: (() => void) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastEventSeq = 0;
  private lastResultSeq = 0;
  private polling = false;
  private keyTimer: NodeJS.Timeout | undefined;
  private keyActive: ((keyId: string) => Promise<boolean>) | undefined;

  constructor(
    private readonly view: FleetChanges,
    private readonly reads: DashboardReadStore,
    private readonly pollMs = 500,
    private readonly maxAgeMs = MAX_STREAM_AGE_MS,
    private readonly keyCheckMs = HEARTBEAT_MS,
  ) {}

  /**
   * Every keyCheckMs, asks whether each streaming key still works and ends the streams of one that does not (it
   * expired, or was revoked by something other than this process): revocations seen here close them at once.
   */
  checkKeysWith(keyActive: (keyId: string) => Promise<boolean>): void {
    this.keyActive = keyActive;
    clearInterval(this.keyTimer);
    this.keyTimer = setInterval(() => void this.checkKeys(), this.keyCheckMs);
  }

  private async checkKeys(): Promise<void> {
    const check = this.keyActive;
    if (!check) return;
    const keys = new Set([...this.clients].map((c) => c.keyId).filter((k) => k !== ''));
    for (const keyId of keys) {
      try {
        if (!(await check(keyId))) this.closeKey(keyId);
      } catch (err) {
        this.logger.debug('stream key check failed', { keyId, error: err as Error });
      }
    }
  }

  async start(): Promise<void> {
    this.lastEventSeq = await this.reads.lastEventSeq();
    this.lastResultSeq = await this.reads.lastCommandResultSeq();
    this.unsubscribe = this.view.subscribe((change) => this.onFleetChange(change));
    this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
    this.heartbeat = setInterval(() => this.broadcastRaw(': ping\n\n'), HEARTBEAT_MS);
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeat);
    clearInterval(this.keyTimer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Open streams of this API key. */
  streamsOf(keyId: string): number {
    let n = 0;
    for (const c of this.clients) if (c.keyId === keyId) n++;
    return n;
  }

  /** Ends every stream of a revoked (or expired) key, with a last `revoked` event; returns how many were open. */
  closeKey(keyId: string): number {
    let closed = 0;
    for (const c of [...this.clients]) {
      if (c.keyId !== keyId) continue;
      this.clients.delete(c);
      c.res.end(`event: revoked\ndata: ${JSON.stringify({ keyId })}\n\n`);
      closed++;
    }
    if (closed > 0) this.logger.info('closed the dashboard streams of an API key that no longer works', { keyId, streams: closed });
    return closed;
  }

  open(res: ServerResponse, principal: string, keyId = ''): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: StreamClient = { res, principal, keyId };
    this.clients.add(client);
    const expire = setTimeout(() => res.end(), this.maxAgeMs);
    res.on('close', () => {
      clearTimeout(expire);
      this.clients.delete(client);
    });
    res.write('retry: 2000\n\n');
    this.send(client, 'hello', { overview: this.view.overview(), eventSeq: this.lastEventSeq, resultSeq: this.lastResultSeq });
  }

  /** A command the dispatcher finished (or the dashboard just sent). */
  broadcastCommand(command: unknown): void {
    this.broadcast('command', command);
  }

  private onFleetChange(change: FleetChange): void {
    this.broadcast('rigs', change);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const events = await this.reads.events({ afterSeq: this.lastEventSeq, limit: 500 });
      for (const e of events) {
        this.lastEventSeq = Math.max(this.lastEventSeq, e.seq);
        this.broadcast('event', e);
      }
      const results = await this.reads.commandResults({ afterSeq: this.lastResultSeq, limit: 500 });
      for (const r of results) {
        this.lastResultSeq = Math.max(this.lastResultSeq, r.seq);
        this.broadcast('command-result', r);
      }
    } catch (err) {
      this.logger.debug('stream poll failed', { error: err as Error });
    } finally {
      this.polling = false;
    }
  }

  private broadcast(type: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    this.broadcastRaw(frame);
  }

  private broadcastRaw(frame: string): void {
    for (const c of this.clients) this.write(c, frame);
  }

  private send(client: StreamClient, type: string, data: unknown): void {
    this.write(client, `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(client: StreamClient, frame: string): void {
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      this.logger.warn('dropping a dashboard stream client that stopped reading', { principal: client.principal });
      this.clients.delete(client);
      client.res.destroy();
      return;
    }
    client.res.write(frame);
  }
}
