import { readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { GpuError, type GpuErrorContext } from '../gpu-error';

/**
 * sysfs reads and writes with a deadline. After a GPU fault an amdgpu sysfs read can
 * block in the kernel; Node cannot cancel it, so a path whose read is still stuck is
 * not read again (each stuck read holds one of libuv's few threads) until it returns.
 */
export class SysfsIo {
  private readonly stuck = new Map<string, Promise<unknown>>();

  constructor(readonly timeoutMs = 1_000) {}

  /** The file's trimmed text, or undefined when it does not exist. */
  async read(path: string, context: GpuErrorContext = {}): Promise<string | undefined> {
    return this.guard(path, `read ${basename(path)}`, context, async () => {
      try {
        return (await readFile(path, 'utf8')).trim();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw err;
      }
    });
  }

  async write(path: string, value: string, context: GpuErrorContext = {}): Promise<void> {
    await this.guard(path, `write ${basename(path)}=${value.trim()}`, context, () => writeFile(path, value.endsWith('\n') ? value : `${value}\n`));
  }

  async list(path: string, context: GpuErrorContext = {}): Promise<string[]> {
    return this.guard(path, `list ${basename(path)}`, context, async () => {
      try {
        return await readdir(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    });
  }

  async resolve(path: string, context: GpuErrorContext = {}): Promise<string> {
    return this.guard(path, `realpath ${basename(path)}`, context, () => realpath(path));
  }

  /** Paths whose earlier operation never returned. */
  stuckPaths(): string[] {
    return [...this.stuck.keys()];
  }

  private guard<T>(path: string, command: string, context: GpuErrorContext, op: () => Promise<T>): Promise<T> {
    const ctx: GpuErrorContext = { ...context, command, path };
    if (this.stuck.has(path)) {
      return Promise.reject(new GpuError('timeout', 'an earlier access to this file has not returned yet (GPU hung?)', ctx));
    }
    const pending = op();
    return new Promise<T>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        const settle = pending.then(() => undefined, () => undefined).finally(() => this.stuck.delete(path));
        this.stuck.set(path, settle);
        reject(new GpuError('timeout', `no answer within ${this.timeoutMs} ms (GPU hung?)`, ctx));
      }, this.timeoutMs);
      pending.then((value) => {
        clearTimeout(timer);
        if (!timedOut) resolve(value);
      }, (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (timedOut) return;
        if (err.code === 'EACCES' || err.code === 'EPERM') reject(new GpuError('permission_denied', `${err.code}: needs root or a writable sysfs file`, ctx, { cause: err }));
        else if (err.code === 'EINVAL') reject(new GpuError('out_of_range', 'the kernel refused the value (EINVAL)', ctx, { cause: err }));
        else reject(new GpuError('command_failed', `${err.code ?? ''} ${err.message}`.trim(), ctx, { cause: err }));
      });
    });
  }
}
