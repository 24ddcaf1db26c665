import {
  DriverError, NO_CONTROL, type CollectContext, type ControlAction, type ControlCapabilities, type ControlResult,
  type MinerEndpoint, type PoolSpec,
} from '@rigwarden/drivers-core';
import { checkStatus, decodeReply, type CgminerClient, type CgminerReply } from './cgminer.client';
import { whatsminerDecrypt, whatsminerEnvelope, whatsminerSession, type WhatsminerSession } from './whatsminer-v2.crypto';

/** MicroBT documents a token lifetime of 30 minutes; renew a little earlier. */
const TOKEN_LIFETIME_MS = 25 * 60 * 1000;

export const WHATSMINER_WRITE_CONTROL: ControlCapabilities = Object.freeze({
  ...NO_CONTROL, setPools: true, restart: true, workMode: true,
});

/** Whatsminer power modes by work mode number: 0 low, 1 normal, 2 high. */
const POWER_MODE_COMMANDS = ['set_low_power', 'set_normal_power', 'set_high_power'] as const;

/**
 * Whatsminer API v2 writes: get_token, derive the AES key and sign from the admin
 * password, send {"enc":1,"data":...}, decrypt {"enc":"..."}. update_pools sets
 * the three pool slots; restart_btminer restarts the miner process.
 */
export class WhatsminerControl {
  private session: { value: WhatsminerSession; at: number } | undefined;

  constructor(
    private readonly client: CgminerClient,
    private readonly endpoint: MinerEndpoint,
    private readonly password: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    try {
      if (action.kind === 'restart') return { ok: true, action: action.kind, message: await this.write({ cmd: 'restart_btminer' }, ctx) };
      if (action.kind === 'workmode') {
        const cmd = POWER_MODE_COMMANDS[action.mode];
        if (!cmd) throw new DriverError('bad_request', `work mode ${action.mode}: Whatsminer knows 0 (low), 1 (normal), 2 (high)`, this.context('workmode'));
        return { ok: true, action: action.kind, message: await this.write({ cmd }, ctx) };
      }
      throw new DriverError('unsupported', `${action.kind} is not available through the Whatsminer API v2 in this driver`, this.context(action.kind));
    } catch (err) {
      return { ok: false, action: action.kind, error: this.asDriverError(err, action.kind) };
    }
  }

  async setPools(pools: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    try {
      if (pools.length === 0 || pools.length > 3) {
        throw new DriverError('bad_request', `Whatsminer has 3 pool slots; got ${pools.length} pools`, this.context('update_pools'));
      }
      const command: Record<string, string> = { cmd: 'update_pools' };
      for (let i = 0; i < 3; i++) {
        const p = pools[i];
        command[`pool${i + 1}`] = p?.url ?? '';
        command[`worker${i + 1}`] = p?.user ?? '';
        command[`passwd${i + 1}`] = p ? p.password ?? 'x' : '';
      }
      const message = await this.write(command, ctx);
      // Verify by rereading pools (plain read, numbered from 1).
      const reply = await this.client.command(this.endpoint, 'pools', undefined, { signal: ctx.signal });
      const listed = (Array.isArray(reply['POOLS']) ? reply['POOLS'] : []) as Record<string, unknown>[];
      const urls = listed.filter((p) => p['URL']).map((p) => String(p['URL']));
      const ok = pools.every((p, i) => urls[i] === p.url);
      if (!ok) throw new DriverError('miner_error', `verification failed: the miner reports ${urls.join(', ')}`, this.context('update_pools'));
      return { ok: true, action: 'setpools', message };
    } catch (err) {
      return { ok: false, action: 'setpools', error: this.asDriverError(err, 'update_pools') };
    }
  }

  /** Sends one encrypted command and returns the miner's Msg. Renews the token once on Code 135 (token error). */
  async write(command: Record<string, unknown>, ctx: CollectContext): Promise<string> {
    const tokenProblem = (err: unknown): err is DriverError =>
      err instanceof DriverError && [135, 136, 137].includes(err.context.statusCode ?? -1);
    try {
      return await this.writeOnce(command, ctx);
    } catch (err) {
      if (!tokenProblem(err)) throw err;
    }
    this.session = undefined;
    try {
      return await this.writeOnce(command, ctx);
    } catch (err) {
      if (!tokenProblem(err)) throw err;
      // A fresh token still rejected: the key derived from our password is not the miner's.
      throw new DriverError('access_denied', `the miner rejected our token after a fresh get_token: wrong admin password? (${err.context.statusMsg ?? ''})`,
        err.context, { cause: err });
    }
  }

  private async writeOnce(command: Record<string, unknown>, ctx: CollectContext): Promise<string> {
    const label = String(command['cmd']);
    const session = await this.token(ctx);
    const raw = await this.client.exchange(this.endpoint, whatsminerEnvelope(session, command), label, { signal: ctx.signal });
    const outer = decodeReply(raw.toString('latin1'), this.context(label));
    let reply: CgminerReply = outer;
    if (typeof outer['enc'] === 'string') {
      let plain: string;
      try {
        plain = whatsminerDecrypt(session.aesKey, outer['enc']);
      } catch (err) {
        throw new DriverError('parse', `cannot decrypt the reply: ${(err as Error).message}`, this.context(label), { cause: err });
      }
      reply = decodeReply(plain, this.context(label));
    }
    checkStatus(reply, this.context(label));
    return typeof reply['Msg'] === 'string' ? reply['Msg'] : String(reply['STATUS'] ?? 'ok');
  }

  private async token(ctx: CollectContext): Promise<WhatsminerSession> {
    if (this.session && this.now() - this.session.at < TOKEN_LIFETIME_MS) return this.session.value;
    const reply = await this.client.requestJson(this.endpoint, JSON.stringify({ cmd: 'get_token' }), 'get_token', { signal: ctx.signal });
    const msg = reply['Msg'];
    if (!msg || typeof msg !== 'object') {
      throw new DriverError('access_denied', `get_token refused: ${String(msg)} (is the API enabled for writes?)`, this.context('get_token'));
    }
    const { time, salt, newsalt } = msg as Record<string, unknown>;
    if (typeof time !== 'string' || typeof salt !== 'string' || typeof newsalt !== 'string') {
      throw new DriverError('parse', 'get_token reply lacks time/salt/newsalt', this.context('get_token'));
    }
    const value = whatsminerSession(this.password, { time, salt, newsalt });
    this.session = { value, at: this.now() };
    return value;
  }

  private context(command: string): { host: string; port: number; command: string } {
    return { host: this.endpoint.host, port: this.endpoint.port, command };
  }

  private asDriverError(err: unknown, command: string): DriverError {
    if (err instanceof DriverError) return err;
    return new DriverError('miner_error', (err as Error)?.message ?? String(err), this.context(command), { cause: err });
  }
}
