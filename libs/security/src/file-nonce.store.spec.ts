import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandEnvelope, decodeCommandEnvelope, encodeJson } from '@rigwarden/protocol';
import { CommandSigner } from './envelope.signer';
import { EnvelopeVerifier } from './envelope.verifier';
import { FileNonceStore } from './file-nonce.store';
import { SecurityError } from './security-error';
import { RIG, T0, draft, rigKey, ringWith } from './testing/envelope-fixtures';
import { nonceStoreContract } from './testing/nonce-store.contract';
import { SeededRandom } from './testing/seeded-random';

let dir: string;
const opened: FileNonceStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rw-nonce-'));
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options: { capacity?: number; now?: number; compactAfterLines?: number; fsync?: boolean } = {}): FileNonceStore {
  const store = FileNonceStore.open({ path: join(dir, 'nonces.journal'), now: T0, ...options });
  opened.push(store);
  return store;
}

// fsync off for speed in the contract suite; the restart tests below keep the default (on).
nonceStoreContract('file-nonce-store', (capacity) => open({ capacity, fsync: false }));

describe('file-nonce-store', () => {
  it('file-nonce-store: a replay after a restart of the agent is rejected', () => {
    const keys = ringWith(rigKey('k1'));
    const wire = encodeJson(CommandEnvelope, new CommandSigner(keys).sign(draft(), T0));
    const before = new EnvelopeVerifier({ keys, nonces: open() });
    expect(before.verify(decodeCommandEnvelope(wire), RIG, T0 + 100).ok).toBe(true);
    opened[0]?.close(); // the agent stops

    const after = new EnvelopeVerifier({ keys, nonces: open({ now: T0 + 5_000 }) });
    expect(after.verify(decodeCommandEnvelope(wire), RIG, T0 + 5_000)).toMatchObject({ ok: false, reason: 'replayed_nonce' });
  });

  it('file-nonce-store: 1,000 nonces survive a restart and are all seen; expired ones are dropped on open', () => {
    const first = open({ capacity: 2000, fsync: false });
    for (let i = 0; i < 1000; i++) first.remember(`n${i}`, T0 + (i < 500 ? 1_000 : 60_000), T0);
    first.close();
    const second = open({ capacity: 2000, now: T0 + 2_000 });
    expect(second.size()).toBe(500);
    for (let i = 500; i < 1000; i++) expect(second.remember(`n${i}`, T0 + 60_000, T0 + 2_000)).toBe('seen');
  });

  it('file-nonce-store: random traffic with 40 restarts and small compactions (seed 77): a live nonce is never fresh twice', () => {
    const random = new SeededRandom(77);
    const options = { capacity: 40, compactAfterLines: 90, fsync: false };
    let store = open(options);
    const accepted = new Map<string, number>();
    let now = T0;
    for (let i = 0; i < 8_000; i++) {
      now += random.int(0, 30);
      if (i % 200 === 199) {
        store.close();
        store = open({ ...options, now });
      }
      const key = `rig-7:${random.int(0, 300)}`;
      const previous = accepted.get(key);
      const live = previous !== undefined && previous > now;
      const until = live ? previous : now + random.int(1, 4_000); // a replay carries the same signed times
      const verdict = store.remember(key, until, now);
      if (live) expect(verdict).not.toBe('fresh');
      else if (verdict === 'fresh') accepted.set(key, until);
      expect(store.journalLines).toBeLessThanOrEqual(92);
    }
  });

  it('file-nonce-store: the saturation floor survives a restart', () => {
    const first = open({ capacity: 2 });
    for (let i = 0; i < 4; i++) first.remember(`k${i}`, T0 + 10_000 + i, T0);
    first.close();
    const second = open({ capacity: 2, now: T0 + 1 });
    expect(second.floor).toBe(T0 + 10_001);
    expect(second.remember('k0', T0 + 10_000, T0 + 1)).toBe('saturated');
  });

  it('file-nonce-store: the journal is compacted and stays bounded under 20,000 commands', () => {
    const store = open({ capacity: 100, compactAfterLines: 250, fsync: false });
    let maxLines = 0;
    let maxBytes = 0;
    for (let i = 0; i < 20_000; i++) {
      const now = T0 + i * 10;
      expect(store.remember(`rig-7:nonce-${i}`, now + 500, now)).toBe('fresh');
      maxLines = Math.max(maxLines, store.journalLines);
      if (i % 1000 === 0) maxBytes = Math.max(maxBytes, statSync(store.path).size);
    }
    expect(maxLines).toBeLessThanOrEqual(251);
    expect(maxBytes).toBeLessThan(251 * 100);
    expect(store.compactions).toBeGreaterThan(60);
    expect(readFileSync(store.path, 'utf8').trimEnd().split('\n').length).toBe(store.journalLines);
  });

  it('file-nonce-store: a compaction keeps exactly the live entries', () => {
    const store = open({ capacity: 10, compactAfterLines: 20, fsync: false });
    for (let i = 0; i < 25; i++) store.remember(`k${i}`, T0 + 1_000 + i * 100, T0 + i * 100);
    const lines = readFileSync(store.path, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ rwnonce: 1 });
    expect(store.remember('k24', T0 + 3_400, T0 + 2_500)).toBe('seen');
  });

  it('file-nonce-store: a torn last line (crash mid-append) is ignored and the store opens', () => {
    const first = open();
    first.remember('a', T0 + 10_000, T0);
    first.close();
    appendFileSync(join(dir, 'nonces.journal'), '{"k":"b","u":17');
    const second = open({ now: T0 + 1 });
    expect(second.remember('a', T0 + 10_000, T0 + 1)).toBe('seen');
    expect(second.remember('b', T0 + 10_000, T0 + 1)).toBe('fresh');
    expect(readFileSync(second.path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('file-nonce-store: a crash during a compaction (a stale .tmp, the journal intact) loses nothing', () => {
    const first = open();
    first.remember('a', T0 + 10_000, T0);
    first.close();
    writeFileSync(join(dir, 'nonces.journal.tmp'), '{"rwnonce":1,"floor":null}\n{"k":"half-writ');
    expect(open({ now: T0 + 1 }).remember('a', T0 + 10_000, T0 + 1)).toBe('seen');
  });

  it('file-nonce-store: a failing compaction (disk trouble) does not fail commands and is retried on the next append', () => {
    const store = open({ capacity: 10, compactAfterLines: 20, fsync: false });
    mkdirSync(join(dir, 'nonces.journal.tmp')); // the compaction cannot write its temporary file
    for (let i = 0; i < 30; i++) expect(store.remember(`k${i}`, T0 + 60_000 + i, T0)).toBe('fresh');
    expect(store.compactionError).toMatchObject({ code: 'journal_io' });
    expect(store.journalLines).toBeGreaterThan(20);
    rmSync(join(dir, 'nonces.journal.tmp'), { recursive: true });
    store.remember('after', T0 + 70_000, T0);
    expect(store.compactionError).toBeUndefined();
    expect(store.journalLines).toBeLessThanOrEqual(11);
    expect(store.remember('k29', T0 + 60_029, T0 + 1)).toBe('seen');
  });

  it('file-nonce-store: a complete last line without its newline still counts', () => {
    const first = open();
    first.close();
    appendFileSync(join(dir, 'nonces.journal'), `{"k":"b","u":${T0 + 10_000}}`);
    expect(open({ now: T0 + 1 }).remember('b', T0 + 10_000, T0 + 1)).toBe('seen');
  });

  it.each([
    ['garbage in the middle', (t: string) => t.replace('\n', '\nnot json\n')],
    ['an entry of the wrong shape', (t: string) => `${t}{"x":1}\n`],
    ['a journal of another version', () => '{"rwnonce":2}\n'],
  ])('file-nonce-store: %s fails the open with journal_corrupt (fail closed)', (_name, corrupt) => {
    const first = open();
    first.remember('a', T0 + 10_000, T0);
    first.close();
    const path = join(dir, 'nonces.journal');
    writeFileSync(path, corrupt(readFileSync(path, 'utf8')));
    let error: unknown;
    try {
      open({ now: T0 + 1 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecurityError);
    expect(error).toMatchObject({ code: 'journal_corrupt', context: { path } });
  });

  it('file-nonce-store: remember after close is a store_closed error; a missing directory is journal_io', () => {
    const store = open();
    store.close();
    expect(() => store.remember('a', T0 + 1, T0)).toThrow(expect.objectContaining({ code: 'store_closed' }));
    expect(() => FileNonceStore.open({ path: join(dir, 'missing', 'j'), now: T0 })).toThrow(expect.objectContaining({ code: 'journal_io' }));
  });

  it('file-nonce-store: the journal is private to its user (0600)', () => {
    const store = open();
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
  });
});
