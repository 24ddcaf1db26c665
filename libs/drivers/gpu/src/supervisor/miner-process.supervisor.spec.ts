import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { GPU_MINER_MAIN_TS, GpuMinerSimulator } from '@rigwarden/simulators';
import { ManualClock } from '@rigwarden/shared';
import { LolminerDriver } from '../http/lolminer.driver';
import { TrexDriver } from '../http/trex.driver';
import { LogRing } from './log-ring';
import { MinerProcessSupervisor, type MinerSupervisorOptions, type SupervisorEvent } from './miner-process.supervisor';
import { restartDelayMs } from './restart-backoff';
import { SupervisedDriver } from './supervised.driver';

const NODE = process.execPath;
const supervisors: MinerProcessSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
});

function supervise(options: Partial<MinerSupervisorOptions> & Pick<MinerSupervisorOptions, 'command'>): { s: MinerProcessSupervisor; events: SupervisorEvent[] } {
  const events: SupervisorEvent[] = [];
  const s = new MinerProcessSupervisor({ name: 'test-miner', stopGraceMs: 2_000, onEvent: (e) => events.push(e), ...options });
  supervisors.push(s);
  return { s, events };
}

async function until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Running, not a zombie waiting for a reaper (PID 1 in a container may not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe('miner process supervisor (real child processes)', () => {
  it('runs the command line and keeps the last lines of its output for tail', async () => {
    const { s } = supervise({
      command: { file: NODE, args: ['-e', 'for (let i = 0; i < 50; i++) console.log("line " + i); console.error("to stderr"); setInterval(() => {}, 1000)'] },
      logLines: 20,
    });
    s.start();
    await until(() => s.tail(1)[0] === 'to stderr', 5_000, 'output');
    expect(s.tail(3)).toEqual(['line 48', 'line 49', 'to stderr']);
    expect(s.tail()).toHaveLength(20);
    expect(s.status()).toMatchObject({ state: 'running', starts: 1, restarts: 0 });
  });

  it('a crash (non-zero exit) is restarted with exponential backoff', async () => {
    const { s, events } = supervise({
      command: { file: NODE, args: ['-e', 'console.log("boot"); process.exit(3)'] },
      restart: { initialDelayMs: 50, factor: 2, maxDelayMs: 200, resetAfterMs: 60_000 },
    });
    s.start();
    await until(() => events.filter((e) => e.type === 'restart-scheduled').length >= 4, 8_000, 'four restarts');
    const exits = events.filter((e) => e.type === 'exited');
    expect(exits[0]).toMatchObject({ reason: 'crash', code: 3, signal: null });
    expect(events.filter((e) => e.type === 'restart-scheduled').slice(0, 4).map((e) => (e as { delayMs: number }).delayMs)).toEqual([50, 100, 200, 200]);
    expect(s.tail().filter((l) => l === 'boot').length).toBeGreaterThanOrEqual(4);
  });

  it('a run longer than resetAfterMs (on the injected clock) starts the backoff from the beginning again', async () => {
    const clock = new ManualClock(0);
    let starts = 0;
    const events: SupervisorEvent[] = [];
    const s = new MinerProcessSupervisor({
      name: 'reset-test', clock, command: { file: NODE, args: ['-e', 'setTimeout(() => process.exit(2), 50)'] },
      restart: { initialDelayMs: 40, factor: 2, maxDelayMs: 1_000, resetAfterMs: 60_000 },
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'started' && ++starts === 3) clock.advance(61_000); // the third run is a long, healthy one
      },
    });
    supervisors.push(s);
    s.start();
    await until(() => events.filter((e) => e.type === 'restart-scheduled').length >= 4, 8_000, 'four restarts');
    const delays = events.filter((e): e is Extract<SupervisorEvent, { type: 'restart-scheduled' }> => e.type === 'restart-scheduled').map((e) => e.delayMs);
    expect(delays.slice(0, 4)).toEqual([40, 80, 40, 80]);
  });

  it('a clean exit (code 0) is reported as exit, and restarted too: the miner should always run', async () => {
    const { s, events } = supervise({ command: { file: NODE, args: ['-e', 'process.exit(0)'] }, restart: { initialDelayMs: 50 } });
    s.start();
    await until(() => events.some((e) => e.type === 'restart-scheduled'), 5_000, 'restart');
    expect(events.find((e) => e.type === 'exited')).toMatchObject({ reason: 'exit', code: 0 });
  });

  it('a hang (API unreachable while the process lives) kills the miner and restarts it', async () => {
    const sim = new GpuMinerSimulator({ flavor: 'lolminer' });
    const address = await sim.start();
    sim.fault = 'api-hang';
    try {
      const driver = new LolminerDriver({ ...address, options: { timeoutMs: 100 } });
      const { s, events } = supervise({
        command: { file: NODE, args: ['-e', 'setInterval(() => {}, 1000)'] },
        probe: (signal) => driver.collect({ signal, deadlineMs: 100 }),
        probeIntervalMs: 50, probeTimeoutMs: 150, startupGraceMs: 200, hangAfterMs: 400,
        restart: { initialDelayMs: 50 },
      });
      s.start();
      await until(() => events.some((e) => e.type === 'exited'), 8_000, 'hang kill');
      const hang = events.find((e) => e.type === 'hang') as Extract<SupervisorEvent, { type: 'hang' }>;
      expect(hang.unreachableForMs).toBeGreaterThanOrEqual(400);
      expect(events.find((e) => e.type === 'exited')).toMatchObject({ reason: 'hang', signal: 'SIGTERM' });
      expect(s.status().apiReachable).toBe(false);
      await until(() => events.filter((e) => e.type === 'started').length === 2, 5_000, 'restart after hang');
      sim.fault = 'none';
      await until(() => s.status().apiReachable === true, 5_000, 'API back');
    } finally {
      await sim.stop();
    }
  });

  it('hang timing follows the injected clock: production-size grace and hang windows, decided in milliseconds', async () => {
    const clock = new ManualClock(1_000_000);
    let probes = 0;
    const { s, events } = supervise({
      command: { file: NODE, args: ['-e', 'setInterval(() => {}, 1000)'] },
      probe: async () => { probes++; throw new Error('connection refused'); },
      probeIntervalMs: 20, startupGraceMs: 120_000, hangAfterMs: 90_000, clock, restart: { initialDelayMs: 60_000 },
    });
    s.start();
    await until(() => probes >= 3, 5_000, 'three failed probes');
    expect(events.some((e) => e.type === 'hang')).toBe(false); // within the startup grace
    clock.advance(100_000);
    const before = probes;
    await until(() => probes >= before + 3, 5_000, 'three more failed probes');
    expect(events.some((e) => e.type === 'hang')).toBe(false); // unreachable for 100 s, but still inside the 120 s startup grace
    clock.advance(30_000);
    await until(() => events.some((e) => e.type === 'exited'), 5_000, 'hang kill');
    expect(events.find((e) => e.type === 'hang')).toMatchObject({ unreachableForMs: 130_000 });
    expect(events.find((e) => e.type === 'exited')).toMatchObject({ reason: 'hang', ranForMs: 130_000 });
  });

  it('stop sends SIGTERM, then SIGKILL after the grace period to a miner that ignores SIGTERM', async () => {
    const { s, events } = supervise({
      command: { file: NODE, args: ['-e', 'process.on("SIGTERM", () => console.log("ignoring TERM")); console.log("up"); setInterval(() => {}, 1000)'] },
      stopGraceMs: 300,
    });
    s.start();
    await until(() => s.tail().includes('up'), 5_000, 'start');
    const pid = s.status().pid!;
    const started = Date.now();
    await s.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3_000);
    expect(alive(pid)).toBe(false);
    expect(s.tail()).toEqual(expect.arrayContaining(['ignoring TERM', '[rigwarden] pid ' + pid + ' still running 300 ms after SIGTERM: SIGKILL']));
    expect(s.status()).toMatchObject({ state: 'stopped', lastExit: { signal: 'SIGKILL' } });
    expect(events.at(-1)?.type).toBe('stopped');
    expect(events.some((e) => e.type === 'restart-scheduled')).toBe(false);
  });

  it('stop takes the whole process group, grandchildren included', async () => {
    const { s } = supervise({ command: { file: '/bin/sh', args: ['-c', 'sleep 300 & echo "grandchild $!"; wait'] } });
    s.start();
    await until(() => s.tail().some((l) => l.startsWith('grandchild ')), 5_000, 'grandchild');
    const grandchild = Number(s.tail().find((l) => l.startsWith('grandchild '))!.split(' ')[1]);
    expect(alive(grandchild)).toBe(true);
    await s.stop();
    await until(() => !alive(grandchild), 3_000, 'grandchild gone');
  });

  it('restart on request stops the miner cleanly and starts a new one at once', async () => {
    const { s, events } = supervise({
      command: { file: NODE, args: ['-e', 'console.log("pid " + process.pid + " " + process.env.RIG_TEST); setInterval(() => {}, 1000)'], env: { RIG_TEST: 'on' } },
    });
    s.start();
    await until(() => s.tail().some((l) => l.startsWith('pid ')), 5_000, 'first start');
    const first = s.status().pid!;
    expect(s.tail()).toContain(`pid ${first} on`);
    await s.restart();
    expect(s.status()).toMatchObject({ state: 'running', starts: 2, consecutiveFailures: 0 });
    expect(s.status().pid).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['started', 'stopped', 'started']);
  });

  it('a command that does not exist is spawn-failed (not_installed) and retried with backoff', async () => {
    const { s, events } = supervise({ command: { file: '/nonexistent/t-rex', args: [] }, restart: { initialDelayMs: 30 } });
    s.start();
    await until(() => events.filter((e) => e.type === 'spawn-failed').length >= 2, 5_000, 'two spawn failures');
    expect(events[0]).toMatchObject({ type: 'spawn-failed', error: expect.objectContaining({ kind: 'not_installed' }) });
  });

  it('no orphans: when the agent is killed with SIGKILL the watchdog takes the miner and its children down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rigwarden-orphan-'));
    try {
      const outfile = join(dir, 'agent.js');
      buildSync({ entryPoints: [join(__dirname, 'testing/orphan-agent.harness.ts')], bundle: true, platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
      const agent = spawn(NODE, [outfile], { stdio: ['ignore', 'pipe', 'inherit'] });
      const pids = await new Promise<{ miner: number; grandchild: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('agent printed no pids')), 8_000);
        agent.stdout.setEncoding('utf8').once('data', (line: string) => {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { miner: number; grandchild: number });
        });
      });
      expect(alive(pids.miner) && alive(pids.grandchild)).toBe(true);
      agent.kill('SIGKILL');
      const started = Date.now();
      await until(() => !alive(pids.miner) && !alive(pids.grandchild), 5_000, 'miner and grandchild gone');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('log ring and backoff', () => {
  it('joins lines split across chunks and keeps the last N', () => {
    const ring = new LogRing(3);
    ring.write('a\nb');
    ring.write('c\nd\ne\n');
    expect(ring.tail()).toEqual(['bc', 'd', 'e']);
    expect(ring.tail(1)).toEqual(['e']);
    expect(ring.droppedLines()).toBe(1);
  });

  it('never merges a half line of stdout with a line of stderr', () => {
    const ring = new LogRing(5);
    ring.write('GPU0: 60', 'stdout');
    ring.write('warning: low memory\n', 'stderr');
    ring.write('.1 MH/s\n', 'stdout');
    ring.write('no newline at exit', 'stderr');
    ring.flush();
    expect(ring.tail()).toEqual(['warning: low memory', 'GPU0: 60.1 MH/s', 'no newline at exit']);
  });

  it('strips terminal colour codes that miners print', () => {
    const ring = new LogRing(5);
    ring.write('\u001b[32mGPU0: 60.1 MH/s\u001b[0m\n');
    expect(ring.tail()).toEqual(['GPU0: 60.1 MH/s']);
  });

  it('restart delay doubles up to the cap', () => {
    const policy = { initialDelayMs: 1_000, factor: 2, maxDelayMs: 30_000, resetAfterMs: 300_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(n, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
});

describe('supervised driver', () => {
  it('a collect while the miner process is down names the exit and shows the log tail; restartMiner restarts it', async () => {
    const sim = new GpuMinerSimulator({ flavor: 'lolminer' });
    const address = await sim.start();
    try {
      const { s } = supervise({ command: { file: NODE, args: ['-e', 'console.log("CUDA error 700"); process.exit(1)'] }, restart: { initialDelayMs: 60_000 } });
      const driver = new SupervisedDriver(new LolminerDriver(address), s);
      s.start();
      await until(() => s.status().state === 'backoff', 5_000, 'crash');
      const err = await driver.collect({ signal: new AbortController().signal, deadlineMs: 1_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'unreachable' });
      expect((err as Error).message).toMatch(/miner process is backoff \(last crash: exit code 1\).*CUDA error 700/);
      await driver.restartMiner();
      expect(s.status()).toMatchObject({ starts: 2, consecutiveFailures: 0 });
    } finally {
      await sim.stop();
    }
  });
});

describe('end to end: a real miner API process under supervision', () => {
  it('a miner that stops answering (SIGSTOP: alive, API silent) is detected as hung, SIGKILLed after the grace and restarted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rigwarden-fake-miner-'));
    try {
      const script = join(dir, 'fake-miner.js');
      buildSync({ entryPoints: [GPU_MINER_MAIN_TS], bundle: true, platform: 'node', target: 'node20', outfile: script, logLevel: 'silent' });
      const port = await freePort();
      const driver = new TrexDriver({ host: '127.0.0.1', port, options: { timeoutMs: 150 } });
      const { s, events } = supervise({
        command: { file: NODE, args: [script, '--flavor', 't-rex', '--port', String(port), '--report-ms', '100'] },
        probe: (signal) => driver.collect({ signal, deadlineMs: 150 }),
        probeIntervalMs: 50, probeTimeoutMs: 300, startupGraceMs: 300, hangAfterMs: 600, stopGraceMs: 300,
        restart: { initialDelayMs: 100 },
      });
      s.start();
      await until(() => s.status().apiReachable === true && s.tail().includes('GPU0: 60.00 MH/s, 60C'), 8_000, 'API up');
      expect(s.tail()).toEqual(expect.arrayContaining([`API listening on 127.0.0.1:${port}`, 'GPU0: 60.00 MH/s, 60C']));
      const frozen = s.status().pid!;
      process.kill(frozen, 'SIGSTOP');
      await until(() => events.some((e) => e.type === 'exited'), 8_000, 'hang kill');
      expect(events.find((e) => e.type === 'exited')).toMatchObject({ pid: frozen, reason: 'hang', signal: 'SIGKILL' });
      await until(() => events.filter((e) => e.type === 'started').length === 2 && s.status().apiReachable === true, 8_000, 'restarted and answering');
      const reading = await driver.collect({ signal: new AbortController().signal, deadlineMs: 1_000 });
      expect(reading.boards).toHaveLength(2);
      await s.stop();
      expect(s.tail()).toContain('shutting down'); // a cooperative miner exits on SIGTERM
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
