import {
  DriverError, type CollectContext, type ControlAction, type ControlResult, type MinerEndpoint, type PoolSpec,
} from '@rigwarden/drivers-core';
import type { CgminerClient, CgminerReply } from './cgminer.client';
import { statusEntries } from './cgminer.client';
import { section, str } from './cgminer-values.util';
import { mapPools } from './dialects/dialect-common';
import { CgminerPoolTransaction } from './cgminer-pool.transaction';

/** How privileged commands reach the miner: plainly (cgminer with W: access) or inside a session (LuxOS). */
export interface PrivilegedChannel {
  send(command: string, parameter: string | undefined, ctx: CollectContext): Promise<CgminerReply>;
}

export class PlainChannel implements PrivilegedChannel {
  constructor(private readonly client: CgminerClient, private readonly endpoint: MinerEndpoint) {}

  send(command: string, parameter: string | undefined, ctx: CollectContext): Promise<CgminerReply> {
    return this.client.command(this.endpoint, command, parameter, { signal: ctx.signal });
  }
}

/** A pool as `pools` reports it, reduced to what control needs. */
export interface PoolEntry {
  id: number;
  url: string;
  user: string;
  status: string;
  priority: number;
  /** The driver's guess of the pool in use (see mapPools). */
  inUse: boolean;
  /** The guess rests on the firmware's word (lcd "Current Pool", or the only pool with "Stratum Active"). */
  confident: boolean;
}

/** The pools of a `pools` reply, with the pool in use as lcd (when given) or the Stratum Active flags show it. */
export function poolEntries(reply: CgminerReply, lcd?: CgminerReply): PoolEntry[] {
  const mapped = mapPools({ pools: reply, ...(lcd ? { lcd } : {}) });
  const raw = section(reply, 'POOLS');
  return mapped.map((p, i) => ({
    id: p.index,
    url: p.url,
    user: p.user,
    status: str(raw[i]?.['Status']) ?? '',
    priority: p.priority ?? i,
    inUse: p.active,
    confident: p.active && (p.activeEvidence === 'lcd-current-pool' || p.activeEvidence === 'stratum-active'),
  }));
}

/** cgminer's addpool parameter: "url,user,pass" with "," and "\" escaped by a backslash. */
export function addPoolParameter(spec: PoolSpec): string {
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
  return [spec.url, spec.user, spec.password ?? 'x'].map(esc).join(',');
}

export const samePool = (a: { url: string; user: string }, b: { url: string; user: string }): boolean =>
  a.url.trim() === b.url.trim() && a.user.trim() === b.user.trim();

/**
 * Pool control for cgminer-compatible firmware: the single commands with the
 * firmware's rules checked first (so the error says why), and setPools as
 * read, modify, write, verify. Failures come back as `ok: false` with a typed
 * DriverError, including a miner that dies in the middle of a command.
 */
export class CgminerPoolControl {
  constructor(
    private readonly client: CgminerClient,
    private readonly endpoint: MinerEndpoint,
    private readonly channel: PrivilegedChannel,
  ) {}

  /** Whether the firmware answers lcd (cgminer 4.x does; 2.x and bfgminer answer Code 14 and are not asked again). */
  private lcdSupported = true;

  /** The pools; with `withLcd`, also lcd to know the pool in use (removepool and set-pools need it, switchpool not). */
  async readPools(ctx: CollectContext, withLcd = false): Promise<PoolEntry[]> {
    const pools = await this.client.command(this.endpoint, 'pools', undefined, { signal: ctx.signal });
    let lcd: CgminerReply | undefined;
    if (withLcd && this.lcdSupported) {
      try {
        lcd = await this.client.command(this.endpoint, 'lcd', undefined, { signal: ctx.signal });
      } catch (err) {
        if (!(err instanceof DriverError) || err.kind !== 'unsupported') throw err;
        this.lcdSupported = false;
      }
    }
    return poolEntries(pools, lcd);
  }

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    try {
      const message = await this.perform(action, ctx);
      return { ok: true, action: action.kind, message };
    } catch (err) {
      return { ok: false, action: action.kind, error: this.asDriverError(err, action.kind) };
    }
  }

  private async perform(action: ControlAction, ctx: CollectContext): Promise<string> {
    switch (action.kind) {
      case 'switchpool':
        await this.requirePool(action.pool, ctx, 'switchpool');
        return this.sendChecked('switchpool', String(action.pool), ctx);
      case 'enablepool':
        await this.requirePool(action.pool, ctx, 'enablepool');
        return this.sendChecked('enablepool', String(action.pool), ctx);
      case 'disablepool': {
        const pools = await this.requirePool(action.pool, ctx, 'disablepool');
        const enabled = pools.filter((p) => p.status !== 'Disabled');
        if (enabled.length === 1 && enabled[0]!.id === action.pool) {
          throw this.rule('disablepool', `pool ${action.pool} is the last enabled pool; the firmware refuses to disable it`);
        }
        return this.sendChecked('disablepool', String(action.pool), ctx);
      }
      case 'removepool': {
        const pools = await this.requirePool(action.pool, ctx, 'removepool', true);
        if (pools.length === 1) throw this.rule('removepool', `pool ${action.pool} is the last pool; the firmware refuses to remove it`);
        if (pools.find((p) => p.id === action.pool && p.inUse && p.confident)) {
          throw this.rule('removepool', `pool ${action.pool} is the pool in use; switch to another pool before removing it`);
        }
        return this.sendChecked('removepool', String(action.pool), ctx);
      }
      case 'addpool':
        if (!action.spec.url.trim() || !action.spec.user.trim()) throw this.rule('addpool', 'a pool needs a URL and a user');
        return this.sendChecked('addpool', addPoolParameter(action.spec), ctx);
      case 'poolpriority': {
        const pools = await this.readPools(ctx);
        const ids = new Set(pools.map((p) => p.id));
        if (action.order.length === 0) throw this.rule('poolpriority', 'an empty priority list');
        if (new Set(action.order).size !== action.order.length) throw this.rule('poolpriority', `duplicate pool in ${action.order.join(',')}`);
        const unknown = action.order.filter((id) => !ids.has(id));
        if (unknown.length) throw this.rule('poolpriority', `unknown pool ${unknown.join(',')}; the miner has ${[...ids].join(',')}`);
        return this.sendChecked('poolpriority', action.order.join(','), ctx);
      }
      case 'restart': {
        const message = await this.sendChecked('restart', undefined, ctx);
        if (!action.waitForApiMs) return message;
        return `${message}; ${await this.waitForApi(action.waitForApiMs, ctx)}`;
      }
      case 'quit':
        return this.sendChecked('quit', undefined, ctx);
      case 'frequency':
        if (!Number.isFinite(action.mhz) || action.mhz <= 0) throw this.rule('ascset', `invalid frequency ${action.mhz}`);
        return this.sendChecked('ascset', `0,frequency,${Math.round(action.mhz)}`, ctx);
      case 'workmode':
        // Canaan's syntax (Avalon 11xx and later): ascset|0,workmode,set,N.
        if (!Number.isInteger(action.mode) || action.mode < 0) throw this.rule('ascset', `invalid work mode ${action.mode}`);
        return this.sendChecked('ascset', `0,workmode,set,${action.mode}`, ctx);
    }
  }

  /** Makes the pool list exactly `wanted`, in order, as a transaction (see CgminerPoolTransaction). */
  async setPools(wanted: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    const transaction = new CgminerPoolTransaction(this.endpoint, this.channel, async (c) => ({ pools: await this.readPools(c, true) }));
    return transaction.run(wanted, ctx);
  }

  /** Polls `version` until the API answers again; the re-exec can also fail for good. */
  private async waitForApi(limitMs: number, ctx: CollectContext): Promise<string> {
    const started = performance.now();
    let last: unknown;
    while (performance.now() - started < limitMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (ctx.signal.aborted) break;
      try {
        await this.client.command(this.endpoint, 'version', undefined, { signal: ctx.signal });
        return `API back after ${Math.round(performance.now() - started)} ms`;
      } catch (err) {
        last = err;
      }
    }
    throw new DriverError('timeout', `the miner accepted restart but its API did not answer within ${limitMs} ms`,
      this.context('restart'), { cause: last });
  }

  private async requirePool(id: number, ctx: CollectContext, command: string, withLcd = false): Promise<PoolEntry[]> {
    if (!Number.isInteger(id) || id < 0) throw this.rule(command, `invalid pool number ${id}`);
    const pools = await this.readPools(ctx, withLcd);
    if (!pools.some((p) => p.id === id)) {
      throw this.rule(command, `no pool ${id}; the miner has ${pools.map((p) => p.id).join(',') || 'none'}`);
    }
    return pools;
  }

  private async sendChecked(command: string, parameter: string | undefined, ctx: CollectContext): Promise<string> {
    const reply = await this.channel.send(command, parameter, ctx);
    const status = statusEntries(reply)[0];
    return typeof status?.Msg === 'string' ? status.Msg : String(status?.STATUS ?? 'ok');
  }

  private context(command: string): { host: string; port: number; command: string } {
    return { host: this.endpoint.host, port: this.endpoint.port, command };
  }

  private rule(command: string, message: string): DriverError {
    return new DriverError('bad_request', message, this.context(command));
  }

  private asDriverError(err: unknown, command: string): DriverError {
    if (err instanceof DriverError) return err;
    return new DriverError('miner_error', (err as Error)?.message ?? String(err), this.context(command), { cause: err });
  }
}
