import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CgminerSimulator, RecordingReplaySimulator } from '@rigwarden/simulators';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { DEFAULT_RECORD_COMMANDS, JOIN_PROBE, MinerRecorder, type RecordedExchange } from './miner-recorder';
import { runRecordCommand } from './record.command';

function index(dir: string): RecordedExchange[] {
  return readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordedExchange);
}

describe('rigwarden-agent record', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = makeTempDir('rigwarden-record-');
  });
  afterEach(() => tmp.remove());

  it('record: every request and reply byte for byte, with time offsets, durations and sha256', async () => {
    const sim = new CgminerSimulator({ program: 'bfgminer-5.5.0-cpu', lifetimeMs: 20_000 });
    const target = await sim.start();
    try {
      const out = join(tmp.path, 'rec');
      const summary = await new MinerRecorder({ ...target, outDir: out, intervalMs: 300, durationS: 0.9 }).run();
      expect(summary.polls).toBe(3);
      const lines = index(out);
      expect(lines.map((l) => l.cmd)).toEqual([...DEFAULT_RECORD_COMMANDS, JOIN_PROBE, ...DEFAULT_RECORD_COMMANDS, ...DEFAULT_RECORD_COMMANDS]);
      // What the miner received is what the recording says was sent.
      expect(sim.requests.map((r) => r.toString('latin1'))).toEqual(lines.map((l) => readFileSync(join(out, l.request), 'latin1')));
      for (const l of lines) {
        const bytes = readFileSync(join(out, l.response));
        expect(l.end).toBe('close');
        expect(bytes.length).toBe(l.bytes);
        expect(bytes[bytes.length - 1]).toBe(0);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(l.sha256);
      }
      expect(readFileSync(join(out, lines[0]!.response), 'latin1')).toContain('"Miner":"bfgminer 5.5.0-34-g866fd36f"');
      const polls = [0, 1, 2].map((p) => lines.find((l) => l.poll === p)!.t);
      expect(polls[1]! - polls[0]!).toBeGreaterThanOrEqual(250);
      expect(polls[2]! - polls[1]!).toBeGreaterThanOrEqual(250);
      expect(lines.every((l) => l.ms >= 0 && l.ms < 1000)).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('record: a simulated miner recorded, replayed and recorded again gives the same bytes', async () => {
    const sim = new CgminerSimulator({ program: 'cgminer-2.11.4-cpu', lifetimeMs: 20_000 });
    const target = await sim.start();
    const first = join(tmp.path, 'first');
    const second = join(tmp.path, 'second');
    try {
      await new MinerRecorder({ ...target, outDir: first, intervalMs: 500, durationS: 2 }).run();
    } finally {
      await sim.stop();
    }
    const replay = new RecordingReplaySimulator({ dir: first, lifetimeMs: 20_000 });
    const replayed = await replay.start();
    try {
      await new MinerRecorder({ ...replayed, outDir: second, intervalMs: 500, durationS: 2 }).run();
    } finally {
      await replay.stop();
    }
    const a = index(first);
    const b = index(second);
    expect(b.map((l) => [l.cmd, l.sha256, l.bytes])).toEqual(a.map((l) => [l.cmd, l.sha256, l.bytes]));
    // The replies change from poll to poll (When, Elapsed): the replay picked each at its moment, not any reply.
    const summaries = new Set(a.filter((l) => l.cmd === 'summary').map((l) => l.sha256));
    expect(summaries.size).toBeGreaterThan(1);
    const files = readdirSync(second).filter((f) => f.endsWith('.response')).sort();
    for (const f of files) expect(readFileSync(join(second, f)).equals(readFileSync(join(first, f)))).toBe(true);
  });

  it('record: the agent can poll the miner while it is recorded', async () => {
    const sim = new CgminerSimulator({ program: 'cgminer-4.11.1-no-devices', lifetimeMs: 20_000 });
    const target = await sim.start();
    try {
      const [rec, other] = await Promise.all([
        new MinerRecorder({ ...target, outDir: join(tmp.path, 'rec'), intervalMs: 200, durationS: 1 }).run(),
        new MinerRecorder({ ...target, outDir: join(tmp.path, 'agent'), intervalMs: 100, durationS: 1, commands: ['version+summary+pools+devs+stats+lcd'] }).run(),
      ]);
      expect(rec.failures).toBe(0);
      expect(other.failures).toBe(0);
      expect(rec.polls).toBe(5);
    } finally {
      await sim.stop();
    }
  });

  it('record: a miner that never answers is recorded as a timeout with no bytes', async () => {
    const sim = new CgminerSimulator({ lifetimeMs: 20_000 });
    sim.fault = 'hang';
    const target = await sim.start();
    try {
      const out = join(tmp.path, 'hang');
      const summary = await new MinerRecorder({ ...target, outDir: out, intervalMs: 1000, durationS: 0.5, timeoutMs: 100, commands: ['summary'] }).run();
      expect(summary.failures).toBe(2); // summary and the join probe
      expect(index(out).map((l) => [l.end, l.bytes])).toEqual([['timeout', 0], ['timeout', 0]]);
    } finally {
      await sim.stop();
    }
  });

  it.each([
    [['HOST:1'], '--out DIR is required'],
    [['--out', 'x'], 'HOST:PORT is required'],
    [['--out', 'x', 'h:1', '--interval', '0'], '--interval needs a positive number'],
    [['--out', 'x', 'h:99999'], 'bad port'],
  ])('record: %j is refused with usage', async (argv, message) => {
    const err: string[] = [];
    expect(await runRecordCommand(argv, () => undefined, (s) => err.push(s))).toBe(2);
    expect(err.join('\n')).toContain(message);
  });

  it('record: a miner that is down gives exit code 1 and an index of errors', async () => {
    const sim = new CgminerSimulator({ lifetimeMs: 20_000 });
    const target = await sim.start();
    await sim.stop(); // the port is closed now
    const out = join(tmp.path, 'down');
    const lines: string[] = [];
    const code = await runRecordCommand(['--out', out, `${target.host}:${target.port}`, '--interval', '1000', '--duration', '0.5', '--commands', 'summary'], (s) => lines.push(s), () => undefined);
    expect(code).toBe(1);
    expect(index(out).map((l) => l.end)).toEqual(['error', 'error']);
    expect(lines.join('\n')).toContain('2 without a reply');
  });
});
