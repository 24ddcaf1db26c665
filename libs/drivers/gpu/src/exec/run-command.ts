import { spawn } from 'node:child_process';
import { GpuError, type GpuErrorContext } from '../gpu-error';

export interface RunOptions {
  /** Kill the process (SIGKILL) and fail with a timeout after this long. */
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Context for errors (GPU index, bus id). */
  context?: GpuErrorContext;
  /** Output larger than this is cut (a confused tool can print forever). */
  maxOutputBytes?: number;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool (nvidia-smi, nvidia-settings) without a shell and with a deadline:
 * after a GPU fault nvidia-smi can block forever in the driver. A timed-out process
 * is killed with SIGKILL. A missing executable is GpuError('not_installed').
 */
export function runCommand(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const command = [file, ...args].join(' ');
  const context: GpuErrorContext = { ...options.context, command };
  const maxBytes = options.maxOutputBytes ?? 1024 * 1024;
  if (options.signal?.aborted) return Promise.reject(new GpuError('aborted', 'aborted before start', context));
  return new Promise<RunResult>((resolve, reject) => {
    let settled = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const finish = (error: GpuError | undefined, result?: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(error);
      } else resolve(result!);
    };
    const onAbort = (): void => finish(new GpuError('aborted', 'aborted by the caller', context));
    const timer = setTimeout(() => finish(new GpuError('timeout', `no answer within ${options.timeoutMs} ms (killed); a GPU fault can hang the driver`, context)), options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const collect = (into: Buffer[]) => (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') finish(new GpuError('not_installed', `${file} is not installed or not on PATH`, context, { cause: e }));
      else if (e.code === 'EACCES') finish(new GpuError('permission_denied', `${file} is not executable`, context, { cause: e }));
      else finish(new GpuError('command_failed', `cannot run ${file}: ${e.message}`, context, { cause: e }));
    });
    child.once('close', (exitCode, signal) => finish(undefined, {
      exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
    }));
  });
}
