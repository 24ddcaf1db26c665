/**
 * Issue 15 item 9 with the built binaries: `rigwarden-agent record` against a simulated cgminer 4.11.1 over a real
 * socket, `rigwarden-simfarm --replay` serving that recording, `rigwarden-agent record` again against the replay:
 * the second recording has the same exchanges with the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor } from '@rigwarden/testing';
import { bin } from './scenario-harness';

jest.setTimeout(60_000);

interface Line { cmd: string; sha256: string; bytes: number; end: string }
const index = (dir: string): Line[] => readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('real miners: record and replay with the binaries', () => {
  it('real miners: record, replay, record the replay: the same bytes', async () => {
    const tmp = makeTempDir('rigwarden-rr-');
    const sim = new CgminerSimulator({ program: 'cgminer-4.11.1-no-devices', lifetimeMs: 50_000 });
    const target = await sim.start();
    const first = join(tmp.path, 'first');
    const second = join(tmp.path, 'second');
    try {
      const rec = await runNode(bin('rigwarden-agent'), ['record', '--out', first, `${target.host}:${target.port}`, '--interval', '500', '--duration', '2']);
      expect(rec).toMatchObject({ code: 0 });
      expect(rec.stdout).toContain('recorded 4 polls, 25 exchanges');
      await sim.stop();

      const ready = join(tmp.path, 'replay.ready.json');
      const replay = startNode(bin('rigwarden-simfarm'), ['--replay', first, '--port', '0', '--ready-file', ready]);
      try {
        const { port } = await waitFor('the replay', () => (existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as { port: number } : undefined), 10_000);
        const again = await runNode(bin('rigwarden-agent'), ['record', '--out', second, `127.0.0.1:${port}`, '--interval', '500', '--duration', '2']);
        expect(again).toMatchObject({ code: 0 });
        expect(replay.output()).toContain(`replaying ${first}`);
      } finally {
        await replay.stop('SIGTERM', 5000);
      }
      const a = index(first);
      expect(a.every((l) => l.end === 'close' && l.bytes > 0)).toBe(true);
      expect(index(second).map((l) => [l.cmd, l.sha256])).toEqual(a.map((l) => [l.cmd, l.sha256]));
    } finally {
      await sim.stop();
      tmp.remove();
    }
  });
});
