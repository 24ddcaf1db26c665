import { OneShotCgminerServer } from './one-shot-cgminer.server';

export interface RecordedMinerOptions {
  /** Reply bytes by command, exactly as recorded (trailing NUL included). An empty buffer: close with no bytes. */
  replies: ReadonlyMap<string, Buffer>;
  /** The program's recorded reply to an unknown command (cgminer's Code 14). */
  invalidCommand: Buffer;
  /** cgminer 3+ and bfgminer answer "a+b" with each part; cgminer 2.x answers Code 14 (invalidCommand). */
  joins: boolean;
  /** Called for every request, before the reply: may return other bytes (a scripted behaviour). */
  override?: (request: string, command: string, parameter: string | undefined) => Buffer | undefined;
}

/**
 * A loopback cgminer API that answers with recorded bytes: one request per connection, the reply, then close, as
 * the real programs do. Joined requests are built from the recorded parts the way cgminer builds them
 * ({"summary":[<reply>],"pools":[<reply>],"id":1}). Listens on 127.0.0.1 and an ephemeral port.
 */
export class RecordedMinerServer extends OneShotCgminerServer {

  constructor(private readonly options: RecordedMinerOptions) {
    super();
  }

  protected answer(request: string): Buffer {
    let command = '';
    let parameter: string | undefined;
    try {
      const parsed = JSON.parse(request) as { command?: unknown; parameter?: unknown };
      command = typeof parsed.command === 'string' ? parsed.command : '';
      parameter = parsed.parameter === undefined ? undefined : String(parsed.parameter);
    } catch {
      [command = '', parameter] = request.split('|');
    }
    const scripted = this.options.override?.(request, command, parameter);
    if (scripted) return scripted;
    const recorded = this.options.replies.get(command);
    if (recorded) return recorded;
    if (!command.includes('+') || !this.options.joins) return this.options.invalidCommand;
    const strip = (b: Buffer): string => b.subarray(0, b.indexOf(0) >= 0 ? b.indexOf(0) : b.length).toString('latin1');
    const parts = command.split('+').map((part) => `${JSON.stringify(part)}:[${strip(this.options.replies.get(part) ?? this.options.invalidCommand)}]`);
    return Buffer.concat([Buffer.from(`{${parts.join(',')},"id":1}`, 'latin1'), Buffer.from([0])]);
  }
}

/** The replies of a recorded session by command: the first reply recorded for each plain `{"command":"x"}` request. */
export function repliesByCommand(steps: readonly { request: string; response: Buffer }[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const s of steps) {
    const m = /^\{"command":"([a-z]+)"\}$/.exec(s.request);
    if (m && !out.has(m[1]!)) out.set(m[1]!, s.response);
  }
  return out;
}
