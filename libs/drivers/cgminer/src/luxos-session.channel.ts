import { DriverError, type CollectContext, type MinerEndpoint } from '@rigwarden/drivers-core';
import type { CgminerClient, CgminerReply } from './cgminer.client';
import type { PrivilegedChannel } from './cgminer-pool.control';
import { section, str } from './cgminer-values.util';

/**
 * LuxOS privileged commands: `logon` returns SESSION[0].SessionID, which is then
 * the first parameter of every privileged command ("switchpool" "SID,1"). LuxOS
 * allows one session at a time, so `session` is asked first and an open session is
 * reused; when LuxOS says the session is no longer valid, one fresh one is tried.
 */
export class LuxosSessionChannel implements PrivilegedChannel {
  private sessionId: string | undefined;

  constructor(private readonly client: CgminerClient, private readonly endpoint: MinerEndpoint) {}

  async send(command: string, parameter: string | undefined, ctx: CollectContext): Promise<CgminerReply> {
    const sid = await this.session(ctx);
    try {
      return await this.client.command(this.endpoint, command, parameter === undefined ? sid : `${sid},${parameter}`, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof DriverError && /session/i.test(err.context.statusMsg ?? '')) {
        this.sessionId = undefined;
        const fresh = await this.session(ctx);
        return this.client.command(this.endpoint, command, parameter === undefined ? fresh : `${fresh},${parameter}`, { signal: ctx.signal });
      }
      throw err;
    }
  }

  async logoff(ctx: CollectContext): Promise<void> {
    if (!this.sessionId) return;
    const sid = this.sessionId;
    this.sessionId = undefined;
    await this.client.command(this.endpoint, 'logoff', sid, { signal: ctx.signal });
  }

  private async session(ctx: CollectContext): Promise<string> {
    if (this.sessionId) return this.sessionId;
    try {
      const open = str(section(await this.client.command(this.endpoint, 'session', undefined, { signal: ctx.signal }), 'SESSION')[0]?.['SessionID']);
      if (open) {
        this.sessionId = open;
        return open;
      }
    } catch (err) {
      if (!(err instanceof DriverError) || !['unsupported', 'miner_error', 'parse'].includes(err.kind)) throw err;
    }
    const reply = await this.client.command(this.endpoint, 'logon', undefined, { signal: ctx.signal });
    const sid = str(section(reply, 'SESSION')[0]?.['SessionID']);
    if (!sid) {
      throw new DriverError('parse', 'logon reply has no SESSION[0].SessionID', { host: this.endpoint.host, port: this.endpoint.port, command: 'logon' });
    }
    this.sessionId = sid;
    return sid;
  }
}
