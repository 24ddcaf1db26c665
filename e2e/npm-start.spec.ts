/**
 * `npm start` as a new user runs it: controller, embedded broker, simulated farm and
 * agent come up within a minute, rigctl shows the farm, and Ctrl-C (SIGINT) stops
 * every process it started.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, runNode, waitFor, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
jest.setTimeout(90_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  let dir: TempDir;
  beforeAll(() => { dir = makeTempDir('rigwarden-start-'); });
  afterAll(() => dir.remove());

  it('comes up in under a minute, shows the demo farm, and stops cleanly on SIGINT', async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(root, 'tools/start.mjs'), '--rigs', '3', '--data-dir', dir.path, '--no-build'], {
      cwd: root, env: { ...process.env, MQTT_URL: '', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let pids: number[] = [];
    try {
      const banner = await waitFor('the start banner', () => /gRPC API\s+(\S+)/.exec(output) ?? undefined, 60_000, 100);
      const grpc = banner[1]!;
      pids = [...output.matchAll(/(controller|simfarm|agent) (\d+)/g)].map((m) => Number(m[2]));
      expect(pids).toHaveLength(3);
      const rigs = await waitFor('three rigs with data', async () => {
        const { code, stdout } = await runNode(join(root, 'bin/rigctl.js'), ['--server', grpc, 'rigs', '--json'], { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') });
        if (code !== 0) return undefined;
        const parsed = JSON.parse(stdout) as { rigs: Array<{ rigId: string; miners: Array<{ hashrate5sHs?: number }> }> };
        return parsed.rigs.length === 3 && parsed.rigs.every((r) => r.miners[0]?.hashrate5sHs !== undefined) ? parsed.rigs : undefined;
      }, 30_000, 250);
      expect(rigs.map((r) => r.rigId)).toEqual(['sim-001', 'sim-002', 'sim-003']);
      expect(Date.now() - started).toBeLessThan(60_000);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toMatch(/rigwarden: stopped/);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL'); // only after a failure
    }
  });
});
