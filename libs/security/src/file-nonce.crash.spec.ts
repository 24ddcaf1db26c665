import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { FileNonceStore } from './file-nonce.store';
import { T0 } from './testing/envelope-fixtures';

/**
 * A real crash: a child process remembers nonces as fast as it can and reports each one after `remember` returned
 * (as the agent would run the command), then is killed with SIGKILL mid-stream. Every reported nonce must be `seen`
 * by the store reopened from the journal.
 */
describe('file-nonce-store crash', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rw-crash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('file-nonce-store: nonces acknowledged before a SIGKILL are all seen after reopening', async () => {
    const bundle = join(dir, 'store.js');
    buildSync({ entryPoints: [join(__dirname, 'file-nonce.store.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent' });
    const child = join(dir, 'child.js');
    writeFileSync(child, `
      const { FileNonceStore } = require(${JSON.stringify(bundle)});
      const store = FileNonceStore.open({ path: process.argv[2], now: ${T0}, capacity: 300, compactAfterLines: 700 });
      for (let i = 0; ; i++) {
        if (store.remember('rig-7:n' + i, ${T0} + 600000 + i, ${T0}) === 'fresh') process.stdout.write(i + '\\n');
      }
    `);
    const journal = join(dir, 'nonces.journal');
    const proc = spawn(process.execPath, [child, journal], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: number[] = [];
    let buffer = '';
    await new Promise<void>((resolve) => {
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) acknowledged.push(Number(line));
        if (acknowledged.length >= 1_000 && proc.exitCode === null && !proc.killed) proc.kill('SIGKILL');
      });
      const guard = setTimeout(() => proc.kill('SIGKILL'), 15_000); // never hang the suite
      proc.on('exit', () => {
        clearTimeout(guard);
        resolve();
      });
    });
    expect(acknowledged.length).toBeGreaterThanOrEqual(1_000);
    expect(proc.signalCode).toBe('SIGKILL'); // killed mid-stream, not finished

    const reopened = FileNonceStore.open({ path: journal, now: T0 + 1, capacity: 300, compactAfterLines: 700 });
    try {
      const verdicts = acknowledged.map((i) => reopened.remember(`rig-7:n${i}`, T0 + 600_000 + i, T0 + 1));
      expect(verdicts.filter((v) => v === 'fresh')).toEqual([]); // 'seen', or 'saturated' for those evicted to the floor
      expect(reopened.size()).toBeLessThanOrEqual(300);
    } finally {
      reopened.close();
    }
  });
});
