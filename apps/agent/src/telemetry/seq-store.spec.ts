import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { SeqStore } from './seq-store';

describe('SeqStore', () => {
  let dir: TempDir;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => dir.remove());

  it('counts from 1 per rig', () => {
    const store = new SeqStore(dir.path);
    expect([store.take('a'), store.take('a'), store.take('b'), store.take('a')]).toEqual([1, 2, 1, 3]);
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
