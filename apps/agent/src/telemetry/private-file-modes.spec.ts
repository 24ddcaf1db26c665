import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { CommandJournal } from '../commands/command-journal';
import { DiskQueue } from './disk-queue';
import { SeqStore } from './seq-store';

const mode = (path: string): number => statSync(path).mode & 0o777;

/**
 * The agent's outbox (snapshots, command results), seq reservations and command journal are 0600 in 0700
 * directories: under a umask of 0, so nothing here is the umask's doing, and fixed on an existing data dir.
 */
describe('agent file modes', () => {
  let dir: TempDir;
  let umask: number;

  beforeEach(() => {
    umask = process.umask(0);
    dir = makeTempDir('rigwarden-agent-modes-');
  });

  afterEach(() => {
    process.umask(umask);
    dir.remove();
  });

  const fill = (data: string): void => {
    const queue = new DiskQueue(join(data, 'outbox'), { maxBytes: 1 << 20, maxAgeMs: 60_000, segmentBytes: 4096, clock: new ManualClock(1000) });
    queue.push({ topic: 't/1', payload: '{"seq":1}', at: 1000 });
    queue.push({ topic: 't/2', payload: '{"seq":2}', at: 1000 });
    queue.ack(1);
    new SeqStore(data).take('rig-1');
    new CommandJournal(join(data, 'commands.journal')).record('cmd-1', 'started', 1000);
  };
  const modes = (data: string): Record<string, number> => {
    const out: Record<string, number> = { '.': mode(data), outbox: mode(join(data, 'outbox')) };
    for (const name of readdirSync(data)) if (name !== 'outbox') out[name] = mode(join(data, name));
    for (const name of readdirSync(join(data, 'outbox'))) out[`outbox/${name}`] = mode(join(data, 'outbox', name));
    return out;
  };

  it('a new data dir: outbox segments and cursor, seq.json and the journal are 0600, the directories 0700', () => {
    const data = join(dir.path, 'agent-data');
    fill(data);
    expect(modes(data)).toEqual({
      '.': 0o700, outbox: 0o700, 'seq.json': 0o600, 'commands.journal': 0o600,
      'outbox/seg-000000000001.jsonl': 0o600, 'outbox/cursor.json': 0o600,
    });
  });

  it('an existing data dir left 0755/0644 by an older version is narrowed when the agent opens it', () => {
    const data = join(dir.path, 'old-agent');
    fill(data);
    chmodSync(data, 0o755);
    chmodSync(join(data, 'outbox'), 0o755);
    for (const f of ['seq.json', 'commands.journal', 'outbox/seg-000000000001.jsonl', 'outbox/cursor.json']) chmodSync(join(data, f), 0o644);
    new DiskQueue(join(data, 'outbox'), { maxBytes: 1 << 20, maxAgeMs: 60_000, clock: new ManualClock(1000) });
    new SeqStore(data);
    new CommandJournal(join(data, 'commands.journal'));
    expect(modes(data)).toEqual({
      '.': 0o700, outbox: 0o700, 'seq.json': 0o600, 'commands.journal': 0o600,
      'outbox/seg-000000000001.jsonl': 0o600, 'outbox/cursor.json': 0o600,
    });
  });
});
