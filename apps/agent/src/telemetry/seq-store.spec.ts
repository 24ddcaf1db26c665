import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { SeqStore } from './seq-store';

describe('SeqStore', () => {
  let dir: TempDir;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => dir.remove());

  const t0 = Date.parse('2026-12-03T12:00:00Z');

  it('starts a new rig at the clock in ms x 1000 and counts up by one per rig', () => {
    let now = t0;
    const store = new SeqStore(dir.path, () => now);
    const a1 = store.take('a');
    now += 5000;
    expect([a1, store.take('a'), store.take('b'), store.take('a')]).toEqual([t0 * 1000, t0 * 1000 + 1, (t0 + 5000) * 1000, t0 * 1000 + 2]);
  });

  it('after the data dir is wiped, a rig starts above every seq it had before (no new snapshot is a duplicate)', () => {
    let now = t0;
    const first = new SeqStore(dir.path, () => now);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = first.take('a'); // 5,000 snapshots, one per second
    now += 5000 * 1000;
    dir.remove();
    dir = makeTempDir();
    const wiped = new SeqStore(dir.path, () => now);
    expect(wiped.take('a')).toBeGreaterThan(last);
  });

  it('keeps counting from a data dir written before seqs began at the clock (small seqs stay small)', () => {
    writeFileSync(join(dir.path, 'seq.json'), JSON.stringify({ a: 1999 }));
    expect(new SeqStore(dir.path, () => t0).take('a')).toBe(2000);
  });

  it('never reuses a number after a restart, even one it did not publish', () => {
    const first = new SeqStore(dir.path);
    const before = Array.from({ length: 1500 }, () => first.take('a')).pop()!;
    const second = new SeqStore(dir.path);
    expect(second.take('a')).toBeGreaterThan(before);
  });

  it('refuses a corrupt state file with an explanation', () => {
    writeFileSync(join(dir.path, 'seq.json'), '[1,2]');
    expect(() => new SeqStore(dir.path)).toThrow(/expected a JSON object/);
  });
});
