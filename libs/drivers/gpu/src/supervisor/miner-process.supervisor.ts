import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { systemClock, type Clock, type Logger } from '@rigwarden/shared';
import { GpuError } from '../gpu-error';
import { LogRing } from './log-ring';
import { DEFAULT_RESTART_POLICY, restartDelayMs, type RestartPolicy } from './restart-backoff';

export interface MinerCommand {
  /** The executable: no shell is involved, arguments are passed as they are. */
  file: string;
  args: readonly string[];
  cwd?: string;
  /** Added to the agent's environment (e.g. CUDA_DEVICE_ORDER=PCI_BUS_ID, GPU_MAX_ALLOC_PERCENT=100). */
  env?: NodeJS.ProcessEnv;
}

export interface MinerSupervisorOptions {
  /** A name for logs and errors, e.g. "t-rex@rig7". */
  name: string;
  command: MinerCommand;
  /** Resolves when the miner's API answers (e.g. the driver's collect); used for hang detection. */
  probe?: (signal: AbortSignal) => Promise<unknown>;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** The API may not answer while the miner starts (DAG generation, kernel tuning). */
  startupGraceMs?: number;
  /** API unreachable this long while the process lives is a hang: the miner is killed and restarted. */
  hangAfterMs?: number;
  restart?: Partial<RestartPolicy>;
  /** Time between SIGTERM and SIGKILL when stopping. */
  stopGraceMs?: number;
  /** Lines kept for tail(). */
  logLines?: number;
  /**
   * A tiny watchdog process per miner that kills the miner's process group when the
   * agent dies, even by SIGKILL (it blocks reading a pipe the agent holds; the kernel
   * closes it when the agent dies). On by default.
   */
  parentDeathWatchdog?: boolean;
  clock?: Clock;
  logger?: Logger;
  onEvent?: (event: SupervisorEvent) => void;
}

export type SupervisorState = 'idle' | 'running' | 'backoff' | 'stopping' | 'stopped';

export type ExitReason = 'exit' | 'crash' | 'hang';

export type SupervisorEvent =
  | { type: 'started'; pid: number; at: number }
  | { type: 'spawn-failed'; error: GpuError; at: number }
  | { type: 'exited'; pid: number; reason: ExitReason; code: number | null; signal: NodeJS.Signals | null; ranForMs: number; at: number }
  | { type: 'hang'; pid: number; unreachableForMs: number; at: number }
  | { type: 'restart-scheduled'; attempt: number; delayMs: number; at: number }
  | { type: 'stopped'; at: number };

export interface SupervisorStatus {
  state: SupervisorState;
  pid: number | undefined;
  starts: number;
  restarts: number;
  consecutiveFailures: number;
  apiReachable: boolean | undefined;
  lastExit: { reason: ExitReason; code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
}

/** Process groups of live miners, killed if the agent exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one miner command line and keeps it running: a ring buffer of its output
 * (tail on request), exit / crash / hang detection (hang = the API is unreachable
 * for hangAfterMs while the process lives), restarts with exponential backoff,
 * and a clean stop (SIGTERM to the process group, SIGKILL after the grace period).
 *
 * No orphans: the miner runs in its own process group (detached) so the whole
 * group is signalled; the group is killed on the agent's exit; and a watchdog
 * process kills it when the agent dies without running exit handlers (SIGKILL, OOM).
 */
export class MinerProcessSupervisor {
  readonly log: LogRing;
  private state: SupervisorState = 'idle';
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private startedAt = 0;
  private lastReachableAt = 0;
  private apiReachable: boolean | undefined;
  private starts = 0;
  private consecutiveFailures = 0;
  private lastExit: SupervisorStatus['lastExit'];
  private hangKill = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probeRunning = false;
  private exitWaiters: (() => void)[] = [];
  private readonly clock: Clock;
  private readonly policy: RestartPolicy;
  private readonly o: Required<Pick<MinerSupervisorOptions, 'probeIntervalMs' | 'probeTimeoutMs' | 'startupGraceMs' | 'hangAfterMs' | 'stopGraceMs' | 'parentDeathWatchdog'>>;

  constructor(private readonly options: MinerSupervisorOptions) {
    this.clock = options.clock ?? systemClock;
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.log = new LogRing(options.logLines ?? 1_000);
    this.o = {
      probeIntervalMs: options.probeIntervalMs ?? 10_000,
      probeTimeoutMs: options.probeTimeoutMs ?? 5_000,
      startupGraceMs: options.startupGraceMs ?? 120_000,
      hangAfterMs: options.hangAfterMs ?? 90_000,
      stopGraceMs: options.stopGraceMs ?? 10_000,
      parentDeathWatchdog: options.parentDeathWatchdog ?? true,
    };
  }

  status(): SupervisorStatus {
    return {
      state: this.state, pid: this.child?.pid, starts: this.starts, restarts: Math.max(0, this.starts - 1),
      consecutiveFailures: this.consecutiveFailures, apiReachable: this.apiReachable, lastExit: this.lastExit,
    };
  }

  /** The last n lines the miner printed. */
  tail(n?: number): string[] {
    return this.log.tail(n);
  }

  start(): void {
    if (this.state === 'running' || this.state === 'backoff') return;
    installExitHook();
    this.state = 'running';
    this.spawnMiner();
  }

  /**
   * Restart on request (an operator's RestartMiner, a new config): a clean stop, then
   * an immediate start with the failure count cleared. Resolves once the new process runs.
   */
  async restart(): Promise<void> {
    await this.stop();
    this.consecutiveFailures = 0;
    this.state = 'idle';
    this.start();
  }

  /** SIGTERM to the miner's process group, SIGKILL after stopGraceMs; resolves when it is gone. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    clearTimeout(this.restartTimer);
    this.stopProbing();
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      await this.terminate(child.pid);
    }
    this.state = 'stopped';
    this.emit({ type: 'stopped', at: this.clock.now() });
  }

  private emit(event: SupervisorEvent): void {
    const { logger, name } = { logger: this.options.logger, name: this.options.name };
    if (event.type === 'exited' || event.type === 'hang' || event.type === 'spawn-failed') {
      logger?.warn(`miner ${event.type}`, { miner: name, ...event, error: event.type === 'spawn-failed' ? event.error.message : undefined });
    } else {
      logger?.info(`miner ${event.type}`, { miner: name, ...event });
    }
    this.options.onEvent?.(event);
  }

  private spawnMiner(): void {
    const { file, args, cwd, env } = this.options.command;
    this.starts++;
    this.hangKill = false;
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.onSpawnFailure(err as NodeJS.ErrnoException);
      return;
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) this.onSpawnFailure(err);
    });
    if (child.pid === undefined) return; // 'error' follows
    const pid = child.pid;
    this.child = child;
    this.startedAt = this.clock.now();
    this.lastReachableAt = this.startedAt;
    this.apiReachable = undefined;
    liveGroups.add(pid);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.log.write(s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => this.log.write(s, 'stderr'));
    this.log.note(`started pid ${pid}: ${[file, ...args].join(' ')}`);
    if (this.o.parentDeathWatchdog) this.startWatchdog(pid);
    child.once('exit', (code, signal) => this.onExit(pid, code, signal));
    // Output can still arrive between 'exit' and the pipes closing: keep a last unterminated line.
    child.once('close', () => this.log.flush());
    this.emit({ type: 'started', pid, at: this.startedAt });
    this.startProbing();
  }

  private onSpawnFailure(err: NodeJS.ErrnoException): void {
    const error = new GpuError(err.code === 'ENOENT' ? 'not_installed' : 'spawn_failed',
      `cannot start ${this.options.command.file}: ${err.code ?? err.message}`, { command: this.options.name, path: this.options.command.file }, { cause: err });
    this.log.note(error.message);
    this.emit({ type: 'spawn-failed', error, at: this.clock.now() });
    this.scheduleRestart();
  }

  private onExit(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    this.log.flush();
    this.stopProbing();
    this.stopWatchdog();
    // Whatever the miner left behind in its group goes too.
    if (groupAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    liveGroups.delete(pid);
    const now = this.clock.now();
    const ranForMs = now - this.startedAt;
    const reason: ExitReason = this.hangKill ? 'hang' : code === 0 ? 'exit' : 'crash';
    this.lastExit = { reason, code, signal, at: now };
    this.child = undefined;
    this.log.note(`pid ${pid} ${reason}: ${signal ? `signal ${signal}` : `exit code ${code}`} after ${ranForMs} ms`);
    const waiters = this.exitWaiters.splice(0);
    if (this.state === 'stopping') {
      waiters.forEach((w) => w());
      return;
    }
    this.emit({ type: 'exited', pid, reason, code, signal, ranForMs, at: now });
    waiters.forEach((w) => w());
    if (ranForMs >= this.policy.resetAfterMs) this.consecutiveFailures = 0;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.consecutiveFailures++;
    const delayMs = restartDelayMs(this.consecutiveFailures, this.policy);
    this.state = 'backoff';
    this.emit({ type: 'restart-scheduled', attempt: this.consecutiveFailures, delayMs, at: this.clock.now() });
    this.restartTimer = setTimeout(() => {
      if (this.state !== 'backoff') return;
      this.state = 'running';
      this.spawnMiner();
    }, delayMs);
  }

  private startProbing(): void {
    const probe = this.options.probe;
    if (!probe) return;
    this.probeTimer = setInterval(() => {
      if (this.probeRunning || !this.child) return;
      this.probeRunning = true;
      const pid = this.child.pid!;
      probe(AbortSignal.timeout(this.o.probeTimeoutMs)).then(() => {
        this.apiReachable = true;
        this.lastReachableAt = this.clock.now();
      }, () => {
        this.apiReachable = false;
        this.checkHang(pid);
      }).finally(() => {
        this.probeRunning = false;
      });
    }, this.o.probeIntervalMs);
  }

  private checkHang(pid: number): void {
    const child = this.child;
    if (!child || child.pid !== pid || this.state !== 'running' || this.hangKill) return;
    const now = this.clock.now();
    if (now - this.startedAt < this.o.startupGraceMs) return;
    const unreachableForMs = now - this.lastReachableAt;
    if (unreachableForMs < this.o.hangAfterMs) return;
    this.hangKill = true;
    this.emit({ type: 'hang', pid, unreachableForMs, at: now });
    this.log.note(`API unreachable for ${unreachableForMs} ms while pid ${pid} lives: killing it`);
    void this.terminate(pid);
  }

  private stopProbing(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** SIGTERM the group, SIGKILL after the grace period, resolve on exit. */
  private terminate(pid: number): Promise<void> {
    const child = this.child;
    if (!child || child.pid !== pid) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const killTimer = setTimeout(() => {
        this.log.note(`pid ${pid} still running ${this.o.stopGraceMs} ms after SIGTERM: SIGKILL`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, this.o.stopGraceMs);
      this.exitWaiters.push(() => {
        clearTimeout(killTimer);
        resolve();
      });
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    });
  }

  /**
   * `sh` blocks on `read` from a pipe only the agent holds. When the agent dies the
   * kernel closes the pipe, read returns, and the watchdog TERMs then KILLs the
   * miner's process group. It runs in its own group so a signal to the agent's
   * group does not take it down first.
   */
  private startWatchdog(pgid: number): void {
    const graceS = Math.max(1, Math.ceil(this.o.stopGraceMs / 1000));
    // dash's kill takes no "--": "-TERM -<pgid>" signals the group.
    const script = `read _ ; kill -TERM -${pgid} 2>/dev/null ; sleep ${graceS} ; kill -KILL -${pgid} 2>/dev/null`;
    try {
      const watchdog = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      watchdog.once('error', () => undefined);
      watchdog.unref();
      (watchdog.stdin as unknown as Socket | null)?.unref?.();
      watchdog.stdin?.on('error', () => undefined);
      this.watchdog = watchdog;
    } catch {
      this.log.note('parent-death watchdog could not start; the exit hook still kills the miner on a normal agent exit');
    }
  }

  private stopWatchdog(): void {
    const watchdog = this.watchdog;
    this.watchdog = undefined;
    watchdog?.stdin?.destroy();
    if (watchdog?.pid !== undefined && watchdog.exitCode === null) {
      try {
        process.kill(watchdog.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
