import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { RecordingReplaySimulator } from './recording-replay.simulator';

/** Writes a recording by hand: summary at t=0, 1000, 2000 ms, pools at 10 ms after each, and a join probe. */
function writeRecording(dir: string, opts: { joins: boolean }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'recording.json'), JSON.stringify({ format: 'rigwarden-recording/1', target: '10.0.0.5:4028', intervalMs: 1000, joinProbe: 'summary+pools' }));
  const lines: string[] = [];
  let seq = 0;
  const add = (cmd: string, t: number, body: string, end = 'close', ms = 2): void => {
    const base = `${String(++seq).padStart(6, '0')}-${cmd}`;
    writeFileSync(join(dir, `${base}.request`), JSON.stringify({ command: cmd }));
    writeFileSync(join(dir, `${base}.response`), body === '' ? Buffer.alloc(0) : Buffer.from(`${body}\u0000`, 'latin1'));
    lines.push(JSON.stringify({ seq, poll: Math.floor(t / 1000), cmd, t, ms, request: `${base}.request`, response: `${base}.response`, bytes: body.length + 1, sha256: '', end }));
  };
  for (const t of [0, 1000, 2000]) {
    add('summary', t, `{"SUMMARY":[{"Elapsed":${t / 1000},"MHS av":0.00}],"id":1}`);
    add('pools', t + 10, `{"POOLS":[{"POOL":0,"Accepted":${t}}],"id":1}`);
    if (t === 0) add('summary+pools', 20, opts.joins ? '{"summary":[{}],"pools":[{}],"id":1}' : '{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"cgminer 2.11.4"}],"id":1}');
  }
  add('stats', 2050, '', 'timeout');
  writeFileSync(join(dir, 'index.jsonl'), `${lines.join('\n')}\n`);
}

describe('RecordingReplaySimulator', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = makeTempDir('rigwarden-replay-');
  });
  afterEach(() => tmp.remove());

  async function replay(opts: { joins?: boolean; loop?: boolean } = {}): Promise<{ sim: RecordingReplaySimulator; clock: { ms: number } }> {
    writeRecording(tmp.path, { joins: opts.joins ?? true });
    const clock = { ms: 1_000_000 };
    const sim = new RecordingReplaySimulator({ dir: tmp.path, now: () => clock.ms, loop: opts.loop, startAt: 'listen', lifetimeMs: 10_000 });
    await sim.start();
    return { sim, clock };
  }

  it.each([
    [0, 0], [400, 0], [900, 1], [1480, 1], [1600, 2], [9000, 2],
  ])('replay: a summary request at %d ms gets the reply recorded closest to then (Elapsed %d), the last after the end', async (at, elapsed) => {
    const { sim, clock } = await replay();
    try {
      clock.ms += at;
      expect(sim.answer('{"command":"summary"}').bytes.toString('latin1')).toBe(`{"SUMMARY":[{"Elapsed":${elapsed},"MHS av":0.00}],"id":1}\u0000`);
    } finally {
      await sim.stop();
    }
  });

  it('replay: --loop starts again from the beginning after the end', async () => {
    const { sim, clock } = await replay({ loop: true });
    try {
      clock.ms += 2050 + 1000 + 100; // span: the last exchange (2050) + one interval, then 100 ms into the second pass
      expect(sim.answer('{"command":"summary"}').bytes.toString('latin1')).toContain('"Elapsed":0,');
    } finally {
      await sim.stop();
    }
  });

  it('replay: a joined request is assembled from the parts at that moment, the way cgminer joins them', async () => {
    const { sim, clock } = await replay();
    try {
      clock.ms += 1000;
      expect(sim.answer('{"command":"summary+pools"}').bytes.toString('latin1'))
        .toBe('{"summary":[{"SUMMARY":[{"Elapsed":1,"MHS av":0.00}],"id":1}],"pools":[{"POOLS":[{"POOL":0,"Accepted":1000}],"id":1}],"id":1}\u0000');
    } finally {
      await sim.stop();
    }
  });

  it('replay: a miner that did not join multi-commands refuses them with its recorded error', async () => {
    const { sim } = await replay({ joins: false });
    try {
      expect(sim.recording.joins).toBe(false);
      expect(sim.answer('{"command":"version+summary"}').bytes.toString('latin1')).toContain('"Description":"cgminer 2.11.4"');
    } finally {
      await sim.stop();
    }
  });

  it('replay: a command never recorded gets Code 14; one that timed out is held open without a reply', async () => {
    const { sim } = await replay();
    try {
      expect(sim.answer('{"command":"devs"}').bytes.toString('latin1')).toMatch(/^\{"STATUS":\[\{"STATUS":"E","When":\d+,"Code":14,"Msg":"Invalid command"\}\],"id":1\}\u0000$/);
      expect(sim.answer('{"command":"stats"}')).toEqual({ bytes: Buffer.alloc(0), delayMs: 2, close: false });
    } finally {
      await sim.stop();
    }
  });

  it('replay: a command that would change the miner is refused as by a read-only API (Code 45)', async () => {
    const { sim } = await replay({ joins: false });
    try {
      expect(sim.answer('{"command":"addpool","parameter":"stratum+tcp://x:1,u,p"}').bytes.toString('latin1'))
        .toMatch(/^\{"STATUS":\[\{"STATUS":"E","When":\d+,"Code":45,"Msg":"Access denied to 'addpool' command","Description":"cgminer 2.11.4"\}\],"id":1\}\u0000$/);
    } finally {
      await sim.stop();
    }
  });

  it('replay: over TCP the recorded bytes come back exactly and the connection closes', async () => {
    const { sim, clock } = await replay();
    try {
      clock.ms += 2000;
      const { host, port } = sim.address();
      const data = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = connect({ host, port }, () => socket.write('{"command":"pools"}'));
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('error', reject);
        socket.on('close', () => resolve(Buffer.concat(chunks)));
      });
      expect(data.toString('latin1')).toBe('{"POOLS":[{"POOL":0,"Accepted":2000}],"id":1}\u0000');
      expect(sim.requests).toEqual(['{"command":"pools"}']);
    } finally {
      await sim.stop();
    }
  });

  it('replay: by default its time 0 is the first request, so a client that starts later sees the recording from its start', async () => {
    writeRecording(tmp.path, { joins: true });
    const clock = { ms: 1_000_000 };
    const sim = new RecordingReplaySimulator({ dir: tmp.path, now: () => clock.ms, lifetimeMs: 10_000 });
    await sim.start();
    try {
      clock.ms += 5_000; // nobody asked yet
      expect(sim.answer('{"command":"summary"}').bytes.toString('latin1')).toContain('"Elapsed":0,');
      clock.ms += 1_000;
      expect(sim.answer('{"command":"summary"}').bytes.toString('latin1')).toContain('"Elapsed":1,');
    } finally {
      await sim.stop();
    }
  });

  it('replay: a directory that is not a recording is refused with the file named', () => {
    mkdirSync(join(tmp.path, 'x'));
    writeFileSync(join(tmp.path, 'x', 'recording.json'), '{"format":"other"}');
    expect(() => new RecordingReplaySimulator({ dir: join(tmp.path, 'x') })).toThrow(/recording\.json: format "other"/);
  });
});
