import { waitFor } from '@rigwarden/testing';
import type { TelemetryNote } from '../ports/ingest-feed.port';
import { PostgresIngestFeed, decodeNotes, encodeNotes, ingestChannel } from './postgres-ingest-feed';
import { openTestSchema, type TestSchema } from './postgres.testing';

const note = (i: number, extra: Partial<TelemetryNote> = {}): TelemetryNote => ({ rigId: `rig-${i}`, agentId: 'agent-1', minerId: 'm1', seq: i, collectedAt: 1_790_000_000_000 + i, ...extra });

describe('ingest feed: the announcement format', () => {
  it('round-trips notes, the unreachable reason included', () => {
    const notes = [note(1), note(2, { unreachable: 'connect: ECONNREFUSED' })];
    const [payload, ...rest] = encodeNotes('ctl-a', notes);
    expect(rest).toEqual([]);
    expect(decodeNotes(payload!)).toEqual({ from: 'ctl-a', notes });
  });

  it('splits a large batch into payloads under the 8,000 bytes PostgreSQL takes, keeping every note once and in order', () => {
    const notes = Array.from({ length: 1_000 }, (_, i) => note(i));
    const payloads = encodeNotes('ctl-a', notes);
    expect(payloads.length).toBeGreaterThan(5);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(7_000);
    expect(payloads.flatMap((p) => decodeNotes(p)!.notes)).toEqual(notes);
  });

  it('cuts a long unreachable reason to 200 characters', () => {
    const [payload] = encodeNotes('ctl-a', [note(1, { unreachable: 'x'.repeat(5_000) })]);
    expect(decodeNotes(payload!)!.notes[0]!.unreachable).toHaveLength(200);
  });

  it('ignores what is not an announcement (a foreign NOTIFY on the channel) and malformed notes in one', () => {
    expect(decodeNotes('hello')).toBeUndefined();
    expect(decodeNotes('{"x":1}')).toBeUndefined();
    expect(decodeNotes('{"f":"b","n":[["r","a","m",1,2],["r",1],"junk",["r2","a","m","seq",2]]}')).toEqual({ from: 'b', notes: [{ rigId: 'r', agentId: 'a', minerId: 'm', seq: 1, collectedAt: 2 }] });
  });

  it('names one channel per schema, within PostgreSQL\'s 63 characters', () => {
    expect(ingestChannel('test_abc')).toBe('rigwarden_ingest_test_abc');
    expect(ingestChannel(undefined)).toBe('rigwarden_ingest_public');
    expect(ingestChannel('s'.repeat(80))).toHaveLength(63);
  });
});

describe('ingest feed on the real PostgreSQL (LISTEN/NOTIFY)', () => {
  let t: TestSchema;
  let other: TestSchema;
  const feeds: PostgresIngestFeed[] = [];
  const heard = new Map<string, Array<{ from: string; notes: TelemetryNote[] }>>();
  const gaps = new Map<string, number>();

  async function feed(schema: TestSchema, replicaId: string): Promise<PostgresIngestFeed> {
    const f = new PostgresIngestFeed(schema.db, replicaId);
    feeds.push(f);
    heard.set(replicaId, []);
    gaps.set(replicaId, 0);
    await f.listen((notes, from) => heard.get(replicaId)!.push({ from, notes }), () => gaps.set(replicaId, gaps.get(replicaId)! + 1));
    return f;
  }

  beforeAll(async () => {
    t = await openTestSchema();
    other = await openTestSchema();
  });
  afterAll(async () => {
    for (const f of feeds) await f.close();
    await t?.drop();
    await other?.drop();
  });

  it('tells every other controller of the schema what one stored, never itself, nor controllers of another schema', async () => {
    const a = await feed(t, 'ctl-a');
    await feed(t, 'ctl-b');
    await feed(t, 'ctl-c');
    await feed(other, 'ctl-elsewhere');
    const notes = Array.from({ length: 600 }, (_, i) => note(i)); // several payloads
    await a.announce(notes);
    for (const id of ['ctl-b', 'ctl-c']) {
      await waitFor(`${id} to hear all 600`, () => (heard.get(id)!.flatMap((h) => h.notes).length >= 600 ? true : undefined));
      expect(heard.get(id)!.flatMap((h) => h.notes)).toEqual(notes);
      expect(new Set(heard.get(id)!.map((h) => h.from))).toEqual(new Set(['ctl-a']));
    }
    // A later announcement of b's is heard by a: by then a would have heard its own, had it been sent to it.
    await feeds[1]!.announce([note(9_999)]);
    await waitFor('ctl-a to hear ctl-b', () => (heard.get('ctl-a')!.length > 0 ? true : undefined));
    expect(heard.get('ctl-a')!.flatMap((h) => h.notes)).toEqual([note(9_999)]);
    expect(heard.get('ctl-elsewhere')).toEqual([]);
    expect(a.counters.announced).toBe(600);
  });

  it('listens again after its connection is killed, and says that announcements may have been missed', async () => {
    const b = feeds[1]!;
    await t.db.run('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${ingestChannel(t.schema)}"`]);
    await waitFor('every listener of the schema back with a gap', () => (gaps.get('ctl-b')! >= 1 && gaps.get('ctl-a')! >= 1 && gaps.get('ctl-c')! >= 1 ? true : undefined), 15_000);
    expect(b.counters.reconnects).toBeGreaterThanOrEqual(1);
    const before = heard.get('ctl-b')!.length;
    await feeds[0]!.announce([note(42)]);
    await waitFor('ctl-b to hear again', () => (heard.get('ctl-b')!.length > before ? true : undefined));
    expect(heard.get('ctl-b')!.at(-1)!.notes).toEqual([note(42)]);
  });
});
