import { ArgvError, parseArgv, type ArgvToken } from '../cli/argv';
import { MinerRecorder } from './miner-recorder';

export const RECORD_USAGE = `usage: rigwarden-agent record --out DIR HOST:PORT [--interval MS] [--duration S] [--commands a,b,c] [--timeout MS]

Polls one miner's cgminer API like the agent does (version, summary, pools, devs, stats, lcd; one connection each)
and writes every request and reply byte for byte into DIR, with index.jsonl (time offset, duration, sha256 per
exchange). Stops after --duration seconds, or on Ctrl-C. Replay it with: rigwarden-simfarm --replay DIR`;

/** `rigwarden-agent record`: returns the exit code. */
export async function runRecordCommand(argv: string[], write: (s: string) => void, writeErr: (s: string) => void): Promise<number> {
  let out: string | undefined;
  let target: string | undefined;
  let intervalMs = 10_000;
  let durationS: number | undefined;
  let timeoutMs = 10_000;
  let commands: string[] | undefined;
  const fail = (message: string): number => {
    writeErr(`rigwarden-agent record: ${message}\n\n${RECORD_USAGE}`);
    return 2;
  };
  let tokens: ArgvToken[];
  try {
    tokens = parseArgv(argv, {
      out: { type: 'string', short: 'o' }, interval: { type: 'string' }, duration: { type: 'string' }, timeout: { type: 'string' },
      commands: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
  } catch (err) {
    if (err instanceof ArgvError) return fail(err.message);
    throw err;
  }
  const positive = (v: string | undefined): number | undefined => {
    const n = Number(v);
    return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (target !== undefined) return fail(`unexpected argument "${token.value}"`);
      target = token.value;
    } else if (token.name === 'out') out = token.value;
    else if (token.name === 'interval') {
      const n = positive(token.value);
      if (n === undefined) return fail('--interval needs a positive number of milliseconds');
      intervalMs = n;
    } else if (token.name === 'duration') {
      const n = positive(token.value);
      if (n === undefined) return fail('--duration needs a positive number of seconds');
      durationS = n;
    } else if (token.name === 'timeout') {
      const n = positive(token.value);
      if (n === undefined) return fail('--timeout needs a positive number of milliseconds');
      timeoutMs = n;
    } else if (token.name === 'commands') {
      if (!token.value) return fail('--commands needs a comma-separated list');
      commands = token.value.split(',').map((c) => c.trim()).filter((c) => c !== '');
    } else if (token.name === 'help') {
      write(RECORD_USAGE);
      return 0;
    }
  }
  if (!out) return fail('--out DIR is required');
  if (!target) return fail('HOST:PORT is required');
  const m = /^(.+?)(?::(\d+))?$/.exec(target);
  const host = m?.[1] ?? target;
  const port = m?.[2] ? Number(m[2]) : 4028;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`bad port in "${target}"`);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    write(`recording ${host}:${port} every ${intervalMs} ms into ${out}${durationS !== undefined ? ` for ${durationS} s` : ' (Ctrl-C stops)'}`);
    const summary = await new MinerRecorder({ host, port, outDir: out, intervalMs, durationS, timeoutMs, commands, signal: abort.signal }).run();
    write(`recorded ${summary.polls} polls, ${summary.exchanges} exchanges (${summary.bytes} bytes, ${summary.failures} without a reply) in ${summary.dir}`);
    return summary.polls > 0 && summary.failures < summary.exchanges ? 0 : 1;
  } catch (err) {
    writeErr(`rigwarden-agent record: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
