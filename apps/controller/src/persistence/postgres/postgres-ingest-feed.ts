import pg from 'pg';
import { Backoff, createLogger, type Logger } from '@rigwarden/shared';
import type { IngestFeed, TelemetryNote } from '../ports/ingest-feed.port';
import { redact, type PostgresDatabase } from './postgres-database';

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more: each message stays well under it. */
const MAX_PAYLOAD_BYTES = 7_000;
/** An unreachable miner's reason is cut to this many characters in an announcement. */
const MAX_REASON_CHARS = 200;
/** Waits between attempts to listen again (jittered): from 250 ms, doubling up to 10 s. */
const RECONNECT_BACKOFF = { initialMs: 250, maxMs: 10_000 };

type WireNote = [rigId: string, agentId: string, minerId: string, seq: number, collectedAt: number, unreachable?: string];
interface WireMessage { f: string; n: WireNote[] }

/** The channel of one schema: several test schemas (or deployments) in one database do not hear each other. */
export function ingestChannel(schema: string | undefined): string {
  return `rigwarden_ingest_${schema ?? 'public'}`.slice(0, 63);
}

/** Splits notes into NOTIFY payloads under the size PostgreSQL takes. */
export function encodeNotes(from: string, notes: readonly TelemetryNote[]): string[] {
  const out: string[] = [];
  const head = `{"f":${JSON.stringify(from)},"n":[`;
  let body: string[] = [];
  let bytes = head.length + 2;
  for (const n of notes) {
    const wire: WireNote = [n.rigId, n.agentId, n.minerId, n.seq, n.collectedAt];
    if (n.unreachable !== undefined) wire.push(n.unreachable.slice(0, MAX_REASON_CHARS));
    const item = JSON.stringify(wire);
    const size = Buffer.byteLength(item) + 1;
    if (body.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      out.push(`${head}${body.join(',')}]}`);
      body = [];
      bytes = head.length + 2;
    }
    body.push(item);
    bytes += size;
  }
  if (body.length > 0) out.push(`${head}${body.join(',')}]}`);
  return out;
}

/** The notes of one payload, or undefined when it is not one of ours (a foreign NOTIFY on the channel). */
export function decodeNotes(payload: string): { from: string; notes: TelemetryNote[] } | undefined {
  let message: WireMessage;
  try {
    message = JSON.parse(payload) as WireMessage;
  } catch {
    return undefined;
  }
  if (typeof message?.f !== 'string' || !Array.isArray(message.n)) return undefined;
  const notes: TelemetryNote[] = [];
  for (const w of message.n) {
    if (!Array.isArray(w) || typeof w[0] !== 'string' || typeof w[1] !== 'string' || typeof w[2] !== 'string' || typeof w[3] !== 'number' || typeof w[4] !== 'number') continue;
    notes.push({ rigId: w[0], agentId: w[1], minerId: w[2], seq: w[3], collectedAt: w[4], ...(typeof w[5] === 'string' ? { unreachable: w[5] } : {}) });
  }
  return { from: message.f, notes };
}

/**
 * The ingest feed through PostgreSQL's LISTEN/NOTIFY: announcements go out on the pool (`pg_notify`, one round trip
 * for a batch however many payloads it takes); one connection of its own listens, and is opened again (backing off)
 * when it drops, after which `onGap` says that what was announced meanwhile was missed.
 */
export class PostgresIngestFeed implements IngestFeed {
  /** The channel of the schema the pool works in (resolved once: `--database` may set it through search_path). */
  private channel = '';
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly reconnectBackoff = new Backoff(RECONNECT_BACKOFF);
  private listener: ((notes: TelemetryNote[], from: string) => void) | undefined;
  private onGap: (() => void) | undefined;
  readonly counters = { announced: 0, heard: 0, reconnects: 0, malformed: 0 };

  constructor(
    private readonly db: PostgresDatabase,
    private readonly replicaId: string,
    private readonly logger: Logger = createLogger('controller.ingest-feed'),
  ) {}

  private async resolveChannel(): Promise<string> {
    if (this.channel === '') {
      const schema = this.db.schema ?? (await this.db.get<{ s: string }>('SELECT current_schema() AS s'))?.s;
      this.channel = ingestChannel(schema);
    }
    return this.channel;
  }

  async announce(notes: readonly TelemetryNote[]): Promise<void> {
    if (notes.length === 0 || this.closed) return;
    const payloads = encodeNotes(this.replicaId, notes);
    await this.db.run('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [await this.resolveChannel(), payloads]);
    this.counters.announced += notes.length;
  }

  async listen(listener: (notes: TelemetryNote[], from: string) => void, onGap: () => void): Promise<void> {
    this.listener = listener;
    this.onGap = onGap;
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const channel = await this.resolveChannel();
    const client = new pg.Client({ connectionString: this.db.url, connectionTimeoutMillis: 10_000 });
    client.on('error', (err) => this.dropped(client, err));
    client.on('end', () => this.dropped(client, new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== channel || msg.payload === undefined) return;
      const decoded = decodeNotes(msg.payload);
      if (!decoded) {
        this.counters.malformed++;
        return;
      }
      if (decoded.from === this.replicaId) return;
      this.counters.heard += decoded.notes.length;
      this.listener?.(decoded.notes, decoded.from);
    });
    await client.connect();
    await client.query(`LISTEN "${channel}"`);
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectBackoff.reset();
  }

  private dropped(client: pg.Client, err: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.logger.warn('the ingest feed connection to PostgreSQL dropped; listening again (what other controllers stored meanwhile is read from the store)', { url: redact(this.db.url), error: err });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.reconnectBackoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.counters.reconnects++;
      this.connect().then(() => this.onGap?.(), (err: unknown) => {
        this.logger.warn('cannot listen to the ingest feed yet; will retry', { error: err as Error });
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }
}
