import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { DiskQueue, type QueuedMessage } from './disk-queue';

const msg = (i: number, at = 1_000): QueuedMessage => ({ topic: `t/${i}`, payload: JSON.stringify({ seq: i, pad: 'x'.repeat(40) }), at });

describe('DiskQueue', () => {
  let dir: TempDir;
  let clock: ManualClock;
  beforeEach(() => { dir = makeTempDir(); clock = new ManualClock(1_000); });
  afterEach(() => dir.remove());

  const open = (maxBytes = 1 << 20, segmentBytes = 1024): DiskQueue => new DiskQueue(dir.path, { maxBytes, maxAgeMs: 60_000, segmentBytes, clock });

  it('delivers in order across segments and deletes what was delivered', () => {
    const q = open();
    for (let i = 1; i <= 50; i++) q.push(msg(i));
    expect(q.depth).toBe(50);
    expect(readdirSync(dir.path).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(1);
    const seen: number[] = [];
    for (let guard = 0; q.depth > 0 && guard < 1000; guard++) {
      const batch = q.peek(7);
      seen.push(...batch.map((m) => JSON.parse(m.payload).seq));
      q.ack(batch.length);
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(readdirSync(dir.path).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('keeps its counts of dropped messages across a restart (a kill -9 included: they are written with the cursor)', () => {
    const q = open(4096, 1024);
    for (let i = 1; i <= 200; i++) q.push(msg(i)); // far past 4 KiB: the oldest segments go
    clock.advance(120_000);
    q.push(msg(201, clock.now()));
    q.peek(1); // the expired ones at the head go
    const before = q.stats();
    expect(before.droppedFull).toBeGreaterThan(0);
    expect(before.droppedExpired).toBeGreaterThan(0);
    const again = open(4096, 1024); // no close: as after a kill -9
    expect(again.stats()).toMatchObject({ droppedFull: before.droppedFull, droppedExpired: before.droppedExpired, depth: 1 });
  });

  it('resumes after a restart where delivery stopped, without repeats', () => {
    const q = open();
    for (let i = 1; i <= 30; i++) q.push(msg(i));
    q.ack(q.peek(12).length);
    const again = open();
    expect(again.depth).toBe(18);
    expect(JSON.parse(again.peek(1)[0]!.payload).seq).toBe(13);
    again.push(msg(31));
    const rest: number[] = [];
    for (let guard = 0; again.depth > 0 && guard < 1000; guard++) {
      const batch = again.peek(100);
      rest.push(...batch.map((m) => JSON.parse(m.payload).seq));
      again.ack(batch.length);
    }
    expect(rest).toEqual(Array.from({ length: 19 }, (_, i) => i + 13));
  });

  it('drops the oldest messages when full, and counts them', () => {
    const q = open(4096, 1024);
    for (let i = 1; i <= 200; i++) q.push(msg(i));
    const stats = q.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4096);
    expect(stats.droppedFull + stats.depth).toBe(200);
    expect(stats.droppedFull).toBeGreaterThan(0);
    const first = JSON.parse(q.peek(1)[0]!.payload).seq;
    expect(first).toBe(stats.droppedFull + 1); // the newest are kept, in order
  });

  it('drops messages older than the age limit instead of sending them', () => {
    const q = open();
    q.push(msg(1, 1_000));
    q.push(msg(2, 1_000));
    clock.set(40_000);
    q.push(msg(3, 40_000));
    clock.set(61_500);
    expect(q.peek(10).map((m) => JSON.parse(m.payload).seq)).toEqual([3]);
    expect(q.stats().droppedExpired).toBe(2);
  });

  it('skips a line torn by a crash, and keeps the rest', () => {
    const q = open();
    q.push(msg(1));
    const seg = readdirSync(dir.path).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(join(dir.path, seg), '{"topic":"t/2","payl');
    const again = open();
    again.push(msg(3));
    const out: QueuedMessage[] = [];
    for (let guard = 0; again.depth > 0 && guard < 1000; guard++) {
      const batch = again.peek(10);
      out.push(...batch);
      again.ack(batch.length);
    }
    expect(out.filter((m) => m.topic !== '').map((m) => m.topic)).toEqual(['t/1']);
  });
});
