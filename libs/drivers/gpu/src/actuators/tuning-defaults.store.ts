import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GpuError } from '../gpu-error';

/** The values found for one setting before it was first changed, e.g. { powerLimitW: 220 }. */
export type DefaultValues = Record<string, number | string>;

/** Recorded defaults per GPU (key "nvidia:0000:01:00.0"), as [setting, values] in recording order. */
export interface TuningDefaultsStore {
  load(key: string): Promise<[string, DefaultValues][]>;
  save(key: string, entries: [string, DefaultValues][]): Promise<void>;
}

/**
 * One JSON file (in the agent's data dir) holding every GPU's recorded defaults,
 * rewritten atomically (temp file, then rename). Writes are serialised.
 */
export class FileTuningDefaultsStore implements TuningDefaultsStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async load(key: string): Promise<[string, DefaultValues][]> {
    return (await this.readAll())[key] ?? [];
  }

  save(key: string, entries: [string, DefaultValues][]): Promise<void> {
    const next = this.queue.then(async () => {
      const all = await this.readAll();
      if (entries.length === 0) delete all[key];
      else all[key] = entries;
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp-${process.pid}`;
      await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`);
      await rename(tmp, this.path);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readAll(): Promise<Record<string, [string, DefaultValues][]>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new GpuError('command_failed', `cannot read ${this.path}: ${(err as Error).message}`, { path: this.path, command: 'read tuning defaults' }, { cause: err });
    }
    try {
      return JSON.parse(text) as Record<string, [string, DefaultValues][]>;
    } catch (err) {
      throw new GpuError('parse', `${this.path} is not JSON: ${(err as Error).message}`, { path: this.path, command: 'read tuning defaults' }, { cause: err });
    }
  }
}

/** In memory, for tests and for agents without a data dir. */
export class MemoryTuningDefaultsStore implements TuningDefaultsStore {
  readonly data = new Map<string, [string, DefaultValues][]>();

  async load(key: string): Promise<[string, DefaultValues][]> {
    return this.data.get(key) ?? [];
  }

  async save(key: string, entries: [string, DefaultValues][]): Promise<void> {
    if (entries.length === 0) this.data.delete(key);
    else this.data.set(key, entries);
  }
}
